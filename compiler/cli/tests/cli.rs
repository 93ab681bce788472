//! End-to-end tests of the `nibble` binary: the lit suite, numerics on the bundled mnist_cnn
//! model (float interpreter vs onnxruntime; generated C, built by a real C compiler, vs the
//! integer interpreter, bit for bit), determinism, IR snapshots, and bad inputs.
//! One test binary for the whole crate (MLIR links statically).

use ndarray::{Array1, ArrayD};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use nibble_graph::{attrs, tosa, Kind};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "cli/driver.rs"]
mod driver;
#[path = "cli/kernels.rs"]
mod kernels;
#[path = "cli/npu.rs"]
mod npu;
#[path = "cli/vendor.rs"]
mod vendor;

use npu::build_and_compare;
#[path = "cli/trust.rs"]
mod trust;
#[path = "cli/widths.rs"]
mod widths;

#[path = "cli/finetune.rs"]
mod finetune;
#[path = "cli/qdq.rs"]
mod qdq;

#[path = "cli/export.rs"]
mod export;
#[path = "cli/export_tosa.rs"]
mod export_tosa;

const NIBBLE: &str = env!("CARGO_BIN_EXE_nibble");
const LLVM_BIN: &str = "/usr/lib/llvm-22/bin";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}
fn model_dir() -> PathBuf {
    root().join("tests-data/mnist_cnn")
}
fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
fn nibble(args: &[&str]) -> Output {
    Command::new(NIBBLE)
        .args(args)
        .output()
        .expect("run nibble")
}
fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "nibble failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
fn read(path: &Path) -> ArrayD<f32> {
    ArrayD::<f32>::read_npy(std::fs::File::open(path).unwrap()).unwrap()
}
/// The first `n` rows of `path`, written to `dir/x.npy`.
fn first_rows(path: &Path, n: usize, dir: &Path) -> PathBuf {
    let a = read(path);
    let x = a.slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..n));
    let out = dir.join("x.npy");
    x.to_owned()
        .write_npy(std::fs::File::create(&out).unwrap())
        .unwrap();
    out
}
fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}
fn top1(a: &ArrayD<f32>) -> Vec<usize> {
    a.outer_iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
                .0
        })
        .collect()
}
fn accuracy(a: &ArrayD<f32>) -> f64 {
    let labels =
        Array1::<i64>::read_npy(std::fs::File::open(model_dir().join("test_labels.npy")).unwrap())
            .unwrap();
    let hits = top1(a)
        .iter()
        .zip(&labels)
        .filter(|(p, &l)| **p as i64 == l)
        .count();
    100.0 * hits as f64 / labels.len() as f64
}

/// The folders of `lit-tests/` (laid out as upstream MLIR's `test/`, see docs/testing.md).
const LIT_FOLDERS: [&str; 7] = [
    "graph",
    "qnt",
    "tile",
    "conversion/graph-to-qnt",
    "conversion/qnt-to-tile",
    "import",
    "opt",
];

/// `lit` over `lit-tests/`: every test passes, and every folder contributes passing tests.
#[test]
fn lit_suite_passes() {
    let lit = Path::new(LLVM_BIN).join("lit");
    assert!(
        lit.exists(),
        "lit is missing at {} (install llvm-22-tools); the lit suite cannot be skipped",
        lit.display()
    );
    assert!(
        Path::new(LLVM_BIN).join("FileCheck").exists(),
        "FileCheck is missing (install llvm-22-tools)"
    );
    let out = Command::new(lit)
        .arg("-v")
        .arg(root().join("lit-tests"))
        .env("NIBBLE", NIBBLE)
        .env("NIBBLE_LIT_OUT", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run lit");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "lit failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Passed"), "lit ran no test:\n{text}");
    for folder in LIT_FOLDERS {
        assert!(
            text.contains(&format!("PASS: nibble :: {folder}/")),
            "lit ran no test in lit-tests/{folder}:\n{text}"
        );
    }
}

/// Same shape, and every element within 1e-4 × max |want|.
fn assert_close(got: &ArrayD<f32>, want: &ArrayD<f32>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    let max_ref = want.iter().fold(0f32, |a, &b| a.max(b.abs()));
    let max_err = got
        .iter()
        .zip(want.iter())
        .fold(0f32, |a, (&x, &y)| a.max((x - y).abs()));
    assert!(
        max_err <= 1e-4 * max_ref,
        "{what}: max abs error {max_err} > 1e-4 x {max_ref}"
    );
}

/// Every output within 1e-4 × max |ref| of onnxruntime FP32.
fn float_matches_reference(model: &str, outputs: usize, extra: &[&str]) {
    let d = tmp(&format!("float-{model}"));
    let m = root().join("tests-data").join(model);
    let (onnx, x) = (m.join("model.onnx"), m.join("test_x.npy"));
    let mut args = vec!["run", p(&onnx), "--input", p(&x), "--out-dir", p(&d)];
    args.extend_from_slice(extra);
    ok(nibble(&args));
    for k in 0..outputs {
        let got = read(&d.join(format!("out{k}.npy")));
        let want = read(&m.join(format!("test_ref_out{k}.npy")));
        assert_close(&got, &want, &format!("{model} output {k}"));
    }
}

#[test]
fn float_interpreter_matches_onnxruntime() {
    float_matches_reference("mnist_cnn", 1, &[]);
    // PRelu, ceil-mode MaxPool, Transpose, Softmax, three outputs.
    float_matches_reference("mtcnn_onet", 3, &[]);
    // Opset 11 Paddle export: dynamic input fixed on the command line, BatchNormalization,
    // depthwise convolutions, hard-swish/hard-sigmoid, squeeze-excite, shape subgraph folded.
    float_matches_reference("ppocr_cls", 1, &["--input-shape", "x=1,3,48,192"]);
    // Opset 12: SVTR attention (activation × activation MatMul, 5-D transposes, run-time
    // slices), LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div, AveragePool, Concat, 6625-way Softmax.
    float_matches_reference("ppocr_rec", 1, &["--input-shape", "x=1,3,48,320"]);
}

#[test]
fn op_models_match_onnxruntime() {
    // (model, outputs) in tests-data/ops, made by tests-data/ops/make.py.
    for (name, outputs) in [
        ("activations", 1),
        ("reduce_pad_split", 3),
        ("conv_transpose", 1),
        ("resize", 2),
        ("resize_modes", 4),
        ("cnn_grouped", 1),
    ] {
        let d = tmp(&format!("ops-{name}"));
        let m = root().join("tests-data/ops");
        let (onnx, x) = (
            m.join(format!("{name}.onnx")),
            m.join(format!("{name}_x.npy")),
        );
        ok(nibble(&[
            "run",
            p(&onnx),
            "--input",
            p(&x),
            "--out-dir",
            p(&d),
        ]));
        for k in 0..outputs {
            let got = read(&d.join(format!("out{k}.npy")));
            let want = read(&m.join(format!("{name}_ref{k}.npy")));
            assert_close(&got, &want, &format!("{name} output {k}"));
        }
    }
}

/// Compiles mnist_cnn with `scheme`, builds the C with `cc`, and checks it is integer-only,
/// bit-exact with the tile and qnt interpreters, and within 0.5 points of FP32 top-1.
fn compile_and_check(scheme: &str, granularity: &str) {
    let m = model_dir();
    let (c, _, d) = compile_to_c(
        &format!("compile-{scheme}-{granularity}"),
        &m.join("model.onnx"),
        &m.join("calib.npy"),
        &m.join("test_x.npy"),
        &["--scheme", scheme, "--granularity", granularity],
        1,
    );
    let out = d.join("out");
    // Integer-only: no float, double, division or modulo outside the main.c harness.
    for f in ["model.c", "model.h", "nibble_runtime.c", "nibble_runtime.h"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        let code: String = text
            .lines()
            .map(|l| l.split("/*").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        for bad in ["float", "double", " / ", "%"] {
            assert!(!code.contains(bad), "{f} contains '{bad}'");
        }
    }
    let c = &c[0];
    let tile = read(&d.join("tile/out0.npy"));
    assert_eq!(c.shape(), &[2000, 10]);
    // The qnt level means the same integers.
    ok(nibble(&[
        "run",
        p(&out.join("model.quant.mlir")),
        "--input",
        p(&m.join("test_x.npy")),
        "--out-dir",
        p(&d.join("qnt")),
    ]));
    let qnt = read(&d.join("qnt/out0.npy"));
    assert!(qnt
        .iter()
        .zip(tile.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    // The calibrated graph-level file runs in the float interpreter like the ONNX model.
    ok(nibble(&[
        "run",
        p(&out.join("model.graph.mlir")),
        "--input",
        p(&m.join("test_x.npy")),
        "--out-dir",
        p(&d.join("graph")),
    ]));
    let graph = read(&d.join("graph/out0.npy"));
    let reference = read(&m.join("test_ref_out0.npy"));
    assert_close(&graph, &reference, "graph-level .mlir");
    let float_acc = accuracy(&reference);
    let int8_acc = accuracy(c);
    assert!(
        (float_acc - int8_acc).abs() <= 0.5,
        "{scheme} INT8 {int8_acc} % vs FP32 {float_acc} %"
    );
    if scheme == "pow2" {
        // Power-of-two scales: every multiplier is 2^30, so requantization is a rounding shift.
        let tile = std::fs::read_to_string(out.join("model.tile.mlir")).unwrap();
        let mults: Vec<&str> = tile
            .match_indices("multiplier = array<i32: ")
            .map(|(i, _)| tile[i + 24..].split('>').next().unwrap_or(""))
            .collect();
        assert!(
            !mults.is_empty()
                && mults
                    .iter()
                    .all(|m| m.split(", ").all(|v| v == "1073741824")),
            "{mults:?}"
        );
    }
}

#[test]
fn generated_c_is_bit_exact_and_accurate() {
    compile_and_check("symmetric", "tensor");
}

#[test]
fn generated_c_is_bit_exact_and_accurate_pow2() {
    compile_and_check("pow2", "tensor");
}

#[test]
fn generated_c_is_bit_exact_and_accurate_asymmetric() {
    compile_and_check("asymmetric", "tensor");
}

#[test]
fn generated_c_is_bit_exact_and_accurate_per_channel() {
    compile_and_check("symmetric", "channel");
    compile_and_check("asymmetric", "channel");
}

/// Compiles `model` with calibration inputs `calib` and extra flags, builds the generated C with
/// the documented command, runs it and the tile interpreter on `x`, asserts every output is
/// bit-identical, and returns the C outputs, the qnt-level text and the test directory (`out/`
/// holds the compiled files, `tile/` the interpreter's outputs).
fn compile_to_c(
    name: &str,
    model: &Path,
    calib: &Path,
    x: &Path,
    flags: &[&str],
    outputs: usize,
) -> (Vec<ArrayD<f32>>, String, PathBuf) {
    let mut args = vec!["--calib", p(calib)];
    args.extend_from_slice(flags);
    compile_args_to_c(name, model, &args, x, outputs)
}

/// [`compile_to_c`] with the compile flags `flags` (no calibration vectors unless they say).
fn compile_args_to_c(
    name: &str,
    model: &Path,
    flags: &[&str],
    x: &Path,
    outputs: usize,
) -> (Vec<ArrayD<f32>>, String, PathBuf) {
    let d = tmp(name);
    let out = d.join("out");
    let mut args = vec!["compile", p(model), "-o", p(&out), "--emit-main"];
    args.extend_from_slice(flags);
    ok(nibble(&args));
    let c_files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    let cc = Command::new("cc")
        .args(["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"])
        .args(&c_files)
        .arg("-o")
        .arg(out.join("model"))
        .output()
        .expect("a C compiler (cc) must be installed");
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let run = Command::new(out.join("model"))
        .arg(x)
        .arg(d.join("c"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    run_sanitized(&c_files, &out, x, &d, outputs);
    ok(nibble(&[
        "run",
        p(&out.join("model.tile.mlir")),
        "--input",
        p(x),
        "--out-dir",
        p(&d.join("tile")),
    ]));
    let mut got = Vec::new();
    for k in 0..outputs {
        let (c, tile) = (
            read(&d.join(format!("c/out{k}.npy"))),
            read(&d.join(format!("tile/out{k}.npy"))),
        );
        assert!(
            c.iter()
                .zip(tile.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name}: output {k}: C and interpreter differ"
        );
        got.push(c);
    }
    let quant = std::fs::read_to_string(out.join("model.quant.mlir")).unwrap();
    (got, quant, d)
}

/// The generated C of `compile_to_c` built again with ASan + UBSan (default options: leaks are
/// errors too; any report aborts) and run on `x`: it must exit cleanly and write exactly what the
/// -O2 build wrote into `d/c`. Every model whose C the suite runs goes through here.
fn run_sanitized(c_files: &[PathBuf], out: &Path, x: &Path, d: &Path, outputs: usize) {
    let exe = out.join("model-asan");
    let cc = Command::new("cc")
        .args(["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror"])
        .args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
        .args(c_files)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("a C compiler (cc) must be installed");
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let run = Command::new(&exe)
        .arg(x)
        .arg(d.join("asan"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the sanitized build failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    for k in 0..outputs {
        let (plain, asan) = (
            std::fs::read(d.join(format!("c/out{k}.npy"))).unwrap(),
            std::fs::read(d.join(format!("asan/out{k}.npy"))).unwrap(),
        );
        assert!(plain == asan, "output {k}: the sanitized build differs");
    }
}

/// Output SQNR in dB of `got` against `reference`.
fn sqnr(got: &ArrayD<f32>, reference: &ArrayD<f32>) -> f64 {
    let (sig, noise) = reference
        .iter()
        .zip(got.iter())
        .fold((0f64, 0f64), |(s, e), (&r, &q)| {
            (s + (r as f64).powi(2), e + ((r - q) as f64).powi(2))
        });
    10.0 * (sig / noise).log10()
}

/// Compiles `tests-data/ops/NAME.onnx` with its calibration inputs, checks the C is bit-exact
/// with the tile interpreter, and returns the qnt text and the output SQNR against onnxruntime.
fn compile_op_model(name: &str, granularity: &str) -> (String, f64) {
    let m = root().join("tests-data/ops");
    let (c, quant, _) = compile_to_c(
        &format!("{name}-{granularity}"),
        &m.join(format!("{name}.onnx")),
        &m.join(format!("{name}_calib.npy")),
        &m.join(format!("{name}_x.npy")),
        &["--granularity", granularity],
        1,
    );
    let reference = read(&m.join(format!("{name}_ref0.npy")));
    (quant, sqnr(&c[0], &reference))
}

/// The shared models beyond MNIST compile to integer-only C that matches the integer
/// interpreter bit for bit: ppocr_cls (depthwise convs, fused hard-swish, squeeze-excite
/// gates, residual adds, softmax) and mtcnn_onet (PReLU, three heads).
#[test]
fn shared_models_compile_bit_exact() {
    let cls = root().join("tests-data/ppocr_cls");
    let flags = [
        "--input-shape",
        "x=1,3,48,192",
        "--scheme",
        "asymmetric",
        "--granularity",
        "channel",
    ];
    let (out, quant, _) = compile_to_c(
        "ppocr_cls",
        &cls.join("model.onnx"),
        &cls.join("calib.npy"),
        &cls.join("test_x.npy"),
        &flags,
        1,
    );
    for op in [
        "qnt.avg_pool2d",
        "qnt.squeeze_excite",
        "qnt.add",
        "qnt.softmax",
        "qnt.hard_swish",
    ] {
        assert!(quant.contains(op), "ppocr_cls: no {op}");
    }
    let reference = read(&cls.join("test_ref_out0.npy"));
    assert_eq!(
        top1(&out[0]),
        top1(&reference),
        "ppocr_cls: INT8 and FP32 decisions differ"
    );
    let s = sqnr(&out[0], &reference);
    assert!(s >= 20.0, "ppocr_cls: SQNR {s:.1} dB");
    // Cross-layer equalization through hard-swish (symmetric): per-channel hard-swish epilogues
    // in the bit-exact comparison, and a better output than without. (This slice's SQNR is set
    // by its one sample near the decision boundary: compare, side by side, not to a number.)
    let symmetric = |name: &str, extra: &[&str]| {
        // Per-tensor weights: the grids equalization balances.
        let mut flags = vec![
            "--input-shape",
            "x=1,3,48,192",
            "--scheme",
            "symmetric",
            "--ranges",
            "mse",
            "--granularity",
            "tensor",
        ];
        flags.extend_from_slice(extra);
        compile_to_c(
            name,
            &cls.join("model.onnx"),
            &cls.join("calib.npy"),
            &cls.join("test_x.npy"),
            &flags,
            1,
        )
    };
    let (plain, _, _) = symmetric("ppocr_cls-symmetric", &[]);
    let (out, _, dir) = symmetric("ppocr_cls-equalized", &["--equalize"]);
    let graph = std::fs::read_to_string(dir.join("out/model.graph.mlir")).unwrap();
    assert!(
        graph.contains(Kind::ScaledHardSwish.name()),
        "no hard-swish equalized"
    );
    assert_eq!(top1(&out[0]), top1(&reference), "ppocr_cls equalized");
    let (eq, plain) = (sqnr(&out[0], &reference), sqnr(&plain[0], &reference));
    assert!(
        eq >= plain + 5.0,
        "ppocr_cls: SQNR {eq:.1} dB equalized vs {plain:.1} dB"
    );

    let mt = root().join("tests-data/mtcnn_onet");
    let (out, quant, _) = compile_to_c(
        "mtcnn_onet",
        &mt.join("model.onnx"),
        &mt.join("calib.npy"),
        &mt.join("test_x.npy"),
        &["--scheme", "asymmetric", "--granularity", "channel"],
        3,
    );
    assert!(quant.contains("qnt.prelu"), "mtcnn: no qnt.prelu");
    for (k, min_db) in [(1, 33.0), (2, 33.0)] {
        let reference = read(&mt.join(format!("test_ref_out{k}.npy")));
        let s = sqnr(&out[k], &reference);
        assert!(s >= min_db, "mtcnn output {k}: SQNR {s:.1} dB");
    }
}

/// `nibble compile` with no quantization flags keeps ppocr_rec readable: its defaults
/// (symmetric activations, per-channel weights, min/max ranges) decode both test lines as their
/// labels read (per-tensor weights read 0 % of the characters of this model).
#[test]
fn default_flags_keep_ppocr_rec_readable() {
    let rec = root().join("tests-data/ppocr_rec");
    let d = tmp("rec-defaults");
    ok(nibble(&[
        "compile",
        p(&rec.join("model.onnx")),
        "--input-shape",
        "x=1,3,48,320",
        "--calib",
        p(&rec.join("calib.npy")),
        "-o",
        p(&d.join("out")),
    ]));
    ok(nibble(&[
        "run",
        p(&d.join("out/model.tile.mlir")),
        "--input",
        p(&rec.join("test_x.npy")),
        "--out-dir",
        p(&d.join("tile")),
    ]));
    let out = ok(nibble(&[
        "eval",
        p(&d.join("tile/out0.npy")),
        "--labels",
        p(&rec.join("test_labels.txt")),
        "--keys",
        p(&rec.join("keys.txt")),
    ]));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("lines exact 100.00 %"),
        "ppocr_rec with default flags: {text}"
    );
}

/// PP-OCRv4's recogniser — LayerNorm, attention (activation × activation matmul, softmax),
/// swish, slices and a concat — compiles integer-only, with GPTQ-rounded weights and 16-bit
/// activations where the compiler chooses them; its C is bit-exact with the tile
/// interpreter and decodes both test lines as their labels read.
#[test]
fn ppocr_rec_compiles_integer_only_bit_exact() {
    let rec = root().join("tests-data/ppocr_rec");
    let (_, quant, dir) = compile_to_c(
        "ppocr_rec",
        &rec.join("model.onnx"),
        &rec.join("calib.npy"),
        &rec.join("test_x.npy"),
        &[
            "--input-shape",
            "x=1,3,48,320",
            "--scheme",
            "asymmetric",
            "--granularity",
            "channel",
            // 16-bit activations where the compiler finds the 8-bit grid coarse: int16 conv,
            // depthwise and add kernels in the bit-exact comparison.
            "--bits",
            "auto",
            // GPTQ-rounded conv, depthwise and fully connected weights.
            "--weight-rounding",
            "gptq",
        ],
        1,
    );
    assert!(
        quant.contains("!quant.uniform<i16:f32"),
        "ppocr_rec: no 16-bit activation chosen"
    );
    let graph = std::fs::read_to_string(dir.join("out/model.graph.mlir")).unwrap();
    for op in [tosa::CONV2D, tosa::DEPTHWISE_CONV2D, tosa::MATMUL] {
        assert!(
            graph
                .lines()
                .any(|l| l.contains(op) && l.contains(attrs::WEIGHT_SCALES)),
            "ppocr_rec: no GPTQ-rounded {op}"
        );
    }
    for op in [
        "qnt.layer_norm",
        "qnt.matmul",
        "qnt.softmax",
        "qnt.slice",
        "qnt.concat",
        "qnt.swish",
        "qnt.hard_swish",
    ] {
        assert!(quant.contains(op), "ppocr_rec: no {op}");
    }
    let out = ok(nibble(&[
        "eval",
        p(&dir.join("c/out0.npy")),
        "--labels",
        p(&rec.join("test_labels.txt")),
        "--keys",
        p(&rec.join("keys.txt")),
        "--reference",
        p(&rec.join("test_ref_out0.npy")),
    ]));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("char acc 100.00 %")
            && text.contains("decisions equal to the reference's 100.00 %"),
        "{text}"
    );
}

#[test]
fn int16_activations_compile_bit_exact() {
    // The hidden fully connected layer's ReLU output in 16 bits: int16 out of one FC, into the
    // next; the C equals the interpreter (compile_to_c) and the digits stay as accurate.
    let m = model_dir();
    let (c, quant, _) = compile_to_c(
        "int16-mnist",
        &m.join("model.onnx"),
        &m.join("calib.npy"),
        &m.join("test_x.npy"),
        &["--bits", "Relu_12=16"],
        1,
    );
    assert!(quant.contains("!quant.uniform<i16:f32"), "no 16-bit tensor");
    let acc = accuracy(&c[0]);
    assert!(acc >= 98.0, "top-1 {acc} %");
}

#[test]
fn activations_become_bit_exact_lookup_tables() {
    // Sigmoid and Tanh compile to 256-entry tables; hard-swish (Add/Clip/Mul/Div) right after
    // a conv to the conv's fixed-point epilogue.
    let (quant, sqnr) = compile_op_model("cnn_activations", "tensor");
    for f in ["sigmoid", "tanh"] {
        assert!(
            quant.contains(&format!("function = \"{f}\"")),
            "no lookup table for {f}"
        );
    }
    assert!(quant.contains("qnt.hard_swish"), "hard-swish is not fused");
    assert!(
        sqnr >= 25.0,
        "INT8 output SQNR {sqnr:.1} dB against onnxruntime FP32"
    );
}

/// A squeeze-excite gate (GlobalAveragePool → Conv → Relu or SiLU → Conv → HardSigmoid or
/// Sigmoid → Mul) is one integer op from the graph level down to its C kernel, bit-exact, for both
/// granularities and the asymmetric scheme (a zero point on its input).
#[test]
fn squeeze_excite_gate_is_one_bit_exact_op() {
    let m = root().join("tests-data/ops");
    for model in [
        "cnn_squeeze_excite",
        "cnn_squeeze_excite_sigmoid",
        "cnn_squeeze_excite_silu",
    ] {
        for flags in [
            &["--granularity", "tensor"][..],
            &["--granularity", "channel"],
            &["--scheme", "asymmetric"],
        ] {
            let (c, quant, _) = compile_to_c(
                &format!("{model}-{}", flags[1]),
                &m.join(format!("{model}.onnx")),
                &m.join(format!("{model}_calib.npy")),
                &m.join(format!("{model}_x.npy")),
                flags,
                1,
            );
            let what = format!("{model} {flags:?}");
            assert_eq!(
                quant.matches("qnt.squeeze_excite").count(),
                1,
                "{what}: no single gate op"
            );
            assert!(
                !quant.contains("qnt.avg_pool2d") && !quant.contains("qnt.lut"),
                "{what}: the pool or the gate is still separate"
            );
            let sqnr = sqnr(&c[0], &read(&m.join(format!("{model}_ref0.npy"))));
            assert!(
                sqnr >= 28.0,
                "{what}: INT8 output SQNR {sqnr:.1} dB against onnxruntime FP32"
            );
        }
    }
}

#[test]
fn depthwise_convolutions_compile_bit_exact() {
    for granularity in ["tensor", "channel"] {
        let (quant, sqnr) = compile_op_model("cnn_depthwise", granularity);
        assert!(quant.contains("qnt.depthwise_conv2d"));
        assert!(
            sqnr >= 25.0,
            "{granularity}: INT8 output SQNR {sqnr:.1} dB against onnxruntime FP32"
        );
    }
}

/// Cross-layer equalization through ReLU6 (conv → Clip(0, 6) → depthwise, channels 32× apart):
/// the clamp becomes per channel at the graph level, a plain clamp in the integer program; the C
/// stays bit-exact and the output gets closer to onnxruntime FP32 than without equalization
/// (28.3 → 28.7 dB: with the ReLU6 fused into the conv, one rounding, the unequalized model is
/// already 3 dB better than when the pre-activation had its own 8-bit grid).
#[test]
fn equalization_through_relu6_compiles_bit_exact() {
    let m = root().join("tests-data/ops");
    let run = |name: &str, flags: &[&str]| {
        let (c, _, dir) = compile_to_c(
            name,
            &m.join("cnn_relu6.onnx"),
            &m.join("cnn_relu6_calib.npy"),
            &m.join("cnn_relu6_x.npy"),
            flags,
            1,
        );
        let graph = std::fs::read_to_string(dir.join("out/model.graph.mlir")).unwrap();
        (sqnr(&c[0], &read(&m.join("cnn_relu6_ref0.npy"))), graph)
    };
    // Per-tensor weights: the grids equalization balances.
    let (plain, _) = run("relu6-plain", &["--granularity", "tensor"]);
    let (equalized, graph) = run(
        "relu6-equalized",
        &["--granularity", "tensor", "--equalize"],
    );
    assert!(
        graph.contains(Kind::ClampChannels.name()),
        "ReLU6 not equalized"
    );
    assert!(
        equalized > plain,
        "SQNR {equalized:.1} dB equalized vs {plain:.1} dB"
    );
}

#[test]
fn compile_is_deterministic() {
    let m = model_dir();
    let (a, b) = (tmp("det-a"), tmp("det-b"));
    for d in [&a, &b] {
        ok(nibble(&[
            "compile",
            p(&m.join("model.onnx")),
            "--calib",
            p(&m.join("calib.npy")),
            "-o",
            p(d),
            "--emit-main",
        ]));
    }
    for f in [
        "model.graph.mlir",
        "model.quant.mlir",
        "model.tile.mlir",
        "model.c",
        "model.h",
        "main.c",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
}

#[test]
fn supported_op_table_is_current() {
    let doc = std::fs::read_to_string(root().join("docs/onnx-ops.md")).unwrap();
    let out = ok(nibble(&["ops"]));
    assert_eq!(
        doc,
        String::from_utf8_lossy(&out.stdout),
        "docs/onnx-ops.md is stale: regenerate it with `nibble ops > docs/onnx-ops.md`"
    );
}

#[test]
fn folded_qnt_ir_snapshot() {
    let out = ok(nibble(&[
        "opt",
        p(&root().join("lit-tests/qnt/fold-requant.mlir")),
        "--pass-pipeline=builtin.module(nibble-fold-requant)",
    ]));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
    let out = ok(nibble(&[
        "opt",
        p(&root().join("lit-tests/conversion/qnt-to-tile/lower-tile.mlir")),
        "--pass-pipeline=builtin.module(nibble-lower-tile,nibble-tile-size,nibble-plan-memory)",
    ]));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

/// Generated C with each multi-line array cut to its first line and a count of the lines
/// left out (the declarations, with their lengths, stay).
fn elide_array_bodies(c: &str) -> String {
    let mut out = String::new();
    let mut lines = c.lines();
    while let Some(line) = lines.next() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with("static const ") && line.ends_with("] = {") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "};").collect();
            if let Some(first) = body.first() {
                out.push_str(first);
                out.push('\n');
            }
            if body.len() > 1 {
                out.push_str(&format!("    /* {} more lines */\n", body.len() - 1));
            }
            out.push_str("};\n");
        }
    }
    out
}

/// The C that `nibble compile` writes for small op models, as reviewed snapshots: a change to
/// the emitted code (kernel calls, requantization records, tables, header, harness) shows as
/// a diff in tests/snapshots. Array bodies are elided beyond their first line (the model id in
/// the snapshot hashes all of model.c, so a change there still shows); main.c is shown as the
/// configuration it adds to runtime/c/main_template.c.
#[test]
fn generated_c_snapshots() {
    let ops = root().join("tests-data/ops");
    let template = std::fs::read_to_string(root().join("runtime/c/main_template.c")).unwrap();
    let (head, tail) = template.split_once("/*@CONFIG@*/").unwrap();
    for name in [
        "activations",
        "cnn_activations",
        "cnn_grouped",
        "cnn_squeeze_excite_silu",
        "conv_transpose",
        "resize_modes",
    ] {
        let out = tmp(&format!("c-snapshot-{name}"));
        let mut calib = ops.join(format!("{name}_calib.npy"));
        if !calib.exists() {
            calib = ops.join(format!("{name}_x.npy"));
        }
        let model = ops.join(format!("{name}.onnx"));
        let (model, calib, out_dir) = (p(&model), p(&calib), p(&out));
        ok(nibble(&[
            "compile",
            model,
            "--calib",
            calib,
            "-o",
            out_dir,
            "--emit-main",
        ]));
        let file = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
        let main_c = file("main.c");
        let config = main_c
            .strip_prefix(head)
            .and_then(|m| m.strip_suffix(tail))
            .expect("main.c is the template with its configuration");
        let text = format!(
            "// model.h\n{}\n// model.c\n{}\n// main.c: the configuration\n{config}",
            file("model.h"),
            elide_array_bodies(&file("model.c"))
        );
        insta::assert_snapshot!(format!("generated_c_{name}"), text);
    }
}

/// One clear error line (or a located MLIR diagnostic), a non-zero exit, never a panic.
fn fails_with(out: Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1, got {:?}: {err}",
        out.status
    );
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

#[test]
fn bad_inputs_give_clear_errors() {
    let d = tmp("bad");
    let m = model_dir();
    let model = std::fs::read(m.join("model.onnx")).unwrap();
    // Truncated ONNX.
    std::fs::write(d.join("truncated.onnx"), &model[..model.len() / 3]).unwrap();
    fails_with(
        nibble(&["import", p(&d.join("truncated.onnx"))]),
        "is not a valid ONNX model",
    );
    // Not ONNX at all.
    std::fs::write(d.join("text.onnx"), "this is not a model").unwrap();
    fails_with(
        nibble(&["import", p(&d.join("text.onnx"))]),
        "is not a valid ONNX model",
    );
    // Missing file.
    fails_with(
        nibble(&["import", p(&d.join("missing.onnx"))]),
        "cannot read",
    );
    // Unsupported op: names the op, the node and the supported list.
    let unsupported = nibble_frontend::onnx::ModelProto {
        graph: Some(nibble_frontend::onnx::GraphProto {
            node: vec![nibble_frontend::onnx::NodeProto {
                op_type: Some("LSTM".into()),
                name: Some("rnn".into()),
                input: vec!["x".into()],
                output: vec!["y".into()],
                ..Default::default()
            }],
            input: vec![value_info("x", &[1, 10])],
            output: vec![value_info("y", &[1, 10])],
            ..Default::default()
        }),
        ..Default::default()
    };
    std::fs::write(
        d.join("lstm.onnx"),
        prost::Message::encode_to_vec(&unsupported),
    )
    .unwrap();
    fails_with(
        nibble(&["import", p(&d.join("lstm.onnx"))]),
        "unsupported op 'LSTM' (node 'rnn'); supported ops: Add, AveragePool, BatchNormalization",
    );
    // Corrupted models: wrong tensor sizes, a cyclic graph, a missing initializer, control flow.
    use nibble_frontend::onnx::{NodeProto, TensorProto};
    let node = |op: &str, name: &str, ins: &[&str], outs: &[&str]| NodeProto {
        op_type: Some(op.into()),
        name: Some(name.into()),
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: outs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let huge = TensorProto {
        name: Some("w".into()),
        dims: vec![1 << 40, 1 << 40],
        data_type: Some(1),
        ..Default::default()
    };
    let bad_size = TensorProto {
        name: Some("w".into()),
        dims: vec![8, 1, 3, 3],
        data_type: Some(1),
        raw_data: Some(vec![0; 10]),
        ..Default::default()
    };
    let cases = [
        (
            "huge",
            vec![node("Conv", "conv", &["x", "w"], &["y"])],
            vec![huge],
            "of shape [1099511627776, 1099511627776] is too large",
        ),
        (
            "badsize",
            vec![node("Conv", "conv", &["x", "w"], &["y"])],
            vec![bad_size],
            "has 10 bytes of data for 72 float elements",
        ),
        (
            "cyclic",
            vec![
                node("Relu", "a", &["z"], &["y"]),
                node("Relu", "b", &["y"], &["z"]),
            ],
            vec![],
            "node 'a' (Relu): input 'z' is not defined before this node",
        ),
        (
            "noinit",
            vec![node("Conv", "conv", &["x", "w_missing"], &["y"])],
            vec![],
            "node 'conv' (Conv): input 'w_missing' must be a constant",
        ),
        (
            "loop",
            vec![node("Loop", "loop", &["x"], &["y"])],
            vec![],
            "control flow with subgraphs is not supported",
        ),
    ];
    for (name, nodes, inits, needle) in cases {
        let model = nibble_frontend::onnx::ModelProto {
            graph: Some(nibble_frontend::onnx::GraphProto {
                node: nodes,
                initializer: inits,
                input: vec![value_info("x", &[1, 1, 8, 8])],
                output: vec![value_info("y", &[1, 8, 6, 6])],
                ..Default::default()
            }),
            ..Default::default()
        };
        let path = d.join(format!("{name}.onnx"));
        std::fs::write(&path, prost::Message::encode_to_vec(&model)).unwrap();
        fails_with(nibble(&["import", p(&path)]), needle);
    }
    // .npy of the wrong dtype and of the wrong shape.
    ArrayD::<i32>::zeros(vec![2, 1, 28, 28])
        .write_npy(std::fs::File::create(d.join("int.npy")).unwrap())
        .unwrap();
    fails_with(
        nibble(&[
            "run",
            p(&m.join("model.onnx")),
            "--input",
            p(&d.join("int.npy")),
            "--out-dir",
            p(&d),
        ]),
        "is not a float32 .npy array",
    );
    ArrayD::<f32>::zeros(vec![2, 3, 28, 28])
        .write_npy(std::fs::File::create(d.join("shape.npy")).unwrap())
        .unwrap();
    fails_with(
        nibble(&[
            "run",
            p(&m.join("model.onnx")),
            "--input",
            p(&d.join("shape.npy")),
            "--out-dir",
            p(&d),
        ]),
        "expected N x [1, 28, 28]",
    );
    fails_with(
        nibble(&[
            "compile",
            p(&m.join("model.onnx")),
            "--calib",
            p(&d.join("shape.npy")),
            "-o",
            p(&d.join("o")),
        ]),
        "expected N x [1, 28, 28]",
    );
    // Unknown pass, invalid IR.
    std::fs::write(d.join("ok.mlir"), "func.func @f() {\n  return\n}\n").unwrap();
    fails_with(
        nibble(&[
            "opt",
            p(&d.join("ok.mlir")),
            "--pass-pipeline=builtin.module(no-such-pass)",
        ]),
        "unknown pass 'no-such-pass'",
    );
    std::fs::write(d.join("bad.mlir"), "func.func @f( {\n").unwrap();
    fails_with(nibble(&["opt", p(&d.join("bad.mlir"))]), "bad.mlir:1:");
    // Ops without a quantized form are reported with their layers before calibration, all of
    // them at once, not left in float.
    let ops = root().join("tests-data/ops");
    let out = nibble(&[
        "compile",
        p(&ops.join("reduce_pad_split.onnx")),
        "--calib",
        p(&ops.join("reduce_pad_split_x.npy")),
        "-o",
        p(&d.join("reduce")),
    ]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("tosa.pad at loc("), "{err}");
    assert!(!err.contains("calibrating"), "{err}");
    fails_with(
        out,
        "error: cannot quantize 'tosa.reduce_max' at loc(\"rmax\"): no quantized form in this version (",
    );
    // --bits: an unknown node is named; a node whose output a max pool reads cannot be 16-bit.
    let mnist = |bits: &str, out: &str| {
        nibble(&[
            "compile",
            p(&m.join("model.onnx")),
            "--calib",
            p(&m.join("calib.npy")),
            "-o",
            p(&d.join(out)),
            "--bits",
            bits,
        ])
    };
    fails_with(mnist("nosuchnode=16", "b1"), "no node named 'nosuchnode'");
    fails_with(
        mnist("MaxPool_3=16", "b3"),
        "nibble.bits = 16, but its result is not a tensor of its own at the quant level",
    );
    fails_with(
        mnist("Relu_2=16", "b2"),
        "its result cannot be 16-bit: 'qnt.max_pool2d' at loc(\"MaxPool_3\") reads it",
    );
    let out = nibble(&[
        "compile", "m.onnx", "--calib", "c.npy", "-o", "o", "--bits", "conv1=7",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("activations are 8 or 16 bits"));
    // A wrong flag or flag value is clap's usage error (exit 2), not a panic.
    let out = nibble(&[
        "compile",
        "m.onnx",
        "--calib",
        "c.npy",
        "-o",
        "o",
        "--ranges",
        "percentile",
        "--percentile",
        "150",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("150 is not in (0, 100]"));
    let out = nibble(&["compile", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn mutated_models_never_panic() {
    // Deterministic corruptions of a real model: byte flips, truncations, insertions.
    let d = tmp("mutations");
    let original = std::fs::read(model_dir().join("model.onnx")).unwrap();
    let mut state: u64 = 0x9e3779b97f4a7c15;
    let mut next = |bound: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % bound.max(1)
    };
    for i in 0..60 {
        let mut bytes = original.clone();
        match i % 3 {
            0 => {
                for _ in 0..1 + next(20) {
                    let at = next(bytes.len());
                    bytes[at] = next(256) as u8;
                }
            }
            1 => bytes.truncate(next(bytes.len())),
            _ => {
                let at = next(bytes.len());
                let junk: Vec<u8> = (0..1 + next(40)).map(|_| next(256) as u8).collect();
                bytes.splice(at..at, junk);
            }
        }
        let path = d.join("mutated.onnx");
        std::fs::write(&path, &bytes).unwrap();
        let out = nibble(&["import", p(&path), "-o", p(&d.join("out.mlir"))]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0) | Some(1)) && !err.contains("panicked"),
            "mutation {i}: {:?} {err}",
            out.status
        );
    }
}

fn value_info(name: &str, dims: &[i64]) -> nibble_frontend::onnx::ValueInfoProto {
    use nibble_frontend::onnx::*;
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(1),
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| tensor_shape_proto::Dimension {
                            value: Some(tensor_shape_proto::dimension::Value::DimValue(d)),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `nibble report` scores every configuration against FP32 and names the layers that lose the
/// most; the HTML page is self-contained (inline SVG charts, no external references).
#[test]
fn report_shows_configurations_and_layers() {
    let d = tmp("report");
    let m = model_dir();
    let html = d.join("report.html");
    let out = ok(nibble(&[
        "report",
        p(&m.join("model.onnx")),
        "--calib",
        p(&m.join("calib.npy")),
        "--eval",
        p(&m.join("test_x.npy")),
        "--labels",
        p(&m.join("test_labels.npy")),
        "--limit",
        "100",
        "--input-range",
        "-0.4243,2.8216",
        "--html",
        p(&html),
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" / ") && l.contains(" dB"))
        .collect();
    // 3 schemes × 2 granularities × 5 range methods, then the best with 4 combinations of fixes,
    // and with 16-bit activations (alone and after GPTQ) where the compiler chooses any, then
    // the width sweep: uniform 4- and 2-bit weights and the e-graph's choice at 6..2 bits.
    let wide = rows
        .iter()
        .filter(|r| r.contains(" + 16-bit (auto)"))
        .count();
    let widths = rows
        .iter()
        .filter(|r| r.contains("-bit weights") || r.contains(" + widths auto ≤ "))
        .count();
    assert_eq!(widths, 7, "{text}");
    assert_eq!(rows.len(), 34 + wide + widths, "{text}");
    assert!(text.contains(" + equalize + bias correction "), "{text}");
    assert!(text.contains(" + GPTQ "), "{text}");
    assert!(!text.contains("FAILED"), "{text}");
    // FP32's top-1 and every INT8 configuration's, within a point of it on MNIST, except
    // entropy's (its KL criterion clips MNIST's bimodal input at 1.2 of 2.8) and data-free's
    // (MNIST has no BatchNorm: statistics come from the input alone, through five layers whose
    // inputs are far from independent); those only have to run (data-free's accuracy is tested
    // on ppocr_cls).
    let pct = |l: &str| -> f64 {
        l.split_whitespace()
            .find_map(|w| w.parse::<f64>().ok())
            .unwrap()
    };
    let fp32 = pct(text.lines().find(|l| l.starts_with("FP32")).unwrap());
    for r in rows
        .iter()
        .filter(|r| !r.contains("entropy") && !r.contains("data-free"))
    {
        let v = pct(r.split_once("  ").unwrap().1);
        assert!((fp32 - v).abs() <= 1.0, "{r} vs FP32 {fp32}");
    }
    // The 10 layers whose own rounding loses the most, in order of own SQNR.
    let layers: Vec<(f64, &str)> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("own "))
        .map(|l| (pct(l), l))
        .collect();
    assert_eq!(layers.len(), 10, "{text}");
    assert!(layers.windows(2).all(|w| w[0].0 <= w[1].0), "{text}");
    assert!(layers.iter().any(|l| l.1.contains("Relu_2")), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<svg").count(), 2);
    assert!(
        !page.contains("src=") && !page.contains("<link"),
        "not self-contained"
    );
    assert!(page.contains("Per-layer SQNR") && page.contains("Relu_8"));
    // As a person sees it: headless Chromium's screenshot of the page shows the charts' bars
    // and points (blue, or red for a layer whose own rounding loses much) — thousands of
    // saturated pixels; a page whose SVG did not render is white, grey and black only.
    let colored = colored_pixels(&screenshot(&html, &d));
    assert!(
        colored > 5000,
        "{colored} coloured pixels in the screenshot"
    );
}

/// A PNG screenshot of `page` by headless Chromium (Debian's `chromium`, from setup.sh), as
/// RGB pixels.
fn screenshot(page: &Path, dir: &Path) -> Vec<[u8; 3]> {
    let shot = dir.join("page.png");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg("--window-size=1280,3000")
        .arg(format!(
            "--user-data-dir={}",
            dir.join("chromium").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (scripts/setup.sh installs it)");
    assert!(out.status.success() && shot.exists(), "chromium: {out:?}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    assert!(step >= 3, "{:?}", info.color_type);
    buf[..info.buffer_size()]
        .chunks_exact(step)
        .map(|c| [c[0], c[1], c[2]])
        .collect()
}

/// Pixels far from grey: one channel at least 100 above another.
fn colored_pixels(pixels: &[[u8; 3]]) -> usize {
    pixels
        .iter()
        .filter(|p| p.iter().max().unwrap() - p.iter().min().unwrap() >= 100)
        .count()
}

/// `--ranges data-free` compiles without a single vector: ranges from the input range and the
/// BatchNorm statistics the importer keeps. On the ppocr_cls slice the integer program decides
/// as FP32 does on at least 19 of the 20 lines; without --calib any other method is refused.
#[test]
fn data_free_ranges_need_no_vectors() {
    let cls = root().join("tests-data/ppocr_cls");
    let d = tmp("data-free");
    let out = d.join("out");
    let model = cls.join("model.onnx");
    let common = [
        "compile",
        p(&model),
        "--input-shape",
        "x=1,3,48,192",
        "-o",
        p(&out),
    ];
    fails_with(
        nibble(&[&common[..], &["--ranges", "mse"]].concat()),
        "--ranges mse needs --calib",
    );
    fails_with(
        nibble(
            &[
                &common[..],
                &["--ranges", "data-free", "--weight-rounding", "gptq"],
            ]
            .concat(),
        ),
        "--weight-rounding gptq needs --calib",
    );
    fails_with(
        nibble(
            &[
                &common[..],
                &["--ranges", "data-free", "--equalize", "--absorb-bias"],
            ]
            .concat(),
        ),
        "--absorb-bias needs --equalize and --calib",
    );
    ok(nibble(
        &[
            &common[..],
            &[
                "--ranges",
                "data-free",
                "--scheme",
                "asymmetric",
                "--granularity",
                "channel",
            ],
        ]
        .concat(),
    ));
    let graph = std::fs::read_to_string(out.join("model.graph.mlir")).unwrap();
    assert!(graph.contains(attrs::BN_STD), "no BatchNorm statistics");
    ok(nibble(&[
        "run",
        p(&out.join("model.tile.mlir")),
        "--input",
        p(&cls.join("test_x.npy")),
        "--out-dir",
        p(&d.join("int")),
    ]));
    let got = read(&d.join("int/out0.npy"));
    let reference = read(&cls.join("test_ref_out0.npy"));
    let same = top1(&got)
        .iter()
        .zip(top1(&reference))
        .filter(|(a, b)| **a == *b)
        .count();
    assert!(same >= 19, "{same}/20 decisions equal to FP32");
}

/// ConvTranspose (stride 2, output padding) compiles to integer C: bit-exact with the
/// interpreter, within 35 dB of onnxruntime FP32.
#[test]
fn conv_transpose_compiles_bit_exact() {
    let ops = root().join("tests-data/ops");
    let (out, quant, _) = compile_to_c(
        "conv_transpose",
        &ops.join("conv_transpose.onnx"),
        &ops.join("conv_transpose_x.npy"),
        &ops.join("conv_transpose_x.npy"),
        &["--scheme", "asymmetric", "--granularity", "channel"],
        1,
    );
    assert!(quant.contains("qnt.transpose_conv2d"));
    let s = sqnr(&out[0], &read(&ops.join("conv_transpose_ref0.npy")));
    assert!(s >= 35.0, "conv_transpose: SQNR {s:.1} dB");
}

/// Resize (nearest and bilinear, up and down) compiles to integer C: bit-exact with the
/// interpreter, every output within 35 dB of onnxruntime FP32.
#[test]
fn resize_compiles_bit_exact() {
    let ops = root().join("tests-data/ops");
    let (out, quant, _) = compile_to_c(
        "resize_modes",
        &ops.join("resize_modes.onnx"),
        &ops.join("resize_modes_x.npy"),
        &ops.join("resize_modes_x.npy"),
        &["--scheme", "asymmetric"],
        4,
    );
    assert!(quant.contains("mode = \"bilinear\"") && quant.contains("mode = \"nearest\""));
    for (k, o) in out.iter().enumerate() {
        let s = sqnr(o, &read(&ops.join(format!("resize_modes_ref{k}.npy"))));
        assert!(s >= 35.0, "resize output {k}: SQNR {s:.1} dB");
    }
}

/// A grouped convolution (group 2) imports as per-group slices, convs and a concat, and
/// compiles to integer C bit-exact with the interpreter, per tensor and per channel.
#[test]
fn grouped_convolutions_compile_bit_exact() {
    for granularity in ["tensor", "channel"] {
        let (quant, sqnr) = compile_op_model("cnn_grouped", granularity);
        assert!(quant.matches("qnt.conv2d").count() == 3, "{quant}");
        assert!(quant.contains("qnt.slice") && quant.contains("qnt.concat"));
        assert!(
            sqnr >= 25.0,
            "{granularity}: INT8 output SQNR {sqnr:.1} dB against onnxruntime FP32"
        );
    }
}
