// One onnxruntime session per alignment computing the similarity matrix C_p of one permutation per run.
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { FloatTensor } from '../formats/checkpoint';
import type { ResolvedSpec } from '../alignment/permutationSpec';
import { createSession, OnnxRuntimeError, type ExecutionProviderChoice, type ExecutionProviderUsed } from './executionProvider';
import { buildSimilarityModel, EXTERNAL_DATA_FILE, type ExternalWeights, type Precision, type SimilarityModel } from './similarityModel';

const PURPOSE = 'the similarity products of weight matching';

export class SimilaritySession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly model: Omit<SimilarityModel, 'bytes'>,
    private readonly sizes: ReadonlyMap<string, number>,
    readonly provider: ExecutionProviderUsed,
  ) {}

  /**
   * Builds the model from the cost tensors of `spec` and starts a session on the chosen execution provider.
   * Weights above `inMemoryLimitBytes` (default just under 2 GiB) go through a temporary model folder with
   * external data, removed once the session exists.
   */
  static async create(
    spec: ResolvedSpec,
    a: ReadonlyMap<string, FloatTensor>,
    b: ReadonlyMap<string, FloatTensor>,
    options: { readonly precision: Precision; readonly executionProvider: ExecutionProviderChoice; readonly inMemoryLimitBytes?: number },
  ): Promise<SimilaritySession> {
    const { bytes, inputs, outputs, external } = buildSimilarityModel(spec, a, b, options.precision, options.inMemoryLimitBytes);
    // onnxruntime rejects a model without outputs with an internal assertion, so this case is named here instead.
    if (outputs.size === 0) {
      throw new Error(`${spec.source}: no cost tensor has a permuted axis, so weight matching has no similarity to compute; check the spec's "axes" and "cost"`);
    }
    if (external === undefined) {
      const { session, provider } = await createSession(bytes, options.executionProvider, PURPOSE);
      return new SimilaritySession(session, { inputs, outputs }, spec.permutations, provider);
    }

    const folder = await mkdtemp(join(tmpdir(), 'checkpoint-aligner-'));
    try {
      const modelPath = join(folder, 'similarity.onnx');
      await writeFile(modelPath, bytes);
      await writeExternalWeights(join(folder, EXTERNAL_DATA_FILE), external);
      const { session, provider } = await createSession(modelPath, options.executionProvider, PURPOSE);
      return new SimilaritySession(session, { inputs, outputs }, spec.permutations, provider);
    } finally {
      // NOTE: on Linux and macOS a file onnxruntime still maps stays readable after removal; on Windows the
      // removal may fail while the session lives, and the folder is then left in the temporary directory.
      await rm(folder, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Returns whether any cost tensor has an axis on `permutation`; without one its similarity matrix is zero. */
  hasCostTerms(permutation: string): boolean {
    return this.model.outputs.has(permutation);
  }

  /**
   * Returns C_p (row-major n×n): C[i][j] is the inner product of A's unit i with B's unit j, other axes of B
   * permuted by `permutations`.
   */
  async similarity(permutation: string, permutations: ReadonlyMap<string, ArrayLike<number>>): Promise<Float32Array | Float64Array> {
    const output = this.model.outputs.get(permutation);
    if (output === undefined) throw new Error(`permutation "${permutation}" has no cost terms`);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, { indices, select }] of this.model.inputs) {
      const size = this.sizes.get(name) as number;
      const perm = permutations.get(name);
      const values = new BigInt64Array(size);
      for (let i = 0; i < size; i++) values[i] = BigInt(perm === undefined ? i : perm[i]);
      feeds[indices] = new ort.Tensor('int64', values, [size]);
      feeds[select] = new ort.Tensor('bool', new Uint8Array([name === permutation ? 1 : 0]), [1]);
    }
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(feeds, [output]);
    } catch (error) {
      throw new OnnxRuntimeError(`computing the similarity matrix of permutation "${permutation}" for weight matching failed`, error);
    }
    const data = result[output].data;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) throw new Error(`onnxruntime returned ${result[output].type} for ${output}`);
    return data;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

async function writeExternalWeights(path: string, external: ExternalWeights): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (const { offset, data } of external.chunks) {
      await handle.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, offset);
    }
    await handle.truncate(external.size);
  } finally {
    await handle.close();
  }
}
