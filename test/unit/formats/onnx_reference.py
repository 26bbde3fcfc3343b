"""Reference values for the ONNX conformance corpus, computed with the onnx package's numpy_helper.

Usage: /usr/bin/python3 onnx_reference.py CORPUS_DIR

Prints one JSON object per line:
- {"model": path, "initializers": [{"name", "type", "shape", "sha256"}]} for every */model.onnx;
- {"tensor": path, "type", "shape", "sha256"} for every test_data_set_*/{input,output}_*.pb that contains a tensor;
- {"skipped": path, "reason": ...} for .pb files that hold a sequence, map or optional, or string tensors.

sha256 is over the values converted to float32 little-endian for floating types of at most 32 bits, float64 for
DOUBLE, interleaved real and imaginary parts for complex types, and int64 little-endian for integers and booleans.
"""
import glob
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def value_hash(array):
    if np.iscomplexobj(array):
        parts = np.stack([array.real, array.imag], axis=-1)
        array = parts.astype("<f8" if array.dtype == np.complex128 else "<f4")
    elif array.dtype == np.float64:
        array = array.astype("<f8")
    elif np.issubdtype(array.dtype, np.floating):
        array = array.astype("<f4")
    else:
        array = array.astype("<i8")
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def describe_tensor(tensor):
    type_name = onnx.TensorProto.DataType.Name(tensor.data_type)
    array = numpy_helper.to_array(tensor)
    return {"type": type_name, "shape": list(tensor.dims), "sha256": value_hash(array)}


def value_kind(type_proto):
    return type_proto.WhichOneof("value")


def main(corpus):
    for model_path in sorted(glob.glob(os.path.join(corpus, "*", "*", "model.onnx"))):
        model = onnx.load(model_path)
        initializers = []
        for tensor in model.graph.initializer:
            if tensor.data_type == onnx.TensorProto.STRING:
                initializers.append({"name": tensor.name, "type": "STRING", "shape": list(tensor.dims)})
            else:
                initializers.append({"name": tensor.name, **describe_tensor(tensor)})
        print(json.dumps({"model": model_path, "initializers": initializers}))

        # ONNX's test runner reads input_i.pb with the type of graph.input[i], output_i.pb with graph.output[i].
        folder = os.path.dirname(model_path)
        for pb_path in sorted(glob.glob(os.path.join(folder, "test_data_set_*", "*.pb"))):
            stem = os.path.basename(pb_path)[: -len(".pb")]
            role, index = stem.rsplit("_", 1)
            values = model.graph.input if role == "input" else model.graph.output
            kind = value_kind(values[int(index)].type)
            if kind != "tensor_type":
                print(json.dumps({"skipped": pb_path, "reason": kind}))
                continue
            tensor = onnx.TensorProto()
            with open(pb_path, "rb") as handle:
                tensor.ParseFromString(handle.read())
            if tensor.data_type == onnx.TensorProto.STRING:
                print(json.dumps({"skipped": pb_path, "reason": "STRING"}))
                continue
            print(json.dumps({"tensor": pb_path, **describe_tensor(tensor)}))


if __name__ == "__main__":
    main(sys.argv[1])
