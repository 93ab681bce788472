#!/usr/bin/env python3
"""Makes the already-quantized models of the tests with onnxruntime's static quantizer (see
PROVENANCE.md): QDQ and QOperator forms of mnist_cnn and the QDQ form of ppocr_cls, per-channel
int8 weights and uint8 activations (onnxruntime's fastest INT8 setting), calibrated on the first
64 vectors of each model's calib.npy; and onnxruntime's outputs of each on the first N test
inputs, the reference the tests compare nibble's C with.

    python3 tests-data/qdq/make.py [NAME…]     # from the repository root; onnxruntime 1.32

`mnist_dyn.onnx` is onnxruntime's dynamic quantization of mnist_cnn (quantize_dynamic, int8
weights per channel; activations quantized at run time), which nibble compiles with static
activation grids.
"""
import os, sys
import numpy as np, onnx
from onnx import version_converter
from onnxruntime import InferenceSession
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_dynamic, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
N = 200  # test inputs in each reference (all 20 of ppocr_cls)


def quantize(model, calib, dst, fmt):
    m = onnx.load(model)
    opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0]
    if opset < 13:  # per-channel DequantizeLinear (axis) needs opset 13
        m = version_converter.convert_version(m, 13)
    tmp = dst + ".tmp.onnx"
    onnx.save(m, tmp)
    quant_pre_process(tmp, tmp, skip_symbolic_shape=True)
    x = np.load(calib)[:64]
    name = m.graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{name: x[i:i + 1]} for i in range(len(x))])

        def get_next(self):
            return next(self.it, None)

    quantize_static(tmp, dst, Reader(), quant_format=fmt, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    os.remove(tmp)


def reference(model, x, dst):
    s = InferenceSession(model, providers=["CPUExecutionProvider"])
    outs = [s.run(None, {s.get_inputs()[0].name: x[i:i + 1]})[0] for i in range(len(x))]
    np.save(dst, np.concatenate(outs).astype(np.float32))


MODELS = [("mnist_qdq", "mnist_cnn", QuantFormat.QDQ),
          ("mnist_qop", "mnist_cnn", QuantFormat.QOperator),
          ("ppocr_cls_qdq", "ppocr_cls", QuantFormat.QDQ),
          ("mnist_dyn", "mnist_cnn", "dynamic")]

if __name__ == "__main__":
    for name, src, fmt in MODELS:
        if len(sys.argv) > 1 and name not in sys.argv[1:]:
            continue
        d = os.path.join(DATA, src)
        out = os.path.join(HERE, name + ".onnx")
        if fmt == "dynamic":
            quantize_dynamic(os.path.join(d, "model.onnx"), out, weight_type=QuantType.QInt8,
                             per_channel=True)
        else:
            quantize(os.path.join(d, "model.onnx"), os.path.join(d, "calib.npy"), out, fmt)
        x = np.load(os.path.join(d, "test_x.npy"))[:N]
        reference(out, x, os.path.join(HERE, name + "_ort_out0.npy"))
        print(name, "written")
