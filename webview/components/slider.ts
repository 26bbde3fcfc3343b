// Range slider. The toolkit has no slider, so this wraps a native range input styled by media/webview.css.
import { element } from './dom';

export interface SliderOptions {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly value: number;
  readonly ariaLabel: string;
  readonly id?: string;
}

export interface Slider {
  readonly element: HTMLInputElement;
  value: number;
}

/** Creates a slider that calls `onInput` with the new value while it moves. */
export function createSlider(options: SliderOptions, onInput: (value: number) => void): Slider {
  const input = element('input', {
    type: 'range',
    class: 'slider',
    min: options.min,
    max: options.max,
    step: options.step,
    'aria-label': options.ariaLabel,
    id: options.id,
  });
  input.value = String(options.value);
  input.addEventListener('input', () => onInput(Number(input.value)));

  return {
    element: input,
    get value() {
      return Number(input.value);
    },
    set value(value: number) {
      input.value = String(value);
    },
  };
}
