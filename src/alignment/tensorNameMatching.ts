// Matching tensor names across checkpoints and spec files that differ only by a wrapper prefix:
// `module.` (DistributedDataParallel, DataParallel), `_orig_mod.` (torch.compile), `model.` (a Lightning
// module's `state_dict` when the network is its `model` attribute).

const WRAPPER_PREFIXES = ['module.', '_orig_mod.', 'model.'];

/** The wrapper prefixes that every name in `names` carries, outermost first, joined (e.g. `_orig_mod.module.`). */
export function commonWrapperPrefix(names: readonly string[]): string {
  if (names.length === 0) return '';
  let prefix = '';
  while (true) {
    const next = WRAPPER_PREFIXES.find((candidate) => names.every((name) => name.startsWith(prefix + candidate) && name.length > prefix.length + candidate.length));
    if (next === undefined) return prefix;
    prefix += next;
  }
}

/** Looks up names of one checkpoint by a name written with or without another source's wrapper prefix. */
export class TensorNameIndex {
  readonly prefix: string;
  private readonly names: ReadonlySet<string>;

  constructor(names: readonly string[]) {
    this.names = new Set(names);
    this.prefix = commonWrapperPrefix(names);
  }

  /**
   * Returns the stored name for `name` taken from a source whose common wrapper prefix is `sourcePrefix`:
   * the name itself when stored, else the name with the source's prefix replaced by this checkpoint's.
   */
  find(name: string, sourcePrefix: string): string | undefined {
    if (this.names.has(name)) return name;
    if (!name.startsWith(sourcePrefix)) return undefined;
    const candidate = this.prefix + name.slice(sourcePrefix.length);
    return this.names.has(candidate) ? candidate : undefined;
  }

  /** Name without this checkpoint's common wrapper prefix. */
  core(name: string): string {
    return name.startsWith(this.prefix) ? name.slice(this.prefix.length) : name;
  }
}
