// Verdicts on the globals a pickle references. The allow-list starts from what the `weights_only` loader of
// torch 1.13 accepts (torch/_weights_only_unpickler.py). It adds `_rebuild_parameter_with_state` and
// `_rebuild_tensor_v3`, which newer torch versions write (not checked against a newer torch here), and the plain
// containers of Lightning checkpoints. The dangerous list names modules and functions that reach the process,
// the file system, the network, code evaluation or the import machinery. TorchScript archives add `__torch__.*`
// classes, which get a verdict of their own, and the list helpers of `torch.jit._pickle`.
import type { GlobalVerdict } from '../checkpoint';

/** Storage classes and the dtype of their elements (`torch.<Name>` and `torch.cuda.<Name>`). */
export const STORAGE_DTYPES: Readonly<Record<string, string>> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8',
  ByteStorage: 'U8', BoolStorage: 'BOOL',
  ComplexFloatStorage: 'C64', ComplexDoubleStorage: 'C128',
  QInt8Storage: 'QINT8', QUInt8Storage: 'QUINT8', QInt32Storage: 'QINT32',
  QUInt4x2Storage: 'QUINT4X2', QUInt2x4Storage: 'QUINT2X4',
};

/** `torch.<name>` dtype objects and the dtype they denote. */
export const TORCH_DTYPES: Readonly<Record<string, string>> = {
  float32: 'F32', float: 'F32', float16: 'F16', half: 'F16', bfloat16: 'BF16', float64: 'F64', double: 'F64',
  int64: 'I64', long: 'I64', int32: 'I32', int: 'I32', int16: 'I16', short: 'I16', int8: 'I8', uint8: 'U8',
  bool: 'BOOL', float8_e4m3fn: 'F8_E4M3', float8_e5m2: 'F8_E5M2',
  complex32: 'C32', complex64: 'C64', complex128: 'C128', cfloat: 'C64', cdouble: 'C128',
};

const ALLOWED = new Set<string>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_sparse_csr_tensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_wrapper_subclass',
  'torch._tensor._rebuild_from_type',
  'torch._tensor._rebuild_from_type_v2',
  'torch.nn.parameter.Parameter',
  'torch.serialization._get_layout',
  'torch.storage.UntypedStorage',
  'torch.storage.TypedStorage',
  'torch.Size',
  'torch.Tensor',
  'torch.device',
  'torch.strided',
  'torch.sparse_coo',
  'torch.per_tensor_affine',
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytearray',
  'builtins.slice',
  'builtins.complex',
  '__builtin__.set',
  '__builtin__.frozenset',
  '__builtin__.bytearray',
  // Protocol 2 pickles bytes as _codecs.encode(text, 'latin1').
  '_codecs.encode',
  // Hyper-parameter containers of Lightning and argparse: plain attribute bags.
  'argparse.Namespace',
  'pytorch_lightning.utilities.parsing.AttributeDict',
  'lightning_fabric.utilities.data.AttributeDict',
  'lightning.fabric.utilities.data.AttributeDict',
]);

/**
 * Helpers that TorchScript's pickler writes around typed lists (e.g. a Conv2d's padding). In torch 1.13
 * (torch/jit/_pickle.py) each returns its first argument, or None, and does nothing else. They are checked before
 * DANGEROUS_MODULES, which lists all of `torch.jit`.
 */
const TORCHSCRIPT_HELPERS = new Set<string>([
  'build_intlist', 'build_tensorlist', 'build_doublelist', 'build_boollist', 'build_tensor_from_id', 'restore_type_tag',
]);

/** Modules whose every member (and every submodule's member) is dangerous. */
const DANGEROUS_MODULES = [
  'os', 'posix', 'nt', 'posixpath', 'ntpath', 'subprocess', '_posixsubprocess', 'runpy', 'shutil', 'socket', '_socket',
  'ssl', 'webbrowser', 'importlib', 'imp', 'pkgutil', 'zipimport', 'pickle', '_pickle', 'cPickle', 'pickletools',
  'dill', 'cloudpickle', 'joblib', 'marshal', 'sys', 'pty', 'ctypes', '_ctypes', 'cffi', 'code', 'codeop',
  'commands', 'popen2', 'multiprocessing', '_multiprocessing', 'signal', 'asyncio', '_thread', 'thread',
  'threading', 'urllib', 'urllib2', 'http', 'httplib', 'ftplib', 'smtplib', 'telnetlib', 'requests', 'io', '_io',
  'fileinput', 'tempfile', 'glob', 'pathlib', 'pdb', 'bdb', 'timeit', 'profile', 'cProfile', 'trace', 'platform',
  'pip', 'setuptools', 'distutils', 'venv', 'ensurepip', 'torch.hub', 'torch.jit',
];

/** Single functions that evaluate code, reach attributes by name, or open files. */
const DANGEROUS_NAMES = new Set<string>([
  ...['eval', 'exec', 'execfile', 'compile', 'getattr', 'setattr', 'delattr', '__import__', 'open', 'input',
    'breakpoint', 'globals', 'locals', 'vars', 'file', 'reload', 'apply'].flatMap((name) => [`builtins.${name}`, `__builtin__.${name}`]),
  'types.FunctionType', 'types.CodeType', 'types.LambdaType', 'types.MethodType', 'types.ModuleType',
  'operator.attrgetter', 'operator.methodcaller', 'operator.call',
  '_operator.attrgetter', '_operator.methodcaller', '_operator.call',
  'numpy.testing._private.utils.runstring',
  'torch.load', 'torch.serialization.load', 'torch.storage._load_from_bytes',
]);

/**
 * Classifies `module.name`: `allowed` for the allow-list, `dangerous` for the lists above, `torchscript-class` for
 * a class of module `__torch__` or one of its submodules, else `unknown`.
 */
export function classifyGlobal(module: string, name: string): GlobalVerdict {
  const full = `${module}.${name}`;
  if (module === 'torch.jit._pickle' && TORCHSCRIPT_HELPERS.has(name)) return 'allowed';
  if (DANGEROUS_NAMES.has(full)) return 'dangerous';
  if (DANGEROUS_MODULES.some((prefix) => module === prefix || module.startsWith(`${prefix}.`))) return 'dangerous';
  if (ALLOWED.has(full)) return 'allowed';
  if ((module === 'torch' || module === 'torch.cuda') && Object.hasOwn(STORAGE_DTYPES, name)) return 'allowed';
  if (module === 'torch' && Object.hasOwn(TORCH_DTYPES, name)) return 'allowed';
  // Python has no module named `__torch__`: torch.jit.load resolves these names from the archive's code/ records.
  if (module === '__torch__' || module.startsWith('__torch__.')) return 'torchscript-class';
  return 'unknown';
}
