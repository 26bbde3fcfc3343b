// Writes a wide MLP as safetensors, large enough that weight matching runs for several seconds, so a test has
// time to cancel it. Values come from a seeded generator, so two seeds give two different models.
import { writeFileSync } from 'node:fs';

/** Layer shapes `[out, in]` of fc1…fc3, as in the MLP fixtures but wider. */
export function wideMlpLayers(hidden) {
  return [['fc1', hidden, 784], ['fc2', hidden, hidden], ['fc3', 10, hidden]];
}

/** Uniform values in [-scale, scale) from a 32-bit xorshift generator. */
function fillUniform(array, seed, scale) {
  let state = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < array.length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    array[i] = ((state / 4294967296) * 2 - 1) * scale;
  }
}

/** Writes `path` with float32 weights and biases for `hidden` units per hidden layer. */
export function writeWideMlp(path, hidden, seed) {
  const tensors = [];
  for (const [name, out, inputs] of wideMlpLayers(hidden)) {
    tensors.push([`${name}.weight`, [out, inputs]], [`${name}.bias`, [out]]);
  }

  const header = {};
  const arrays = [];
  let offset = 0;
  tensors.forEach(([name, shape], index) => {
    const data = new Float32Array(shape.reduce((product, size) => product * size, 1));
    fillUniform(data, seed * 1000 + index, 1 / Math.sqrt(shape.at(-1)));
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
    arrays.push(data);
  });

  // The header is padded with spaces to a multiple of 8 bytes, as the safetensors format allows.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  writeFileSync(path, Buffer.concat([length, headerBytes, ...arrays.map((array) => Buffer.from(array.buffer))]));
}
