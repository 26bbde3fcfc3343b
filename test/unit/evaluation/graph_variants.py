"""Write variants of an exported ONNX model for evaluation tests.

Usage: /usr/bin/python3 graph_variants.py MODEL.onnx OUTPUT_FOLDER BATCH

Writes `fixed_batch.onnx`, with the batch axis of every graph input and output fixed to BATCH, and
`float64.onnx`, with every float32 initializer, input and output converted to float64 (the values are exact).
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper


def fixed_batch(model, batch):
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_value = batch
    return model


def float64(model):
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.data_type == TensorProto.FLOAT:
            converted = numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float64), tensor.name)
            model.graph.initializer[index].CopyFrom(converted)
    for value in list(model.graph.input) + list(model.graph.output):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.DOUBLE
    return model


def main():
    path, folder, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    onnx.save(fixed_batch(onnx.load(path), batch), os.path.join(folder, "fixed_batch.onnx"))
    converted = float64(onnx.load(path))
    onnx.checker.check_model(converted)
    onnx.save(converted, os.path.join(folder, "float64.onnx"))


if __name__ == "__main__":
    main()
