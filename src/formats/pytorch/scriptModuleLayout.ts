// Lists the tensors of a TorchScript archive (torch.jit.save, ScriptModule.save) under the names the scripted
// module's state_dict() gives them: `<submodule path>.<attribute>`, where submodules are the attributes that hold
// other TorchScript objects. In data.pkl the root module is such an object, and its parameters and buffers are
// tensor attributes.
//
// Three things are left out on purpose. Non-tensor attributes (training flags, a None bias, padding lists) are
// not in state_dict() either, and the archive's code/ records define them. Tensors inside a list or dict attribute
// are not parameters or buffers. constants.pkl contains constants of the compiled code, not module state.
// NOTE: a tensor attribute that is neither a parameter nor a buffer (`self.x = tensor` before scripting) is listed,
// although state_dict() leaves it out. The `__parameters__` and `__buffers__` lines of code/ would tell them apart.
import type { CheckpointLayout, NamedTensorRef } from './layout';
import { isScriptObject, isTensorRef, type ScriptObject } from './interpret';

/**
 * Flattens the root module into named tensors. Metadata marks the file as TorchScript, because
 * `torch.jit.load` would compile and run the code/ records, and names the root class.
 */
export function layoutScriptModule(root: ScriptObject): CheckpointLayout {
  const tensors: NamedTensorRef[] = [];
  // A submodule stored once but reachable under two names (a tied module) is expanded under its first name only,
  // so that crafted sharing cannot multiply the names. state_dict() would list it under both.
  const firstPath = new Map<ScriptObject, string>([[root, '']]);
  const sharedModules: Record<string, string> = {};
  // Depth-first, as state_dict() orders modules: a module's own tensors in stored order, then each submodule's.
  const pending: Array<[string, ScriptObject]> = [['', root]];
  while (pending.length > 0) {
    const [path, module] = pending.pop() as [string, ScriptObject];
    const submodules: Array<[string, ScriptObject]> = [];
    for (const [attribute, value] of module.attributes) {
      const name = path === '' ? attribute : `${path}.${attribute}`;
      if (isTensorRef(value)) tensors.push({ name, tensor: value });
      else if (isScriptObject(value)) {
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
