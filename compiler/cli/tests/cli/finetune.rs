//! `nibble finetune` on a short run (one epoch over 300 labelled digits of tests-data/mnist_cnn
//! at ternary weights): the loss falls and the fake-quantized accuracy does not, two runs write
//! the same bytes, the result compiles at that width; bad labels and unsupported ops are clear
//! errors before training. `grids.rs` (the binary's grid adapters, compiled in here) carries its
//! own bit-for-bit test against `nibble_quantize::grid_scales`.

use super::*;
use nibble_frontend::onnx::ModelProto;

#[path = "../../src/cmd/finetune/grids.rs"]
mod grids;

/// Rows 0..300 of the test digits and their labels (optionally changed) in `dir`.
fn slice(dir: &Path, edit: impl Fn(&mut Vec<i64>)) -> (PathBuf, PathBuf) {
    let x = read(&model_dir().join("test_x.npy"));
    let x = x.slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..300));
    let xp = dir.join("x.npy");
    x.to_owned()
        .write_npy(std::fs::File::create(&xp).unwrap())
        .unwrap();
    let l =
        Array1::<i64>::read_npy(std::fs::File::open(model_dir().join("test_labels.npy")).unwrap())
            .unwrap();
    let mut l: Vec<i64> = l.iter().take(300).copied().collect();
    edit(&mut l);
    let lp = dir.join("labels.npy");
    Array1::from(l)
        .write_npy(std::fs::File::create(&lp).unwrap())
        .unwrap();
    (xp, lp)
}

fn finetune(model: &Path, x: &Path, l: &Path, out: &Path) -> Output {
    nibble(&[
        "finetune",
        p(model),
        "--data",
        p(x),
        "--labels",
        p(l),
        "--weight-bits",
        "ternary",
        "--epochs",
        "1",
        "--seed",
        "3",
        "-o",
        p(out),
    ])
}

/// The two numbers of `… NAME A → B` in the summary line.
fn before_after(stderr: &str, name: &str) -> (f64, f64) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("at weight bits"))
        .expect(stderr);
    let part = line.split(name).nth(1).expect(line);
    let nums: Vec<f64> = part
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|t| t.parse().ok())
        .take(2)
        .collect();
    (nums[0], nums[1])
}

#[test]
fn finetune_lowers_the_loss_is_deterministic_and_compiles() {
    let d = tmp("finetune_short");
    let (x, l) = slice(&d, |_| {});
    let model = model_dir().join("model.onnx");
    let out = ok(finetune(&model, &x, &l, &d.join("a.onnx")));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let loss = before_after(&err, "loss");
    let acc = before_after(&err, "training data");
    assert!(loss.1 < loss.0, "loss did not fall: {err}");
    assert!(acc.1 >= acc.0, "accuracy at ternary fell: {err}");
    ok(finetune(&model, &x, &l, &d.join("b.onnx")));
    let (a, b) = (
        std::fs::read(d.join("a.onnx")).unwrap(),
        std::fs::read(d.join("b.onnx")).unwrap(),
    );
    assert!(a == b, "two runs with the same flags differ");
    assert!(
        a != std::fs::read(&model).unwrap(),
        "the weights did not change"
    );
    let calib = model_dir().join("calib.npy");
    ok(nibble(&[
        "compile",
        p(&d.join("a.onnx")),
        "--calib",
        p(&calib),
        "--weight-bits",
        "ternary",
        "--weight-rounding",
        "nearest",
        "-o",
        p(&d.join("out")),
    ]));
    assert!(d.join("out/model.c").exists());
}

#[test]
fn finetune_refuses_bad_labels_and_unsupported_ops() {
    let d = tmp("finetune_bad");
    let model = model_dir().join("model.onnx");
    let fails = |x: &Path, l: &Path, model: &Path, want: &str| {
        let out = finetune(model, x, l, &d.join("t.onnx"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{err}");
        assert!(!err.contains("panicked") && !err.contains("epoch"), "{err}");
    };
    let (x, l) = slice(&d, |l| l.truncate(299));
    fails(&x, &l, &model, "299 labels");
    let (x, l) = slice(&d, |l| l[7] = 10);
    fails(
        &x,
        &l,
        &model,
        "label 10 (row 7) is not a class of the model's output (0 … 9)",
    );
    let (x, l) = slice(&d, |_| {});
    let mut m: ModelProto =
        prost::Message::decode(std::fs::read(&model).unwrap().as_slice()).unwrap();
    let relu = m
        .graph
        .as_mut()
        .unwrap()
        .node
        .iter_mut()
        .find(|n| n.name() == "Relu_12")
        .unwrap();
    relu.op_type = Some("Sigmoid".into());
    let bad = d.join("sigmoid.onnx");
    std::fs::write(&bad, prost::Message::encode_to_vec(&m)).unwrap();
    fails(&x, &l, &bad, "node 'Relu_12' is a Sigmoid, which `nibble finetune` does not support (supported: Conv, Gemm");
}
