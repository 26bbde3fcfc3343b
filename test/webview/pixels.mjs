// Canvas pixel read-outs for the webview tests (run in the page through `tab.evaluate`).
/* global document, getComputedStyle -- in code that runs in the page */

/** Returns [r, g, b, a] of device pixel (x, y) of the canvas matching `selector`. */
export async function pixelAt(tab, selector, x, y) {
  return tab.evaluate(({ selector, x, y }) => {
    const canvas = document.querySelector(selector);
    if (!canvas) throw new Error(`No canvas matches ${selector}.`);
    return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);
  }, { selector, x, y });
}

/** Counts pixels of the canvas within `tolerance` (max channel difference) of the CSS colour `color`. */
export async function countPixelsNear(tab, selector, color, tolerance = 40) {
  return tab.evaluate(({ selector, color, tolerance }) => {
    const canvas = document.querySelector(selector);
    if (!canvas) throw new Error(`No canvas matches ${selector}.`);
    const probe = document.createElement('span');
    probe.style.color = color;
    document.body.appendChild(probe);
    const [r, g, b] = getComputedStyle(probe).color.match(/[\d.]+/g).map(Number);
    probe.remove();
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - r) <= tolerance && Math.abs(data[i + 1] - g) <= tolerance && Math.abs(data[i + 2] - b) <= tolerance) count++;
    }
    return count;
  }, { selector, color, tolerance });
}

/** Resolves a CSS colour expression in the page to [r, g, b]. */
export async function resolveColor(tab, expression) {
  return tab.evaluate((expression) => {
    const probe = document.createElement('span');
    probe.style.color = expression;
    document.body.appendChild(probe);
    const rgb = getComputedStyle(probe).color.match(/[\d.]+/g).slice(0, 3).map(Number);
    probe.remove();
    return rgb;
  }, expression);
}

/** Position of `pixel` between `from` (0) and `to` (1), projected on the line between the two colours. */
export function colorPosition(pixel, from, to) {
  let dot = 0;
  let norm = 0;
  for (let c = 0; c < 3; c++) {
    dot += (pixel[c] - from[c]) * (to[c] - from[c]);
    norm += (to[c] - from[c]) ** 2;
  }
  return norm > 0 ? dot / norm : 0;
}
