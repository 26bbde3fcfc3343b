// Similarity matrix as an image on a canvas, downsampled by block maximum to the canvas's pixel size.
import { downsampleBlockMax, type SquareMatrix } from '../logic/blockMax';
import { prepareCanvas } from './canvas';

/** Matrix that `drawHeatmap` drew, at the drawn resolution, for hover read-outs. */
export interface DrawnHeatmap {
  readonly shown: SquareMatrix;
  /** CSS pixel side of the canvas. */
  readonly cssSize: number;
}

/**
 * Draws `matrix` into `canvas` as a `cssSize`×`cssSize` square. Values map linearly from `range` onto `ramp`
 * (256 packed RGBA colours); NaN cells take the first ramp colour. A matrix wider than the canvas's pixel size is
 * reduced by block maximum first, so a single high cell stays visible at any n.
 */
export function drawHeatmap(
  canvas: HTMLCanvasElement,
  matrix: SquareMatrix,
  range: readonly [number, number],
  ramp: Uint32Array,
  cssSize: number,
): DrawnHeatmap {
  const context = prepareCanvas(canvas, cssSize, cssSize);
  const pixels = canvas.width;
  const shown = downsampleBlockMax(matrix, pixels);
  const side = shown.size;

  const image = new ImageData(side, side);
  const packed = new Uint32Array(image.data.buffer);
  const [low, high] = range;
  const scale = high > low ? 255 / (high - low) : 0;
  for (let i = 0; i < shown.data.length; i++) {
    const value = shown.data[i];
    const index = value === value ? Math.round((value - low) * scale) : 0;
    packed[i] = ramp[Math.min(255, Math.max(0, index))];
  }

  context.setTransform(1, 0, 0, 1, 0, 0);
  if (side === pixels) {
    context.putImageData(image, 0, 0);
  } else {
    // Fewer units than pixels: scale up with hard edges so every unit stays a visible block.
    const source = document.createElement('canvas');
    source.width = side;
    source.height = side;
    source.getContext('2d')?.putImageData(image, 0, 0);
    context.imageSmoothingEnabled = false;
    context.drawImage(source, 0, 0, pixels, pixels);
  }
  return { shown, cssSize };
}
