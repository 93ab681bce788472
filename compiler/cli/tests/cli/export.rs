//! `nibble compile --emit onnx-qdq`: the QDQ ONNX export carries nibble's decisions. nibble
//! re-compiles it without calibration vectors to the same C, and onnxruntime runs it in
//! agreement with nibble's integer interpreter.

use super::*;

/// `python3` with onnxruntime and numpy, or a failure saying how to get them (never a skip).
fn python_with_onnxruntime() {
    let out = Command::new("python3")
        .args(["-c", "import onnxruntime, numpy"])
        .output();
    assert!(
        out.as_ref().is_ok_and(|o| o.status.success()),
        "python3 with onnxruntime and numpy is required (scripts/setup.sh installs them: pip install onnxruntime==1.32.0): {:?}",
        out.map(|o| String::from_utf8_lossy(&o.stderr).to_string())
    );
}

/// onnxruntime's outputs (output 0) of `model` on every sample of `x`, one at a time, each op
/// as the QDQ model states it (DequantizeLinear → float op → QuantizeLinear): graph
/// optimizations off. With them on, onnxruntime fuses the QDQ groups into its integer kernels,
/// whose x86 AVX2 form without VNNI saturates pairs of u8·s8 products at 16 bits (onnxruntime's
/// documented U8S8 saturation): on such a machine mnist's export measured 25.8 dB against the
/// interpreter optimized, 146 dB unoptimized; the result would depend on the CPU.
fn onnxruntime(model: &Path, x: &Path, out: &Path) -> ArrayD<f32> {
    python_with_onnxruntime();
    let script = "import sys, numpy as np, onnxruntime as ort\n\
        o = ort.SessionOptions(); o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL\n\
        s = ort.InferenceSession(sys.argv[1], sess_options=o, providers=['CPUExecutionProvider'])\n\
        x = np.load(sys.argv[2]); name = s.get_inputs()[0].name\n\
        y = [s.run(None, {name: x[k:k + 1]})[0] for k in range(len(x))]\n\
        np.save(sys.argv[3], np.concatenate(y).astype(np.float32))\n";
    let run = Command::new("python3")
        .args(["-c", script, p(model), p(x), p(out)])
        .output()
        .expect("run python3");
    assert!(
        run.status.success(),
        "onnxruntime failed on {}: {}",
        model.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    read(out)
}

/// Compiles `model` with `flags` and `--emit onnx-qdq`; runs nibble's integer interpreter
/// and onnxruntime's run of the export on `x`; returns (top-1 agreement %, SQNR dB).
fn export_against_onnxruntime(name: &str, model: &Path, x: &Path, flags: &[&str]) -> (f64, f64) {
    let d = tmp(&format!("export-{name}"));
    let out = d.join("out");
    let mut args = vec!["compile", p(model), "-o", p(&out), "--emit", "onnx-qdq"];
    args.extend_from_slice(flags);
    ok(nibble(&args));
    let qdq = out.join("model.qdq.onnx");
    ok(nibble(&[
        "run",
        p(&out.join("model.tile.mlir")),
        "--input",
        p(x),
        "--out-dir",
        p(&d.join("int")),
    ]));
    let int = read(&d.join("int/out0.npy"));
    let ort = onnxruntime(&qdq, x, &d.join("ort.npy"));
    assert_eq!(int.shape(), ort.shape());
    let (a, b) = (top1(&int), top1(&ort));
    let agree = a.iter().zip(&b).filter(|(p, q)| p == q).count();
    (100.0 * agree as f64 / a.len() as f64, sqnr(&ort, &int))
}

/// onnxruntime runs the exported mnist_cnn and ppocr_cls and agrees with the integer
/// interpreter (measured with the default asymmetric grids, onnxruntime unoptimized: mnist
/// 100 % top-1 and 149.4 dB on 500 digits, ppocr_cls 100 % and 61.0 dB on its 20 lines;
/// onnxruntime rounds once per op in float, nibble in fixed point).
#[test]
fn qdq_export_runs_in_onnxruntime() {
    let m = model_dir();
    let d = tmp("export-x");
    let x = first_rows(&m.join("test_x.npy"), 500, &d);
    let calib = m.join("calib.npy");
    let (agree, db) =
        export_against_onnxruntime("mnist", &m.join("model.onnx"), &x, &["--calib", p(&calib)]);
    assert!(agree >= 99.0, "mnist: top-1 agreement {agree:.1} %");
    assert!(db >= 55.0, "mnist: SQNR vs onnxruntime {db:.1} dB");
    let cls = root().join("tests-data/ppocr_cls");
    let (agree, db) = export_against_onnxruntime(
        "ppocr_cls",
        &cls.join("model.onnx"),
        &cls.join("test_x.npy"),
        &[
            "--calib",
            p(&cls.join("calib.npy")),
            "--input-shape",
            "x=1,3,48,192",
        ],
    );
    assert!(agree >= 95.0, "ppocr_cls: top-1 agreement {agree:.1} %");
    assert!(db >= 35.0, "ppocr_cls: SQNR vs onnxruntime {db:.1} dB");
}

/// The grid (scale, zero point) of the first output of a qnt-level text.
fn output_grid(quant: &str) -> (f64, i64) {
    let line = quant
        .lines()
        .find(|l| l.contains("\"qnt.dequantize\""))
        .unwrap();
    let t = line.split("quant.uniform<i8:f32, ").nth(1).unwrap();
    let body = &t[..t.find('>').unwrap()];
    match body.split_once(':') {
        Some((s, z)) => (s.parse().unwrap(), z.parse().unwrap()),
        None => (body.parse().unwrap(), 0),
    }
}

/// The integers behind dequantized outputs on `grid`.
fn integers(out: &ArrayD<f32>, (scale, zp): (f64, i64)) -> Vec<i64> {
    out.iter()
        .map(|&v| (v as f64 / scale).round() as i64 + zp)
        .collect()
}

/// Round trip: the export re-compiled with no `--calib` gives the C of the first compile the
/// same output integers on all 2000 test digits. Not the same floats: ONNX holds the scales as
/// float32, so the re-compile's scales are nibble's f64 ones rounded (relative 1e-8) and its
/// fixed-point multipliers differ in the last bits (measured: ≤ 231 of 2^31; 72 % of the
/// dequantized outputs bit-identical, the rest within 4e-6).
#[test]
fn qdq_export_round_trips() {
    let m = model_dir();
    let (first, quant1, d) = compile_to_c(
        "export-round-trip-1",
        &m.join("model.onnx"),
        &m.join("calib.npy"),
        &m.join("test_x.npy"),
        &["--emit", "onnx-qdq"],
        1,
    );
    let qdq = d.join("out/model.qdq.onnx");
    let (second, quant2, _) =
        compile_args_to_c("export-round-trip-2", &qdq, &[], &m.join("test_x.npy"), 1);
    let (g1, g2) = (output_grid(&quant1), output_grid(&quant2));
    assert!(
        g1.1 == g2.1 && (g1.0 - g2.0).abs() <= 1e-7 * g1.0,
        "{g1:?} {g2:?}"
    );
    let (q1, q2) = (integers(&first[0], g1), integers(&second[0], g2));
    let same = q1.iter().zip(&q2).filter(|(a, b)| a == b).count();
    assert_eq!(
        same,
        q1.len(),
        "round trip: {same} of {} output integers equal",
        q1.len()
    );
}
