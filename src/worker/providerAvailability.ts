// The onnxruntime execution provider `auto` can use on this machine, for the inspector's header, found from the
// bundled backends and the CUDA provider library without creating a session.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

const ACCELERATORS: Partial<Record<NodeJS.Platform, string>> = { linux: 'cuda', win32: 'dml', darwin: 'coreml' };

/** Returns `cpu`, or the platform's accelerator (`cuda`, `dml`, `coreml`) when its provider is installed. */
export function availableExecutionProvider(): string {
  const accelerator = ACCELERATORS[process.platform];
  if (accelerator === undefined) return 'cpu';
  const backend = ort.listSupportedBackends().find((candidate) => candidate.name === accelerator);
  if (backend === undefined) return 'cpu';
  if (accelerator === 'cuda' && !backend.bundled) {
    // onnxruntime-node downloads the CUDA provider library only when installed with ONNXRUNTIME_NODE_INSTALL.
    const packageRoot = dirname(require.resolve('onnxruntime-node/package.json'));
    const library = join(packageRoot, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
    return existsSync(library) ? 'cuda' : 'cpu';
  }
  return accelerator;
}
