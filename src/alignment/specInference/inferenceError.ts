// The error every `--spec auto` tier throws when it cannot place a tensor; the next tier may still succeed.

export class SpecInferenceError extends Error {
  constructor(
    message: string,
    /** Tensors that this tier could not place, named as stored in checkpoint A. */
    readonly unplaced: readonly string[] = [],
  ) {
    super(message);
    this.name = 'SpecInferenceError';
  }
}
