"""onnxruntime reference latency: one thread, batch 1, median of RUNS runs of the first sample.
Prints 'FP32 <ms>' and, when onnxruntime.quantization works here, 'INT8 <ms>' (QDQ, per-channel
S8 weights, U8 activations — ORT's fastest INT8 setting on x86 — MinMax over the calibration set). Exits 3 when onnxruntime is not installed."""
import sys, time, tempfile, os

try:
    import numpy as np
    import onnxruntime as ort
except ImportError:
    sys.exit(3)

model, calib, x_path, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x = np.load(x_path)[:1]


def median_ms(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    for _ in range(10):
        s.run(None, {name: x})
    t = []
    for _ in range(runs):
        a = time.perf_counter()
        s.run(None, {name: x})
        t.append((time.perf_counter() - a) * 1e3)
    return sorted(t)[len(t) // 2]


print(f"FP32 {median_ms(model):.4f}")
try:
    from onnxruntime.quantization import quantize_static, CalibrationDataReader, QuantType

    c = np.load(calib)
    name = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{name: c[i : i + 1]} for i in range(len(c))])

        def get_next(self):
            return next(self.it, None)

    with tempfile.TemporaryDirectory() as d:
        q = os.path.join(d, "int8.onnx")
        quantize_static(model, q, Reader(), per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        print(f"INT8 {median_ms(q):.4f}")
except Exception as e:  # the quantizer needs the `onnx` package
    print(f"INT8 unavailable ({type(e).__name__}: {e})".splitlines()[0])
