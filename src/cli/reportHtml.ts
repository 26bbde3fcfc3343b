// Renders an `align` report as a self-contained HTML page a person can read: summary, objective per sweep,
// and per-layer cosine similarity before and after alignment. No scripts, no external resources.

/** The fields of the `align` report this page shows; the report carries more. */
export interface AlignReportSummary {
  readonly a: string;
  readonly b: string;
  readonly spec: { readonly source: string; readonly permutations: Readonly<Record<string, number>> };
  readonly objective: { readonly before: number; readonly after: number; readonly perSweep: readonly number[] };
  readonly sweeps: number;
  readonly distance: { readonly before: number; readonly after: number };
  readonly layers: readonly { readonly tensor: string; readonly cosineBefore: number; readonly cosineAfter: number }[];
  readonly executionProvider: string | { readonly name: string; readonly reason?: string };
  /** Provider that ran, with the reason, e.g. `cpu: CUDA provider not installed (…)`. */
  readonly executionProviderReason?: string;
  readonly seconds: Readonly<Record<string, number>>;
}

/** The fields of the `eval` curves this page shows. */
export interface CurvesSummary {
  readonly lambdas: readonly number[];
  readonly naive: { readonly loss: readonly number[]; readonly accuracy: readonly number[] };
  readonly aligned: { readonly loss: readonly number[]; readonly accuracy: readonly number[] };
  readonly barrier: { readonly naive: number; readonly aligned: number };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function number(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(5);
}

/** Draws one horizontal bar per layer: grey before, blue after alignment, on a 0..1 cosine scale (negatives clipped to 0). */
function cosineBars(layers: AlignReportSummary['layers']): string {
  const rowHeight = 22;
  const labelWidth = 260;
  const barWidth = 360;
  const height = layers.length * rowHeight + 24;
  const rows = layers.map((layer, index) => {
    const y = 20 + index * rowHeight;
    const before = Math.max(0, layer.cosineBefore) * barWidth;
    const after = Math.max(0, layer.cosineAfter) * barWidth;
    return [
      `<text x="0" y="${y + 12}" class="label">${escapeHtml(layer.tensor)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${before.toFixed(1)}" height="8" class="before"/>`,
      `<rect x="${labelWidth}" y="${y + 9}" width="${after.toFixed(1)}" height="8" class="after"/>`,
      `<text x="${labelWidth + barWidth + 8}" y="${y + 12}" class="label">${number(layer.cosineBefore)} → ${number(layer.cosineAfter)}</text>`,
    ].join('');
  });
  return `<svg width="${labelWidth + barWidth + 140}" height="${height}" role="img" aria-label="cosine similarity per layer">`
    + `<text x="${labelWidth}" y="12" class="label">cosine similarity, before (grey) and after (blue) alignment</text>${rows.join('')}</svg>`;
}

/** Draws test loss against λ, naive (grey) and aligned (blue), on axes from 0 to the largest loss. */
function lossChart(curves: CurvesSummary): string {
  const width = 520;
  const height = 260;
  const margin = { left: 48, right: 20, top: 12, bottom: 36 };
  const maxLoss = Math.max(...curves.naive.loss, ...curves.aligned.loss) * 1.05;
  const x = (lambda: number) => margin.left + lambda * (width - margin.left - margin.right);
  const y = (loss: number) => height - margin.bottom - (loss / maxLoss) * (height - margin.top - margin.bottom);
  const path = (losses: readonly number[]) => losses.map((loss, index) => `${index === 0 ? 'M' : 'L'}${x(curves.lambdas[index]).toFixed(1)},${y(loss).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((lambda) => `<text x="${x(lambda)}" y="${height - margin.bottom + 16}" class="label" text-anchor="middle">${lambda}</text>`).join('');
  return `<svg width="${width}" height="${height}" role="img" aria-label="test loss along the interpolation path">`
    + `<line x1="${margin.left}" y1="${height - margin.bottom}" x2="${width - margin.right}" y2="${height - margin.bottom}" stroke="#999"/>`
    + `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${height - margin.bottom}" stroke="#999"/>`
    + `${ticks}<text x="${width / 2}" y="${height - 4}" class="label" text-anchor="middle">λ</text>`
    + `<text x="4" y="${margin.top + 10}" class="label">${number(maxLoss)}</text><text x="4" y="${height - margin.bottom}" class="label">0</text>`
    + `<path d="${path(curves.naive.loss)}" fill="none" stroke="#9aa0a6" stroke-width="2"/>`
    + `<path d="${path(curves.aligned.loss)}" fill="none" stroke="#1a73e8" stroke-width="2"/>`
    + '</svg>';
}

function curvesSection(curves: CurvesSummary): string {
  return `<h2>Test loss along (1−λ)·A + λ·B</h2>
<p>Mean cross-entropy on the test data at each λ. Naive averaging (grey): loss barrier ${number(curves.barrier.naive)}. After weight matching (blue): loss barrier ${number(curves.barrier.aligned)}.</p>
${lossChart(curves)}`;
}

export function renderAlignReportHtml(report: AlignReportSummary, curves?: CurvesSummary): string {
  const provider = report.executionProviderReason ?? (typeof report.executionProvider === 'string'
    ? report.executionProvider
    : `${report.executionProvider.name}${report.executionProvider.reason ? ` (${report.executionProvider.reason})` : ''}`);
  const permutations = Object.entries(report.spec.permutations).map(([name, size]) => `${escapeHtml(name)} (${size})`).join(', ');
  const seconds = Object.entries(report.seconds).map(([stage, value]) => `${escapeHtml(stage)} ${value.toFixed(3)} s`).join(', ');
  const sweeps = report.objective.perSweep.map((value, index) => `<tr><td>${index + 1}</td><td>${number(value)}</td></tr>`).join('');

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Weight matching: ${escapeHtml(report.b)} onto ${escapeHtml(report.a)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; color: #1f2328; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: left; border-bottom: 1px solid #ddd; }
.label { font: 12px system-ui, sans-serif; fill: #1f2328; } .before { fill: #9aa0a6; } .after { fill: #1a73e8; }
</style></head><body>
<h1>Weight matching report</h1>
<table>
<tr><th>model A</th><td>${escapeHtml(report.a)}</td></tr>
<tr><th>model B</th><td>${escapeHtml(report.b)}</td></tr>
<tr><th>permutation spec</th><td>${escapeHtml(report.spec.source)}</td></tr>
<tr><th>permutations</th><td>${permutations}</td></tr>
<tr><th>objective Σ⟨A, π(B)⟩</th><td>${number(report.objective.before)} → ${number(report.objective.after)}</td></tr>
<tr><th>distance ‖A − π(B)‖</th><td>${number(report.distance.before)} → ${number(report.distance.after)}</td></tr>
<tr><th>sweeps</th><td>${report.sweeps}</td></tr>
<tr><th>execution provider</th><td>${escapeHtml(provider)}</td></tr>
<tr><th>time</th><td>${seconds}</td></tr>
</table>
${curves ? curvesSection(curves) : ''}
<h2>Per-layer similarity</h2>
${cosineBars(report.layers)}
<h2>Objective after each sweep</h2>
<table><tr><th>sweep</th><th>objective</th></tr>${sweeps}</table>
</body></html>
`;
}
