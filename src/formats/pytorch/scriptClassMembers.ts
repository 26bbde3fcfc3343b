// Parameter and buffer names of TorchScript classes, read from the `code/` records of a TorchScript archive. Each
// module class there starts with lines such as
//   class Linear(Module):
//     __parameters__ = ["weight", "bias", ]
//     __buffers__ = []
// and state_dict() contains exactly those attributes, parameters first, each list in its order. Other tensor
// attributes of the module are plain attributes, which state_dict() leaves out. The records are only read as
// text: nothing in them is compiled or run.

/** The state_dict() members of one TorchScript class, in order. */
export interface ScriptClassMembers {
  readonly parameters: readonly string[];
  readonly buffers: readonly string[];
}

/**
 * Returns the `code/` record that defines `className` and the class's name inside it: `__torch__.a.b.C` is class
 * `C` of `code/__torch__/a/b.py`, relative to the archive's folder.
 */
export function scriptClassSource(className: string): { readonly record: string; readonly name: string } | undefined {
  const dot = className.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const module = className.slice(0, dot);
  if (module !== '__torch__' && !module.startsWith('__torch__.')) return undefined;
  return { record: `code/${module.split('.').join('/')}.py`, name: className.slice(dot + 1) };
}

const CLASS_LINE = /^class\s+([A-Za-z_][\w]*)\s*[(:]/;
const MEMBER_LINE = /^\s+(__parameters__|__buffers__)\s*=\s*\[(.*)\]\s*$/;
const QUOTED_NAME = /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'/g;

/**
 * Parses every class of one `code/` record whose body declares both `__parameters__` and `__buffers__`. A class
 * missing either line is left out, so its caller keeps all of its tensor attributes.
 */
export function parseScriptClassMembers(source: string): Map<string, ScriptClassMembers> {
  const classes = new Map<string, ScriptClassMembers>();
  let current: { name: string; parameters?: string[]; buffers?: string[] } | undefined;
  const finish = (): void => {
    if (current?.parameters !== undefined && current.buffers !== undefined) {
      classes.set(current.name, { parameters: current.parameters, buffers: current.buffers });
    }
  };
  for (const line of source.split('\n')) {
    const classMatch = CLASS_LINE.exec(line);
    if (classMatch !== null) {
      finish();
      current = { name: classMatch[1] };
      continue;
    }
    const memberMatch = MEMBER_LINE.exec(line);
    if (current === undefined || memberMatch === null) continue;
    const names = [...memberMatch[2].matchAll(QUOTED_NAME)].map((match) => match[1] ?? match[2]);
    if (memberMatch[1] === '__parameters__') current.parameters ??= names;
    else current.buffers ??= names;
  }
  finish();
  return classes;
}
