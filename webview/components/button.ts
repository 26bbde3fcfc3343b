// Buttons.
import { element } from './dom';

export interface ButtonOptions {
  readonly appearance?: 'primary' | 'secondary';
  readonly disabled?: boolean;
  /** Tooltip, also the accessible description. */
  readonly title?: string;
  readonly id?: string;
}

/** Creates a button that calls `onClick` when clicked or activated with Enter or Space. */
export function createButton(label: string, onClick: () => void, options: ButtonOptions = {}): HTMLElement {
  const button = element('vscode-button', {
    appearance: options.appearance ?? 'secondary',
    title: options.title,
    id: options.id,
    disabled: options.disabled,
  }, label);
  button.addEventListener('click', () => {
    if (!button.hasAttribute('disabled')) onClick();
  });
  return button;
}

/** Enables or disables a button made by `createButton`. */
export function setButtonDisabled(button: HTMLElement, disabled: boolean): void {
  button.toggleAttribute('disabled', disabled);
}

/** Switches a button made by `createButton` between the primary and the secondary look, e.g. for toggles. */
export function setButtonAppearance(button: HTMLElement, appearance: 'primary' | 'secondary'): void {
  // The property, not the attribute: the element reflects its property to the attribute asynchronously and
  // would overwrite an attribute set in the same task with the old value.
  (button as HTMLElement & { appearance: string }).appearance = appearance;
}

/** Changes the text of a button made by `createButton`. */
export function setButtonLabel(button: HTMLElement, label: string): void {
  button.textContent = label;
}
