// Lists the tensors of a TorchScript archive (torch.jit.save, ScriptModule.save) under the names the scripted
// module's state_dict() gives them: `<submodule path>.<attribute>`, where submodules are the attributes that hold
// other TorchScript objects. In data.pkl the root module is such an object, and its parameters and buffers are
// tensor attributes.
//
// When the archive's code/ records declare a class's `__parameters__` and `__buffers__`, only those attributes
// are listed, parameters first, as state_dict() orders them. A tensor attribute that is neither (`self.x = tensor`
// before scripting) is then left out, as state_dict() leaves it out. A class without those declarations lists
// every tensor attribute in stored order.
//
// Three things are left out on purpose. Non-tensor attributes (training flags, a None bias, padding lists) are
// not in state_dict() either, and the archive's code/ records define them. Tensors inside a list or dict attribute
// are not parameters or buffers. constants.pkl contains constants of the compiled code, not module state.
import type { CheckpointLayout, NamedTensorRef } from './layout';
import { isScriptObject, isTensorRef, type ScriptObject, type TensorRef } from './interpret';
import type { ScriptClassMembers } from './scriptClassMembers';

/** Looks up the declared members of a TorchScript class by its qualified name. */
export type ScriptClassLookup = (className: string) => ScriptClassMembers | undefined;

/**
 * Flattens the root module into named tensors. Metadata marks the file as TorchScript, because
 * `torch.jit.load` would compile and run the code/ records, and names the root class.
 */
export function layoutScriptModule(root: ScriptObject, classMembers: ScriptClassLookup = () => undefined): CheckpointLayout {
  const tensors: NamedTensorRef[] = [];
  // A submodule stored once but reachable under two names (a tied module) is expanded under its first name only,
  // so that crafted sharing cannot multiply the names. state_dict() would list it under both.
  const firstPath = new Map<ScriptObject, string>([[root, '']]);
  const sharedModules: Record<string, string> = {};
  // Depth-first, as state_dict() orders modules: a module's own tensors, then each submodule's.
  const pending: Array<[string, ScriptObject]> = [['', root]];
  while (pending.length > 0) {
    const [path, module] = pending.pop() as [string, ScriptObject];
    const submodules: Array<[string, ScriptObject]> = [];
    const qualify = (attribute: string): string => (path === '' ? attribute : `${path}.${attribute}`);
    for (const [attribute, tensor] of stateTensors(module, classMembers(module.className))) tensors.push({ name: qualify(attribute), tensor });
    for (const [attribute, value] of module.attributes) {
      const name = qualify(attribute);
      if (isScriptObject(value)) {
        const earlier = firstPath.get(value);
        if (earlier !== undefined) {
          sharedModules[name] = earlier;
          continue;
        }
        firstPath.set(value, name);
        submodules.push([name, value]);
      }
    }
    for (let i = submodules.length - 1; i >= 0; i--) pending.push(submodules[i]);
  }

  const metadata: Record<string, unknown> = { torchscript: true, torchscriptClass: root.className };
  if (Object.keys(sharedModules).length > 0) metadata.torchscriptSharedModules = sharedModules;
  return { tensors, metadata };
}

/**
 * Returns the tensor attributes of `module` that state_dict() lists: its declared parameters, then its declared
 * buffers, skipping those set to None. Without declarations, every tensor attribute in stored order.
 */
function stateTensors(module: ScriptObject, members: ScriptClassMembers | undefined): Array<[string, TensorRef]> {
  const tensorAttributes = module.attributes.filter((entry): entry is [string, TensorRef] => isTensorRef(entry[1]));
  if (members === undefined) return tensorAttributes;
  const byName = new Map(tensorAttributes);
  return [...members.parameters, ...members.buffers].flatMap((name) => {
    const tensor = byName.get(name);
    return tensor === undefined ? [] : [[name, tensor] as [string, TensorRef]];
  });
}
