// Theme colours for canvas drawing, read from the `--vscode-*` variables VS Code sets on the webview.
import { flattenOnto, parseCssColor, type Rgba } from '../logic/colorScale';

let probe: HTMLElement | undefined;

/**
 * Resolves a CSS colour expression, e.g. `var(--vscode-charts-blue)`, to RGBA by letting the browser compute it
 * on a hidden element, so hex, rgb() and named colours all come back in one form. Returns `fallback` when the
 * variable is not set.
 */
export function resolveColor(expression: string, fallback: Rgba): Rgba {
  if (!probe) {
    probe = document.createElement('span');
    probe.className = 'color-probe';
    document.body.appendChild(probe);
  }
  probe.style.color = '';
  probe.style.color = expression;
  const computed = probe.style.color ? getComputedStyle(probe).color : '';
  return parseCssColor(computed) ?? fallback;
}

const black: Rgba = { r: 0, g: 0, b: 0, a: 1 };
const white: Rgba = { r: 255, g: 255, b: 255, a: 1 };

/** The colours every chart uses, all opaque (translucent theme colours are composited onto the background). */
export interface ChartTheme {
  readonly background: Rgba;
  readonly foreground: Rgba;
  readonly muted: Rgba;
  readonly grid: Rgba;
  readonly blue: Rgba;
  readonly orange: Rgba;
  readonly red: Rgba;
  readonly green: Rgba;
  readonly purple: Rgba;
  readonly fontFamily: string;
}

/** Reads the chart colours from the current theme. */
export function readChartTheme(): ChartTheme {
  const background = resolveColor('var(--vscode-editor-background)', black);
  const opaque = (expression: string, fallback: Rgba) => flattenOnto(resolveColor(expression, fallback), background);
  const foreground = opaque('var(--vscode-editor-foreground, var(--vscode-foreground))', white);
  return {
    background,
    foreground,
    muted: opaque('var(--vscode-descriptionForeground)', foreground),
    grid: opaque('var(--vscode-charts-lines)', { r: 128, g: 128, b: 128, a: 0.5 }),
    blue: opaque('var(--vscode-charts-blue)', { r: 55, g: 148, b: 255, a: 1 }),
    orange: opaque('var(--vscode-charts-orange)', { r: 209, g: 134, b: 22, a: 1 }),
    red: opaque('var(--vscode-charts-red)', { r: 241, g: 76, b: 76, a: 1 }),
    green: opaque('var(--vscode-charts-green)', { r: 137, g: 209, b: 133, a: 1 }),
    purple: opaque('var(--vscode-charts-purple)', { r: 179, g: 128, b: 255, a: 1 }),
    fontFamily: getComputedStyle(document.body).fontFamily || 'sans-serif',
  };
}

/** Calls `onChange` when VS Code switches theme, which it signals by changing the body's class list. */
export function watchThemeChanges(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
