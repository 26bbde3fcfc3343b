// Layer tensors, the tensors `--spec auto` must place. A layer stored as quantized blocks or integers is still a
// layer, because leaving it out would link the layers on either side of it into a spec of a different function.
import type { TensorEntry } from '../../formats/checkpoint';
import { dtypeSize, isFloatingDType } from '../../formats/dtype';

/** Last name component of a layer parameter: `.weight`, `_bias`, `/kernel`, BatchNorm statistics and similar. */
const LAYER_PARAMETER = /(?:^|[._/])(weight|bias|kernel|scale|embedding|running_mean|running_var)$/;

/**
 * Returns true for every floating tensor, every tensor stored as quantized blocks (a GGUF type without an element
 * size), and any other non-scalar tensor whose name ends like a layer parameter. Integer scalars
 * (`num_batches_tracked`, step counters) and integer buffers with other names (`position_ids`) are not layers.
 */
export function isLayerTensor(entry: TensorEntry): boolean {
  if (isFloatingDType(entry.dtype)) return true;
  if (dtypeSize(entry.dtype) === undefined) return true;
  return entry.shape.length > 0 && LAYER_PARAMETER.test(entry.name);
}
