#!/usr/bin/env python3
"""How much of a CTC text model's INT8 loss is in its weights alone.

Fake-quantizes every Conv weight and every MatMul weight constant to symmetric int8 per output
channel (activations stay float), runs onnxruntime FP32 on the evaluation lines and reports the
share of lines decoded exactly as the unquantized model decodes them. `--mse` clips each
channel's range where the squared error is least; `--per-layer` also keeps one layer at a time
in float (which layer's weights matter).

Usage: bench/weights_only_int8.py MODEL_DIR [--limit N] [--mse] [--per-layer]
       (MODEL_DIR with model.onnx and test_x.npy, e.g. ../shared/models/ppocr_rec)
"""
import argparse
import copy

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def constants(m):
    d = {i.name: i for i in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    d[n.output[0]] = a.t
    return d


def weights(m):
    d = constants(m)
    out = []
    for n in m.graph.node:
        if n.op_type == "Conv":
            out.append((n.name, n.input[1], 0))
        elif n.op_type == "MatMul" and n.input[1] in d:
            out.append((n.name, n.input[1], 1))
    return out


def fake_quant(w, axis, mse):
    red = tuple(i for i in range(w.ndim) if i != axis)
    s = np.abs(w).max(axis=red, keepdims=True) / 127
    s[s == 0] = 1
    if not mse:
        return np.clip(np.round(w / s), -127, 127) * s
    best_e, best_q = None, None
    for a in np.linspace(0.5, 1.0, 26):
        q = np.clip(np.round(w / (s * a)), -127, 127) * (s * a)
        e = ((q - w) ** 2).sum(axis=red, keepdims=True)
        if best_e is None:
            best_e, best_q = e, q
        else:
            better = e < best_e
            best_e = np.where(better, e, best_e)
            best_q = np.where(np.broadcast_to(better, w.shape), q, best_q)
    return best_q


def quantized(base, mse, keep=None):
    m = copy.deepcopy(base)
    d = constants(m)
    for name, w_name, axis in weights(m):
        if name == keep:
            continue
        w = numpy_helper.to_array(d[w_name]).astype(np.float64)
        d[w_name].CopyFrom(numpy_helper.from_array(fake_quant(w, axis, mse).astype(np.float32), d[w_name].name))
    return m


def decode(out):
    lines = []
    for row in out.argmax(-1):
        prev, text = 0, []
        for k in row:
            if k != prev and k != 0:
                text.append(int(k))
            prev = k
        lines.append(tuple(text))
    return lines


def run(model, x):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    return np.concatenate([s.run(None, {name: x[i : i + 1]})[0] for i in range(len(x))])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dir")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--mse", action="store_true")
    p.add_argument("--per-layer", action="store_true")
    a = p.parse_args()
    base = onnx.load(f"{a.model_dir}/model.onnx")
    x = np.load(f"{a.model_dir}/test_x.npy")[: a.limit]
    ref = decode(run(base, x))
    agree = lambda m: np.mean([u == v for u, v in zip(ref, decode(run(m, x)))])
    print(f"weights-only int8 per channel{' (mse-clipped)' if a.mse else ''}: "
          f"{100 * agree(quantized(base, a.mse)):.1f} % of {len(x)} lines decoded as FP32")
    if a.per_layer:
        for name, _, _ in weights(base):
            print(f"  {name} kept in float: {100 * agree(quantized(base, a.mse, keep=name)):.1f} %")


if __name__ == "__main__":
    main()
