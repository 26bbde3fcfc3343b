// Walks two float32 or float64 chunk streams of equally long tensors in lockstep, re-cutting chunks so both sides of each
// yielded pair have the same length, whatever chunk sizes each reader produces.

type FloatChunk = Float32Array | Float64Array;

export async function* pairChunks(
  a: AsyncIterable<FloatChunk>,
  b: AsyncIterable<FloatChunk>,
): AsyncGenerator<readonly [FloatChunk, FloatChunk]> {
  const iteratorA = a[Symbol.asyncIterator]();
  const iteratorB = b[Symbol.asyncIterator]();
  let chunkA: FloatChunk = new Float32Array(0);
  let chunkB: FloatChunk = new Float32Array(0);

  while (true) {
    if (chunkA.length === 0) chunkA = await nextChunk(iteratorA);
    if (chunkB.length === 0) chunkB = await nextChunk(iteratorB);
    if (chunkA.length === 0 || chunkB.length === 0) {
      if (chunkA.length !== chunkB.length) throw new Error('the two tensors ended at different lengths while being compared');
      return;
    }
    const length = Math.min(chunkA.length, chunkB.length);
    yield [chunkA.subarray(0, length), chunkB.subarray(0, length)];
    chunkA = chunkA.subarray(length);
    chunkB = chunkB.subarray(length);
  }
}

/** Returns the next non-empty chunk, or an empty array at the end of the stream. */
async function nextChunk(iterator: AsyncIterator<FloatChunk>): Promise<FloatChunk> {
  while (true) {
    const step = await iterator.next();
    if (step.done) return new Float32Array(0);
    if (step.value.length > 0) return step.value;
  }
}
