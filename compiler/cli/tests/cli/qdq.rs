//! Already-quantized models (QDQ and QOperator, made by onnxruntime's quantizer, see
//! tests-data/qdq/PROVENANCE.md): compiled without calibration vectors, they keep the model's
//! own grids, build to C bit-exact with the integer interpreter, and agree with onnxruntime's
//! run of the same quantized model; malformed quantization is a clear error naming the node.

use super::*;
use nibble_frontend::onnx::{ModelProto, NodeProto, TensorProto};

fn qdq_dir() -> PathBuf {
    root().join("tests-data/qdq")
}

fn load(name: &str) -> ModelProto {
    let bytes = std::fs::read(qdq_dir().join(name)).unwrap();
    prost::Message::decode(bytes.as_slice()).unwrap()
}

fn initializer<'a>(m: &'a ModelProto, name: &str) -> &'a TensorProto {
    let g = m.graph.as_ref().unwrap();
    g.initializer.iter().find(|t| t.name() == name).unwrap()
}

/// The single value of a scalar float or uint8 initializer.
fn scalar(t: &TensorProto) -> f64 {
    match (t.float_data.first(), t.int32_data.first(), t.raw_data()) {
        (Some(&f), _, _) => f as f64,
        (_, Some(&i), _) => i as f64,
        (_, _, raw) if raw.len() == 4 => f32::from_le_bytes(raw.try_into().unwrap()) as f64,
        (_, _, raw) if raw.len() == 1 => raw[0] as f64,
        _ => panic!("'{}' is not a scalar", t.name()),
    }
}

/// The grid the model's own input must keep at the qnt level: its QuantizeLinear's scale, and
/// its uint8 zero point moved to int8.
fn input_grid(m: &ModelProto) -> (f64, i64) {
    let g = m.graph.as_ref().unwrap();
    let input = g.input[0].name();
    let q = g
        .node
        .iter()
        .find(|n| n.op_type() == "QuantizeLinear" && n.input[0] == input)
        .unwrap();
    let scale = scalar(initializer(m, &q.input[1])) as f32;
    let zp = scalar(initializer(m, &q.input[2])) as i64 - 128;
    (scale as f64, zp)
}

/// Whether the qnt text holds an 8-bit type on `grid` (MLIR prints the scale with 17 digits).
fn has_grid(quant: &str, (scale, zp): (f64, i64)) -> bool {
    quant.split("quant.uniform<i8:f32, ").skip(1).any(|t| {
        let body = &t[..t.find('>').unwrap_or(t.len())];
        let Some((s, z)) = body.split_once(':') else {
            return false;
        };
        let close = s
            .parse::<f64>()
            .is_ok_and(|s| (s - scale).abs() <= 1e-12 * scale);
        close && z.parse::<i64>() == Ok(zp)
    })
}

/// Compiles `model` with no flags but `flags`, checks C against the interpreter (bit for bit, in
/// `compile_args_to_c`), and returns (top-1 agreement %, SQNR dB) against onnxruntime's run of
/// the same quantized model, and the qnt-level text.
fn against_onnxruntime(
    name: &str,
    source_x: &Path,
    rows: usize,
    flags: &[&str],
) -> (f64, f64, String) {
    let d = tmp(&format!("qdq-x-{name}"));
    let x = first_rows(source_x, rows, &d);
    let model = qdq_dir().join(format!("{name}.onnx"));
    let (c, quant, _) = compile_args_to_c(&format!("qdq-{name}"), &model, flags, &x, 1);
    let ort = read(&qdq_dir().join(format!("{name}_ort_out0.npy")));
    let (a, b) = (top1(&c[0]), top1(&ort));
    let agree = a.iter().zip(&b).filter(|(p, q)| p == q).count();
    (
        100.0 * agree as f64 / a.len() as f64,
        sqnr(&c[0], &ort),
        quant,
    )
}

/// QDQ and QOperator MNIST and the QDQ text-direction classifier compile with default flags and
/// no `--calib`: the qnt level carries the model's own input grid, and the C agrees with
/// onnxruntime on the quantized model (measured: mnist 71 dB and 100 % top-1, ppocr_cls 33 dB
/// and 100 %; the remaining difference is arithmetic — onnxruntime rounds in float, nibble in
/// fixed point, see docs/numerics.md).
#[test]
fn quantized_models_keep_their_grids_without_calibration() {
    let mnist_x = root().join("tests-data/mnist_cnn/test_x.npy");
    for name in ["mnist_qdq", "mnist_qop"] {
        let (agree, db, quant) = against_onnxruntime(name, &mnist_x, 200, &[]);
        assert!(agree >= 99.0, "{name}: top-1 agreement {agree:.1} %");
        assert!(db >= 60.0, "{name}: SQNR vs onnxruntime {db:.1} dB");
        let grid = input_grid(&load(&format!("{name}.onnx")));
        assert!(
            has_grid(&quant, grid),
            "{name}: no {grid:?} grid in the qnt IR"
        );
    }
    let cls_x = root().join("tests-data/ppocr_cls/test_x.npy");
    let shape = ["--input-shape", "x=1,3,48,192"];
    let (agree, db, quant) = against_onnxruntime("ppocr_cls_qdq", &cls_x, 20, &shape);
    assert!(agree >= 99.0, "ppocr_cls_qdq: top-1 agreement {agree:.1} %");
    assert!(db >= 28.0, "ppocr_cls_qdq: SQNR vs onnxruntime {db:.1} dB");
    let grid = input_grid(&load("ppocr_cls_qdq.onnx"));
    assert!(
        has_grid(&quant, grid),
        "ppocr_cls_qdq: no {grid:?} grid in the qnt IR"
    );
}

/// onnxruntime's dynamically quantized MNIST (DynamicQuantizeLinear → ConvInteger /
/// MatMulInteger) compiles with `--calib`: the weights keep the model's integers and scales, the
/// activations get static grids, and the C agrees with onnxruntime's dynamic run.
#[test]
fn dynamically_quantized_model_gets_static_activation_grids() {
    let d = tmp("qdq-x-dyn");
    let x = first_rows(&root().join("tests-data/mnist_cnn/test_x.npy"), 200, &d);
    let calib = model_dir().join("calib.npy");
    let model = qdq_dir().join("mnist_dyn.onnx");
    let (c, quant, _) = compile_to_c("qdq-dyn", &model, &calib, &x, &[], 1);
    let ort = read(&qdq_dir().join("mnist_dyn_ort_out0.npy"));
    let (a, b) = (top1(&c[0]), top1(&ort));
    let agree = 100.0 * a.iter().zip(&b).filter(|(p, q)| p == q).count() as f64 / a.len() as f64;
    let db = sqnr(&c[0], &ort);
    assert!(
        agree >= 99.0,
        "top-1 agreement with onnxruntime {agree:.1} %"
    );
    assert!(db >= 25.0, "SQNR vs onnxruntime {db:.1} dB");
    // Every channel of the first convolution's weights is on the model's per-tensor grid
    // (nibble's own rule would give each channel its own scale).
    let m = load("mnist_dyn.onnx");
    let scale = scalar(initializer(&m, "conv_layers.0.weight_scale"));
    let conv = quant
        .lines()
        .find(|l| l.contains("\"qnt.conv2d\""))
        .unwrap();
    let weights = conv.split("quant.uniform<i8:f32").nth(2).unwrap();
    let body = &weights[..weights.find('>').unwrap()];
    let scales: Vec<f64> = body
        .split([',', '{', '}', ':', ' '])
        .filter(|v| v.parse::<i64>().is_err())
        .filter_map(|v| v.parse::<f64>().ok())
        .collect();
    assert!(
        !scales.is_empty() && scales.iter().all(|s| (s - scale).abs() <= 1e-12 * scale),
        "the first conv's weight grid {scales:?} is not the model's {scale}"
    );
}

fn node<'a>(m: &'a mut ModelProto, name: &str) -> &'a mut NodeProto {
    let g = m.graph.as_mut().unwrap();
    g.node.iter_mut().find(|n| n.name() == name).unwrap()
}

fn scalar_f32(name: &str, v: f32) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        data_type: Some(1),
        float_data: vec![v],
        ..Default::default()
    }
}

/// Malformed quantization in a QDQ model is a clear error naming the node and what is wrong.
#[test]
fn malformed_quantized_models_are_clear_errors() {
    let d = tmp("qdq-bad");
    let compile = |m: &ModelProto, what: &str| {
        let path = d.join(format!("{what}.onnx"));
        std::fs::write(&path, prost::Message::encode_to_vec(m)).unwrap();
        nibble(&["compile", p(&path), "-o", p(&d.join(what))])
    };
    // The input's DequantizeLinear uses another scale than its QuantizeLinear.
    let mut m = load("mnist_qdq.onnx");
    m.graph
        .as_mut()
        .unwrap()
        .initializer
        .push(scalar_f32("other_scale", 0.5));
    node(&mut m, "input_DequantizeLinear").input[1] = "other_scale".into();
    let out = compile(&m, "disagree");
    fails_with(out.clone(), "input_DequantizeLinear");
    fails_with(out, "disagrees with the one");

    // A zero scale.
    let mut m = load("mnist_qdq.onnx");
    let g = m.graph.as_mut().unwrap();
    let s = g
        .initializer
        .iter_mut()
        .find(|t| t.name() == "input_scale")
        .unwrap();
    *s = scalar_f32("input_scale", 0.0);
    fails_with(compile(&m, "zero-scale"), "must be finite and positive");

    // A convolution reads the quantized (integer) tensor directly.
    let mut m = load("mnist_qdq.onnx");
    let g = m.graph.as_mut().unwrap();
    let conv = g
        .node
        .iter_mut()
        .find(|n| n.input.first().map(String::as_str) == Some("input_DequantizeLinear_Output"))
        .unwrap();
    conv.input[0] = "input_QuantizeLinear_Output".into();
    fails_with(compile(&m, "direct"), "a quantized tensor, directly");

    // An onnxruntime contrib op other than QGemm.
    let mut m = load("mnist_qdq.onnx");
    let q = node(&mut m, "input_QuantizeLinear");
    q.domain = Some("com.microsoft".into());
    q.op_type = Some("QLinearAdd".into());
    fails_with(compile(&m, "contrib"), "ops of domain 'com.microsoft'");
    // A dynamically quantized layer outside onnxruntime's pattern: the Mul that scales the
    // integer result reads it without the Cast.
    let mut m = load("mnist_dyn.onnx");
    node(&mut m, "Conv_1_quant_output_scale_mul").input[0] = "conv_1_output_quantized".into();
    let out = compile(&m, "dynamic");
    fails_with(out.clone(), "Conv_1_quant");
    fails_with(out, "onnxruntime's pattern");

    // Flags that would change the weights the model already rounded to its grids.
    let qdq = root().join("tests-data/qdq/mnist_qdq.onnx");
    let calib = root().join("tests-data/mnist_cnn/calib.npy");
    let flags_out = d.join("flags");
    for (flags, needle) in [
        (&["--equalize"][..], "--equalize (it rescales"),
        (&["--weight-rounding", "gptq"][..], "--weight-rounding gptq"),
        (
            &["--weight-bits", "auto", "--avg-weight-bits", "4"][..],
            "--weight-bits auto",
        ),
    ] {
        let mut args = vec![
            "compile",
            p(&qdq),
            "--calib",
            p(&calib),
            "-o",
            p(&flags_out),
        ];
        args.extend_from_slice(flags);
        let out = nibble(&args);
        fails_with(out.clone(), "the model is already quantized");
        fails_with(out, needle);
    }
}
