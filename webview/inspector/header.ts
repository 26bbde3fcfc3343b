// The inspector's header: what the file is and what it contains.
import type { InspectorData } from '../../src/protocol/webviewMessages';
import { elementCount } from '../../src/formats/checkpoint';
import { createBadge } from '../components/badge';
import { element } from '../components/dom';
import { formatBytes, formatCount, formatParameterCount } from '../logic/format';

function fact(label: string, ...value: (Node | string)[]): HTMLElement {
  return element('div', { class: 'fact' }, element('dt', {}, label), element('dd', {}, ...value));
}

/** Builds the header: format, file size, tensor count, parameter count, dtypes present and execution provider. */
export function createHeader(data: InspectorData): HTMLElement {
  let parameters = 0;
  const dtypeCounts = new Map<string, number>();
  for (const tensor of data.tensors) {
    parameters += elementCount(tensor.shape);
    dtypeCounts.set(tensor.dtype, (dtypeCounts.get(tensor.dtype) ?? 0) + 1);
  }

  const dtypes = element('span', { class: 'dtype-list' });
  for (const [dtype, count] of [...dtypeCounts].sort((a, b) => b[1] - a[1])) {
    dtypes.appendChild(createBadge(dtype, 'neutral', `${formatCount(count)} tensors of ${dtype}`));
  }

  const provider = data.executionProvider
    ? data.executionProvider
    : element('span', { class: 'muted' }, 'none (evaluation unavailable)');

  return element('header', { class: 'inspector-header' },
    element('h1', { class: 'file-name', title: data.fileName }, data.fileName),
    element('dl', { class: 'facts' },
      fact('Format', data.format),
      fact('File size', element('span', { title: `${formatCount(data.fileSize)} bytes` }, formatBytes(data.fileSize))),
      fact('Tensors', formatCount(data.tensors.length)),
      fact('Parameters', element('span', { title: formatCount(parameters) }, formatParameterCount(parameters))),
      fact('Dtypes', dtypes),
      fact('Execution provider', provider),
    ),
  );
}
