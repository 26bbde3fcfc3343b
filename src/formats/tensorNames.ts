// Tensor names without the prefixes that training wrappers add, so that the same model saved with and without
// a wrapper lines up. DataParallel and DistributedDataParallel add `module.` in front of every name, and
// torch.compile adds an `_orig_mod.` segment wherever a compiled module sits (`model._orig_mod.fc.weight`).

/**
 * Removes every leading `module.` and every `_orig_mod.` segment, in any order and at any depth.
 * A `module.` segment after the first name segment stays, because a submodule may be named `module`.
 */
export function normalizeTensorName(name: string): string {
  const segments = name.split('.');
  const kept: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const isLast = i === segments.length - 1;
    if (!isLast && segment === '_orig_mod') continue;
    if (!isLast && segment === 'module' && kept.length === 0) continue;
    kept.push(segment);
  }
  return kept.join('.');
}
