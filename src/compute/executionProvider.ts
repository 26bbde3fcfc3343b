// Choosing the onnxruntime-node execution provider for the similarity products, with the reason recorded.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
export type ExecutionProviderName = Exclude<ExecutionProviderChoice, 'auto'>;

export interface ExecutionProviderUsed {
  readonly name: ExecutionProviderName;
  /** Reason this provider ran, e.g. `cpu: CUDA provider not installed (…)`. */
  readonly reason: string;
}

const LABELS: Record<ExecutionProviderName, string> = { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML' };

/** Returns the accelerator `auto` tries on each platform before falling back to the CPU. */
function acceleratorFor(platform: NodeJS.Platform): ExecutionProviderName | undefined {
  if (platform === 'linux') return 'cuda';
  if (platform === 'win32') return 'dml';
  if (platform === 'darwin') return 'coreml';
  return undefined;
}

/** Returns the reason `provider` cannot run here, or undefined when a session creation attempt is worth making. */
function unavailableReason(provider: ExecutionProviderName): string | undefined {
  const backend = ort.listSupportedBackends().find((candidate) => candidate.name === provider);
  if (backend === undefined) return `${LABELS[provider]} provider not available in this onnxruntime-node build`;
  // onnxruntime-node lists CUDA as not bundled: its provider library is downloaded only when installed with the
  // CUDA flag. Checking for the library first avoids an error log from the failed load.
  if (provider === 'cuda' && !backend.bundled && !existsSync(join(bindingFolder(), 'libonnxruntime_providers_cuda.so'))) {
    return 'CUDA provider not installed (run ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci to opt in)';
  }
  return undefined;
}

function bindingFolder(): string {
  const packageRoot = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(packageRoot, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Creates an inference session for `model` (bytes, or a file path) on the requested provider. `auto` tries the platform's accelerator
 * (CUDA on Linux, DirectML on Windows, CoreML on macOS) and falls back to the CPU with the reason. An explicitly
 * requested provider that cannot start is an error. `purpose` names the step in errors ("the similarity products of
 * weight matching"), so onnxruntime's own text never reaches the user without saying what failed.
 */
export async function createSession(
  model: Uint8Array | string,
  choice: ExecutionProviderChoice,
  purpose = 'a model',
): Promise<{ session: ort.InferenceSession; provider: ExecutionProviderUsed }> {
  const options = (provider: ExecutionProviderName): ort.InferenceSession.SessionOptions => ({
    executionProviders: [provider],
    // Severity 4 (fatal) keeps onnxruntime from printing its errors to stderr: each one is also thrown, and the
    // message below carries it once, after a sentence naming the step.
    logSeverityLevel: 4,
  });
  const create = (sessionOptions: ort.InferenceSession.SessionOptions) =>
    typeof model === 'string' ? ort.InferenceSession.create(model, sessionOptions) : ort.InferenceSession.create(model, sessionOptions);
  const createOnCpu = async (reason: string) => {
    try {
      return { session: await create(options('cpu')), provider: { name: 'cpu' as const, reason } };
    } catch (error) {
      throw new OnnxRuntimeError(`creating the onnxruntime CPU session for ${purpose} failed`, error);
    }
  };

  if (choice === 'cpu') return createOnCpu('cpu: requested');
  const accelerator = choice === 'auto' ? acceleratorFor(process.platform) : choice;
  if (accelerator === undefined) return createOnCpu(`cpu: no accelerator is tried on ${process.platform}`);

  let failure = unavailableReason(accelerator);
  if (failure === undefined) {
    try {
      const session = await create(options(accelerator));
      return { session, provider: { name: accelerator, reason: `${accelerator}: ${choice === 'auto' ? 'available' : 'requested'}` } };
    } catch (error) {
      failure = `creating a ${LABELS[accelerator]} session failed: ${(error as Error).message}`;
    }
  }
  if (choice !== 'auto') throw new Error(`execution provider ${choice} cannot run: ${failure}; use --execution-provider auto or cpu`);
  return createOnCpu(`cpu: ${failure}`);
}

/** An onnxruntime failure, with a sentence of ours naming the step before onnxruntime's own message. */
export class OnnxRuntimeError extends Error {
  constructor(step: string, cause: unknown) {
    super(`${step}. onnxruntime reported: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'OnnxRuntimeError';
  }
}
