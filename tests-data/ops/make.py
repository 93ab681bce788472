"""Generates the small single-purpose ONNX models in this folder and their onnxruntime FP32
reference outputs: `python3 tests-data/ops/make.py` (needs numpy, onnx, onnxruntime).
Each model NAME has NAME.onnx, NAME_x.npy (inputs, batch of 3) and NAME_ref{k}.npy (output k).
Deterministic: fixed seeds."""
import os
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper as h, TensorProto as T, numpy_helper as nh

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def model(name, nodes, inits, in_shape, outs, opset=13):
    g = h.make_graph(
        nodes, name,
        [h.make_tensor_value_info("x", T.FLOAT, in_shape)],
        [h.make_empty_tensor_value_info(o) for o in outs],
        [nh.from_array(v, k) for k, v in inits.items()],
    )
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)], producer_name="nibble-tests")
    m.ir_version = 8
    path = os.path.join(HERE, name + ".onnx")
    onnx.save(m, path)
    x = rng.standard_normal([3] + in_shape[1:]).astype(np.float32)
    np.save(os.path.join(HERE, name + "_x.npy"), x)
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    res = [s.run(None, {"x": x[i:i + 1]}) for i in range(len(x))]
    for k in range(len(outs)):
        np.save(os.path.join(HERE, f"{name}_ref{k}.npy"), np.concatenate([r[k] for r in res]))


f32 = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.5
i64 = lambda *v: np.array(v, dtype=np.int64)

# Activations: LeakyRelu, Tanh, GELU spelled with Erf, Sum of three.
model("activations", [
    h.make_node("LeakyRelu", ["x"], ["l"], alpha=0.1, name="leaky"),
    h.make_node("Tanh", ["l"], ["t"], name="tanh"),
    h.make_node("Div", ["x", "sqrt2"], ["xs"], name="gelu_div"),
    h.make_node("Erf", ["xs"], ["e"], name="gelu_erf"),
    h.make_node("Add", ["e", "one"], ["e1"], name="gelu_add"),
    h.make_node("Mul", ["x", "e1"], ["xe"], name="gelu_mul"),
    h.make_node("Mul", ["xe", "half"], ["g"], name="gelu_half"),
    h.make_node("Sum", ["t", "g", "x"], ["y"], name="sum"),
], {"sqrt2": np.array(np.sqrt(2), np.float32), "one": np.array(1, np.float32), "half": np.array(0.5, np.float32)},
    [1, 4, 5, 6], ["y"])

# ReduceMax, constant Pad, Split into two outputs.
model("reduce_pad_split", [
    h.make_node("ReduceMax", ["x"], ["m"], axes=[1], keepdims=1, name="rmax"),
    h.make_node("Pad", ["x", "pads", "pv"], ["p"], mode="constant", name="pad"),
    h.make_node("Split", ["p", "split"], ["s0", "s1"], axis=1, name="split"),
    h.make_node("Add", ["s0", "m2"], ["y0"], name="use_s0"),
], {"pads": i64(0, 0, 1, 2, 0, 0, 2, 1), "pv": np.array(0.25, np.float32), "split": i64(1, 3),
    "m2": np.zeros((1, 1, 1, 1), np.float32)},
    [1, 4, 5, 6], ["m", "y0", "s1"])

# ConvTranspose: stride 2, padding 1, output_padding 1, bias.
model("conv_transpose", [
    h.make_node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1],
                output_padding=[1, 1], name="deconv"),
], {"w": f32(4, 3, 3, 3), "b": f32(3)}, [1, 4, 5, 6], ["y"])

# Resize: nearest (scales, asymmetric, floor) and linear (sizes, half_pixel).
model("resize", [
    h.make_node("Resize", ["x", "", "scales"], ["n"], mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor", name="up_nearest"),
    h.make_node("Resize", ["x", "", "", "sizes"], ["l"], mode="linear",
                coordinate_transformation_mode="half_pixel", name="up_linear"),
], {"scales": np.array([1, 1, 2, 2], np.float32), "sizes": i64(1, 4, 10, 9)}, [1, 4, 5, 6], ["n", "l"])

# More Resize variants: default nearest (half_pixel, round_prefer_floor) at 1.5x, align_corners
# linear to sizes, nearest downscale by 0.5 with ceil, pytorch_half_pixel linear.
model("resize_modes", [
    h.make_node("Resize", ["x", "", "s15"], ["a"], mode="nearest", name="nearest_default"),
    h.make_node("Resize", ["x", "", "", "sz"], ["b"], mode="linear",
                coordinate_transformation_mode="align_corners", name="linear_align"),
    h.make_node("Resize", ["x", "", "s05"], ["c"], mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="ceil", name="down_ceil"),
    h.make_node("Resize", ["x", "", "s2"], ["d"], mode="linear",
                coordinate_transformation_mode="pytorch_half_pixel", name="linear_pytorch"),
], {"s15": np.array([1, 1, 1.5, 1.5], np.float32), "sz": i64(1, 4, 7, 11),
    "s05": np.array([1, 1, 0.5, 0.5], np.float32), "s2": np.array([1, 1, 2, 2], np.float32)},
    [1, 4, 6, 8], ["a", "b", "c", "d"])

def calibrated_model(name, nodes, inits, in_shape):
    """Saves a one-output model with 64 calibration and 64 test inputs and ORT references."""
    g = h.make_graph(nodes, name, [h.make_tensor_value_info("x", T.FLOAT, in_shape)],
                     [h.make_empty_tensor_value_info("y")], [nh.from_array(v, k) for k, v in inits.items()])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)], producer_name="nibble-tests")
    m.ir_version = 8
    path = os.path.join(HERE, name + ".onnx")
    onnx.save(m, path)
    calib = rng.standard_normal([64] + in_shape[1:]).astype(np.float32)
    x = rng.standard_normal([64] + in_shape[1:]).astype(np.float32)
    np.save(os.path.join(HERE, name + "_calib.npy"), calib)
    np.save(os.path.join(HERE, name + "_x.npy"), x)
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    np.save(os.path.join(HERE, name + "_ref0.npy"), np.concatenate([s.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))]))


# A small CNN with activations that the quantizer turns into lookup tables (hard-swish spelled
# as Add/Clip/Mul/Div, Sigmoid, Tanh), plus calibration inputs: compiles to integer C.
def cnn_activations():
    name = "cnn_activations"
    nodes = [
        h.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        h.make_node("Add", ["c1", "three"], ["a1"], name="hswish_add"),
        h.make_node("Clip", ["a1", "zero", "six"], ["k1"], name="hswish_clip"),
        h.make_node("Mul", ["c1", "k1"], ["m1"], name="hswish_mul"),
        h.make_node("Div", ["m1", "six"], ["h1"], name="hswish_div"),
        h.make_node("Conv", ["h1", "w2", "b2"], ["c2"], strides=[2, 2], name="conv2"),
        h.make_node("Sigmoid", ["c2"], ["s2"], name="sigmoid"),
        h.make_node("Flatten", ["s2"], ["f"], name="flatten"),
        h.make_node("Gemm", ["f", "wf", "bf"], ["g"], transB=1, name="fc"),
        h.make_node("Tanh", ["g"], ["y"], name="tanh"),
    ]
    inits = {"w1": f32(8, 3, 3, 3), "b1": f32(8), "w2": f32(8, 8, 3, 3) * 0.5, "b2": f32(8),
             "wf": f32(10, 8 * 4 * 4) * 0.3, "bf": f32(10), "three": np.array(3, np.float32),
             "zero": np.array(0, np.float32), "six": np.array(6, np.float32)}
    calibrated_model(name, nodes, inits, [1, 3, 9, 9])


cnn_activations()


# Conv → ReLU → depthwise conv (stride 2) → ReLU → pointwise conv → Flatten → Gemm, with
# calibration inputs: the integer depthwise kernel in a compiled model.
def cnn_depthwise():
    name = "cnn_depthwise"
    nodes = [
        h.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        h.make_node("Conv", ["r1", "wd", "bd"], ["c2"], group=8, strides=[2, 2], pads=[1, 1, 1, 1], name="depthwise"),
        h.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        h.make_node("Conv", ["r2", "wp", "bp"], ["c3"], name="pointwise"),
        h.make_node("Flatten", ["c3"], ["f"], name="flatten"),
        h.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1, name="fc"),
    ]
    inits = {"w1": f32(8, 3, 3, 3), "b1": f32(8), "wd": f32(8, 1, 3, 3), "bd": f32(8),
             "wp": f32(12, 8, 1, 1), "bp": f32(12), "wf": f32(10, 12 * 5 * 5) * 0.3, "bf": f32(10)}
    calibrated_model(name, nodes, inits, [1, 3, 9, 9])


cnn_depthwise()


# Conv → ReLU → grouped conv (group 2, 4 input channels per group) → ReLU → Flatten → Gemm,
# with calibration inputs: the importer's per-group slices, convs and concat.
def cnn_grouped():
    name = "cnn_grouped"
    nodes = [
        h.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        h.make_node("Conv", ["r1", "wg", "bg"], ["c2"], group=2, pads=[1, 1, 1, 1], name="grouped"),
        h.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        h.make_node("Flatten", ["r2"], ["f"], name="flatten"),
        h.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1, name="fc"),
    ]
    inits = {"w1": f32(8, 3, 3, 3), "b1": f32(8), "wg": f32(6, 4, 3, 3) * 0.5, "bg": f32(6),
             "wf": f32(10, 6 * 9 * 9) * 0.3, "bf": f32(10)}
    calibrated_model(name, nodes, inits, [1, 3, 9, 9])


cnn_grouped()


# Conv → ReLU6 → depthwise conv → ReLU6 → pointwise conv → Flatten → Gemm, the first conv's
# output channels scaled 1/16…2 apart (as BatchNorm folding leaves them), with calibration
# inputs: cross-layer equalization through ReLU6.
def cnn_relu6():
    name = "cnn_relu6"
    nodes = [
        h.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        h.make_node("Clip", ["c1", "zero", "six"], ["r1"], name="relu6_1"),
        h.make_node("Conv", ["r1", "wd", "bd"], ["c2"], group=8, strides=[2, 2], pads=[1, 1, 1, 1], name="depthwise"),
        h.make_node("Clip", ["c2", "zero", "six"], ["r2"], name="relu6_2"),
        h.make_node("Conv", ["r2", "wp", "bp"], ["c3"], name="pointwise"),
        h.make_node("Flatten", ["c3"], ["f"], name="flatten"),
        h.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1, name="fc"),
    ]
    spread = np.array([1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 1 / 16, 1], np.float32).reshape(8, 1, 1, 1)
    inits = {"w1": f32(8, 3, 3, 3) * spread, "b1": f32(8) * spread.ravel(), "wd": f32(8, 1, 3, 3), "bd": f32(8),
             "wp": f32(12, 8, 1, 1), "bp": f32(12), "wf": f32(10, 12 * 5 * 5) * 0.3, "bf": f32(10),
             "zero": np.array(0, np.float32), "six": np.array(6, np.float32)}
    calibrated_model(name, nodes, inits, [1, 3, 9, 9])


cnn_relu6()


# Conv → ReLU → squeeze-excite (GlobalAveragePool → 1×1 conv → ReLU → 1×1 conv → `gate` →
# Mul) → Flatten → Gemm, with calibration inputs: the squeeze-excite gate as one layer, its gate
# a HardSigmoid (PP-LCNet, MobileNetV3) or a Sigmoid (torchvision's and timm's blocks), its
# hidden activation a ReLU or SiLU (x·sigmoid(x), EfficientNet).
def cnn_squeeze_excite(name, gate, silu=False):
    hidden = [
        h.make_node("Sigmoid", ["s1"], ["s1s"], name="se_silu_sigmoid"),
        h.make_node("Mul", ["s1", "s1s"], ["s1r"], name="se_silu"),
    ] if silu else [h.make_node("Relu", ["s1"], ["s1r"], name="se_relu")]
    nodes = [
        h.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        h.make_node("GlobalAveragePool", ["r1"], ["p"], name="se_pool"),
        h.make_node("Conv", ["p", "ws1", "bs1"], ["s1"], name="se_reduce"),
        *hidden,
        h.make_node("Conv", ["s1r", "ws2", "bs2"], ["s2"], name="se_expand"),
        gate,
        h.make_node("Mul", ["r1", "g"], ["e"], name="se_scale"),
        h.make_node("Flatten", ["e"], ["f"], name="flatten"),
        h.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1, name="fc"),
    ]
    inits = {"w1": f32(16, 3, 3, 3), "b1": f32(16), "ws1": f32(4, 16, 1, 1), "bs1": f32(4),
             "ws2": f32(16, 4, 1, 1) * 2, "bs2": f32(16), "wf": f32(10, 16 * 9 * 9) * 0.1, "bf": f32(10)}
    calibrated_model(name, nodes, inits, [1, 3, 9, 9])


cnn_squeeze_excite("cnn_squeeze_excite",
                   h.make_node("HardSigmoid", ["s2"], ["g"], alpha=0.2, beta=0.5, name="se_gate"))
cnn_squeeze_excite("cnn_squeeze_excite_sigmoid", h.make_node("Sigmoid", ["s2"], ["g"], name="se_gate"))
cnn_squeeze_excite("cnn_squeeze_excite_silu", h.make_node("Sigmoid", ["s2"], ["g"], name="se_gate"), silu=True)


# Conv → PRelu (slopes of both signs) → conv → ReLU → residual Add → Mul of two activations →
# MaxPool (floor mode drops the last row and column) → AveragePool (full windows) → Flatten →
# Gemm, with calibration inputs: the ops `--emit tosa` writes as TOSA (cli/tests/cli/export.rs).
def cnn_export():
    name = "cnn_export"
    nodes = [
        h.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        h.make_node("PRelu", ["c1", "slope"], ["p1"], name="prelu"),
        h.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
        h.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        h.make_node("Add", ["p1", "r2"], ["a"], name="residual"),
        h.make_node("Conv", ["a", "w3", "b3"], ["c3"], name="conv3"),
        h.make_node("Mul", ["a", "c3"], ["m"], name="product"),
        h.make_node("MaxPool", ["m"], ["mp"], kernel_shape=[2, 2], strides=[2, 2], name="maxpool"),
        h.make_node("AveragePool", ["mp"], ["ap"], kernel_shape=[2, 2], strides=[2, 2], name="avgpool"),
        h.make_node("Flatten", ["ap"], ["f"], name="flatten"),
        h.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1, name="fc"),
    ]
    slope = np.array([0.25, -0.5, 0.1, 0.0, -0.2, 0.3, 0.05, -1.0], np.float32).reshape(8, 1, 1)
    inits = {"w1": f32(8, 3, 3, 3), "b1": f32(8), "slope": slope, "w2": f32(8, 8, 3, 3) * 0.5,
             "b2": f32(8), "w3": f32(8, 8, 1, 1), "b3": f32(8), "wf": f32(10, 8 * 2 * 2) * 0.3,
             "bf": f32(10)}
    calibrated_model(name, nodes, inits, [1, 3, 9, 9])


cnn_export()
