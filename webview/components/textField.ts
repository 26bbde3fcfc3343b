// Single-line text input, used as the filter box.
import { element } from './dom';

export interface TextFieldOptions {
  readonly placeholder?: string;
  readonly value?: string;
  /** Accessible name when no visible label is given. */
  readonly ariaLabel: string;
  readonly id?: string;
}

export interface TextField {
  readonly element: HTMLElement;
  value: string;
  focus(): void;
}

/** Creates a text field that calls `onInput` with the new value on every edit. */
export function createTextField(options: TextFieldOptions, onInput: (value: string) => void): TextField {
  const field = element('vscode-text-field', {
    placeholder: options.placeholder,
    'aria-label': options.ariaLabel,
    id: options.id,
  }) as HTMLElement & { value: string };
  field.value = options.value ?? '';
  field.addEventListener('input', () => onInput(field.value));

  return {
    element: field,
    get value() {
      return field.value;
    },
    set value(text: string) {
      field.value = text;
    },
    focus: () => field.focus(),
  };
}
