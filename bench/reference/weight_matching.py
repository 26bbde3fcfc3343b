"""NumPy + SciPy reference of weight matching, for the benchmark in bench/weightMatching.ts.

Usage:
  /usr/bin/python3 bench/reference/weight_matching.py generate OUT_DIR --widths 2048,2048,2048 [--inputs 784] [--classes 10] [--noise 0.1] [--seed 0]
  /usr/bin/python3 bench/reference/weight_matching.py match A.safetensors B.safetensors SPEC.permspec.json [--precision float32|float64] [--max-sweeps 100]
  /usr/bin/python3 bench/reference/weight_matching.py products --rows N --columns M [--gather] [--precision float32|float64] [--repeats 5]

`generate` writes a random MLP as A, and as B a copy of A with Gaussian noise (standard deviation `noise` times
the weight's) whose hidden units are permuted at random, plus the chain spec, and prints their paths as JSON. `match` runs the same algorithm as
matchWeights in sorted visiting order and prints {"seconds", "cpuSeconds", "loadSeconds", "sweeps", "objectiveBefore",
"objectiveAfter", "peakRssBytes", "permutations"}. `products` times A @ B.T (with --gather, A @ B[:, q].T) and prints
{"seconds", "cpuSeconds", "gflops"}. Timings are the median of the repeats, measured with time.perf_counter
(wall clock) and time.process_time (CPU time of all threads).
"""
import argparse
import json
import resource
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

DTYPES = {"F32": "<f4", "F64": "<f8"}


def read_safetensors(path, precision):
    data = Path(path).read_bytes()
    header_length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + header_length])
    header.pop("__metadata__", None)
    start = 8 + header_length
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        values = np.frombuffer(data[start + begin:start + end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
        tensors[name] = values.astype(precision)
    return tensors


def write_safetensors(path, tensors):
    header, offset, chunks = {}, 0, []
    for name, values in tensors.items():
        raw = np.ascontiguousarray(values, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(values.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)) + text)
        for chunk in chunks:
            file.write(chunk)


def generate(args):
    rng = np.random.default_rng(args.seed)
    widths = [int(width) for width in args.widths.split(",")]
    sizes = [args.inputs, *widths, args.classes]
    a, b, axes = {}, {}, {}
    hidden = [rng.permutation(width) for width in widths]
    for layer in range(len(sizes) - 1):
        name = f"fc{layer + 1}"
        weight = rng.standard_normal((sizes[layer + 1], sizes[layer]), dtype=np.float32) / np.sqrt(sizes[layer])
        bias = rng.standard_normal(sizes[layer + 1], dtype=np.float32) * 0.01
        a[f"{name}.weight"], a[f"{name}.bias"] = weight, bias
        noisy_weight = weight + rng.standard_normal(weight.shape, dtype=np.float32) * args.noise * weight.std()
        noisy_bias = bias + rng.standard_normal(bias.shape, dtype=np.float32) * args.noise * bias.std()
        rows = hidden[layer] if layer < len(widths) else np.arange(sizes[layer + 1])
        columns = hidden[layer - 1] if layer > 0 else np.arange(sizes[layer])
        b[f"{name}.weight"] = noisy_weight[rows][:, columns]
        b[f"{name}.bias"] = noisy_bias[rows]
        output = f"P_{name}" if layer < len(widths) else None
        previous = f"P_fc{layer}" if layer > 0 else None
        axes[f"{name}.weight"] = [output, previous]
        axes[f"{name}.bias"] = [output]
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_safetensors(out / "a.safetensors", a)
    write_safetensors(out / "b.safetensors", b)
    (out / "mlp.permspec.json").write_text(json.dumps({"axes": axes}, indent=1))
    print(json.dumps({"a": str(out / "a.safetensors"), "b": str(out / "b.safetensors"), "spec": str(out / "mlp.permspec.json")}))


def axis_entry(entry):
    """(permutation, outer, inner) of a spec axis entry, or None."""
    if entry is None:
        return None
    if isinstance(entry, str):
        return entry, 1, 1
    return entry["perm"], entry["outer"], entry["inner"]


def take_units(values, axis, entry, perm):
    """take(values, perm) on the units of one axis, viewed as (outer, n, inner) for grouped entries."""
    _, outer, inner = entry
    shape = values.shape
    grouped = values.reshape(*shape[:axis], outer, shape[axis] // (outer * inner), inner, *shape[axis + 1:])
    return np.take(grouped, perm, axis=axis + 1).reshape(shape)


def units_first(values, axis, entry):
    """(n, rest) matrix whose rows are the units of one axis."""
    _, outer, inner = entry
    shape = values.shape
    grouped = values.reshape(*shape[:axis], outer, shape[axis] // (outer * inner), inner, *shape[axis + 1:])
    return np.moveaxis(grouped, axis + 1, 0).reshape(grouped.shape[axis + 1], -1)


def permuted(values, axes, perms, skip=None):
    for axis, entry in enumerate(axes):
        if entry is not None and axis != skip:
            values = take_units(values, axis, entry, perms[entry[0]])
    return values


def objective(a, b, spec, perms):
    return float(sum(np.vdot(a[name].astype(np.float64), permuted(b[name], axes, perms).astype(np.float64)) for name, axes in spec.items()))


def match(args):
    load_start = time.perf_counter()
    a = read_safetensors(args.a, args.precision)
    b = read_safetensors(args.b, args.precision)
    raw = json.loads(Path(args.spec).read_text())["axes"]
    spec = {name: [axis_entry(entry) for entry in entries] for name, entries in raw.items() if any(entry is not None for entry in entries)}
    sizes = {}
    for name, axes in spec.items():
        for axis, entry in enumerate(axes):
            if entry is not None:
                sizes[entry[0]] = a[name].shape[axis] // (entry[1] * entry[2])
    load_seconds = time.perf_counter() - load_start

    start = time.perf_counter()
    cpu_start = time.process_time()
    perms = {name: np.arange(size) for name, size in sizes.items()}
    before = objective(a, b, spec, perms)
    sweeps = 0
    for sweeps in range(1, args.max_sweeps + 1):
        improved = False
        for name in sorted(sizes):
            similarity = np.zeros((sizes[name], sizes[name]), dtype=args.precision)
            for tensor, axes in spec.items():
                for axis, entry in enumerate(axes):
                    if entry is not None and entry[0] == name:
                        other = permuted(b[tensor], axes, perms, skip=axis)
                        similarity += units_first(a[tensor], axis, entry) @ units_first(other, axis, entry).T
            rows, columns = linear_sum_assignment(similarity, maximize=True)
            current = similarity[rows, perms[name]].astype(np.float64).sum()
            gain = similarity[rows, columns].astype(np.float64).sum() - current
            threshold = 1e-12 * abs(before) if args.precision == "float32" else 1e-12
            if gain > threshold:
                perms[name] = columns
                improved = True
        if not improved:
            break
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    after = objective(a, b, spec, perms)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "cpuSeconds": cpu_seconds, "loadSeconds": load_seconds, "sweeps": sweeps, "objectiveBefore": before, "objectiveAfter": after, "peakRssBytes": peak,
                      "permutations": {name: perm.tolist() for name, perm in perms.items()}}))


def products(args):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((args.rows, args.columns)).astype(args.precision)
    b = rng.standard_normal((args.rows, args.columns)).astype(args.precision)
    q = rng.permutation(args.columns)
    durations, cpu_durations = [], []
    for _ in range(args.repeats + 1):
        start = time.perf_counter()
        cpu_start = time.process_time()
        _ = a @ (b[:, q] if args.gather else b).T
        durations.append(time.perf_counter() - start)
        cpu_durations.append(time.process_time() - cpu_start)
    seconds = statistics.median(durations[1:])
    print(json.dumps({"seconds": seconds, "cpuSeconds": statistics.median(cpu_durations[1:]), "gflops": 2 * args.rows * args.rows * args.columns / seconds / 1e9}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    generate_parser = commands.add_parser("generate")
    generate_parser.add_argument("out_dir")
    generate_parser.add_argument("--widths", required=True)
    generate_parser.add_argument("--inputs", type=int, default=784)
    generate_parser.add_argument("--classes", type=int, default=10)
    generate_parser.add_argument("--noise", type=float, default=0.1)
    generate_parser.add_argument("--seed", type=int, default=0)
    match_parser = commands.add_parser("match")
    match_parser.add_argument("a")
    match_parser.add_argument("b")
    match_parser.add_argument("spec")
    match_parser.add_argument("--precision", choices=["float32", "float64"], default="float32")
    match_parser.add_argument("--max-sweeps", type=int, default=100)
    products_parser = commands.add_parser("products")
    products_parser.add_argument("--rows", type=int, required=True)
    products_parser.add_argument("--columns", type=int, required=True)
    products_parser.add_argument("--gather", action="store_true")
    products_parser.add_argument("--precision", choices=["float32", "float64"], default="float32")
    products_parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    {"generate": generate, "match": match, "products": products}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
