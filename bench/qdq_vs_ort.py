#!/usr/bin/env python3
"""nibble on an already-quantized model against onnxruntime running the same model.

Quantizes a shared model with onnxruntime's static quantizer (tests-data/qdq/make.py's recipe:
per-channel int8 weights, uint8 activations, 64 calibration vectors; or `--dynamic`:
quantize_dynamic, int8 weights), compiles it with nibble WITHOUT --calib (static) or with the
model's calib.npy (dynamic: its activations need static grids), builds and runs the generated
C on the first N test inputs, and prints per output: SQNR and top-1 agreement of the C against
onnxruntime's run of the quantized model, and both against the FP32 model (and accuracy where
the model has test_labels.npy). Numbers in docs/numerics.md come from here. "as stated" is
onnxruntime with graph optimizations off (DequantizeLinear → float op → QuantizeLinear, the QDQ
model's meaning); its default run fuses QDQ groups into integer kernels whose AVX2 form on CPUs
without VNNI saturates u8·s8 pair sums at 16 bits, so that column depends on the CPU.

    python3 bench/qdq_vs_ort.py ../shared/models/mtcnn_onet [--n 200] [--dynamic] [--nibble target/debug/nibble]
"""
import argparse, glob, json, os, subprocess, sys, tempfile
import numpy as np
from onnxruntime import GraphOptimizationLevel, InferenceSession, SessionOptions
from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests-data", "qdq"))
from make import quantize  # noqa: E402


def run_ort(model, x, optimized=True):
    o = SessionOptions()
    if not optimized:
        o.graph_optimization_level = GraphOptimizationLevel.ORT_DISABLE_ALL
    s = InferenceSession(model, sess_options=o, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    outs = [s.run(None, {name: x[i:i + 1]}) for i in range(len(x))]
    return [np.concatenate([o[k] for o in outs]) for k in range(len(outs[0]))]


def sqnr(ref, y):
    return 10 * np.log10((ref.astype(np.float64) ** 2).sum() / max(((y - ref) ** 2).sum(), 1e-30))


def agree(a, b):
    n = len(a)
    return 100 * np.mean(a.reshape(n, -1).argmax(1) == b.reshape(n, -1).argmax(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--dynamic", action="store_true")
    ap.add_argument("--nibble", default=os.path.join(ROOT, "target/debug/nibble"))
    a = ap.parse_args()
    d = a.model_dir
    meta = json.load(open(os.path.join(d, "meta.json")))
    shape = f"{meta['input']}=1," + ",".join(map(str, meta["input_shape"]))
    x = np.load(os.path.join(d, "test_x.npy"))[: a.n]
    work = tempfile.mkdtemp(prefix="qdq_vs_ort_")
    qmodel, xs = os.path.join(work, "q.onnx"), os.path.join(work, "x.npy")
    np.save(xs, x)
    flags = []
    if a.dynamic:
        quantize_dynamic(os.path.join(d, "model.onnx"), qmodel, weight_type=QuantType.QInt8,
                         per_channel=True)
        flags = ["--calib", os.path.join(d, "calib.npy")]
    else:
        quantize(os.path.join(d, "model.onnx"), os.path.join(d, "calib.npy"), qmodel,
                 QuantFormat.QDQ)
    out = os.path.join(work, "out")
    subprocess.run([a.nibble, "compile", qmodel, "-o", out, "--emit-main", "--input-shape",
                    shape, *flags], check=True)
    subprocess.run(["cc", "-std=c99", "-O2", *glob.glob(os.path.join(out, "*.c")), "-o",
                    os.path.join(out, "model"), "-lm"], check=True)
    subprocess.run([os.path.join(out, "model"), xs, os.path.join(work, "c")], check=True)
    ort_q, ort_f = run_ort(qmodel, x), run_ort(os.path.join(d, "model.onnx"), x)
    ort_s = run_ort(qmodel, x, optimized=False)
    labels = os.path.join(d, "test_labels.npy")
    kind = "dynamic" if a.dynamic else "QDQ"
    print(f"{os.path.basename(os.path.normpath(d))} ({kind}, {len(x)} inputs)")
    for k, (q, f, st) in enumerate(zip(ort_q, ort_f, ort_s)):
        y = np.load(os.path.join(work, "c", f"out{k}.npy")).reshape(q.shape)
        line = (f"  out{k}: C vs onnxruntime {sqnr(q, y):.1f} dB, top-1 agreement "
                f"{agree(q, y):.1f} %, equal {100 * np.mean(q == y):.1f} %; vs onnxruntime as "
                f"stated {sqnr(st, y):.1f} dB, {agree(st, y):.1f} %; vs FP32: nibble "
                f"{sqnr(f, y):.1f} dB, onnxruntime {sqnr(f, q):.1f} dB, as stated {sqnr(f, st):.1f} dB")
        if k == 0 and os.path.exists(labels):
            lab = np.load(labels)[: len(x)]
            acc = lambda o: 100 * np.mean(o.reshape(len(x), -1).argmax(1) == lab)
            line += f"; accuracy nibble {acc(y):.2f} %, onnxruntime {acc(q):.2f} %, FP32 {acc(f):.2f} %"
        print(line)


if __name__ == "__main__":
    main()
