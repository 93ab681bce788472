//! `nibble compile --emit tosa`: the exported module passes upstream's TOSA validation (integer
//! profile, strict spec alignment), lowers through upstream's `tosa-to-linalg-pipeline` to LLVM,
//! and mlir-runner's run of it computes the tile interpreter's integers on held-out samples,
//! bit for bit. A model with an op TOSA cannot express is a located error.

use super::*;

/// The upstream passes from linalg on tensors to LLVM (what `mlir-runner` runs).
const TO_LLVM: &[&str] = &[
    "--tosa-to-arith=include-apply-rescale=true",
    "--tosa-to-tensor",
    "--one-shot-bufferize=bufferize-function-boundaries",
    "--convert-linalg-to-loops",
    "--convert-scf-to-cf",
    "--expand-strided-metadata",
    "--lower-affine",
    "--finalize-memref-to-llvm",
    "--convert-math-to-llvm",
    "--convert-arith-to-llvm",
    "--convert-func-to-llvm",
    "--convert-cf-to-llvm",
    "--reconcile-unrealized-casts",
];

/// Runs `tool` from LLVM's bin directory; returns its stdout, failing with its stderr.
fn llvm(tool: &str, args: &[&str]) -> String {
    let out = Command::new(Path::new(LLVM_BIN).join(tool))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} is missing (install mlir-22-tools): {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no '{start}'")) + start.len();
    let len = text[from..].find(end).expect("end");
    &text[from..from + len]
}

/// The host-boundary attributes of the export: (scale, zero point) of each input or output.
fn boundary(text: &str, which: &str) -> Vec<(f64, i64)> {
    let scales = between(text, &format!("nibble.{which}_scales = ["), "]");
    let zps = between(
        text,
        &format!("nibble.{which}_zero_points = array<i64: "),
        ">",
    );
    scales
        .split(", ")
        .zip(zps.split(", "))
        .map(|(s, z)| {
            (
                s.trim_end_matches(" : f64").parse().unwrap(),
                z.parse().unwrap(),
            )
        })
        .collect()
}

/// `model.tosa.mlir` with an `@entry` that runs `@main` on each quantized sample of `q`
/// (`n` samples) and prints its integers.
fn with_entry(text: &str, q: &[i8], n: usize) -> String {
    let ity = between(text, "func.func @main(%v0: ", ")");
    let otys: Vec<&str> = between(text, ") -> (", ")").split(", ").collect();
    let dims = between(ity, "tensor<", "xi8>").replace('x', ", ");
    let rank = ity.matches('x').count();
    let per = q.len() / n;
    let mut e = String::from(
        "  func.func private @printMemrefI32(tensor<*xi32>)\n  func.func @entry() {\n",
    );
    e += &format!("    %s = tosa.const_shape {{values = dense<[{dims}]> : tensor<{rank}xindex>}} : () -> !tosa.shape<{rank}>\n");
    for (k, sample) in q.chunks(per).enumerate() {
        let vals: Vec<String> = sample.iter().map(|v| v.to_string()).collect();
        e += &format!(
            "    %f{k} = \"tosa.const\"() {{values = dense<[{}]> : tensor<{per}xi8>}} : () -> tensor<{per}xi8>\n\
             \x20   %x{k} = tosa.reshape %f{k}, %s : (tensor<{per}xi8>, !tosa.shape<{rank}>) -> {ity}\n\
             \x20   %y{k}:{} = func.call @main(%x{k}) : ({ity}) -> ({})\n",
            vals.join(", "),
            otys.len(),
            otys.join(", ")
        );
        for (j, oty) in otys.iter().enumerate() {
            let oty32 = oty.replace("xi8>", "xi32>");
            e += &format!(
                "    %w{k}_{j} = tosa.cast %y{k}#{j} : ({oty}) -> {oty32}\n\
                 \x20   %u{k}_{j} = tensor.cast %w{k}_{j} : {oty32} to tensor<*xi32>\n\
                 \x20   call @printMemrefI32(%u{k}_{j}) : (tensor<*xi32>) -> ()\n"
            );
        }
    }
    e += "    return\n  }\n}\n";
    let end = text.trim_end().strip_suffix('}').expect("a module");
    format!("{end}{e}")
}

/// Compiles `model` with `--emit tosa` and `flags`, validates the export, runs it lowered on the
/// first `n` samples of `x` and compares its integers with the tile interpreter's.
fn tosa_runs_bit_exact(name: &str, model: &Path, calib: &Path, x: &Path, n: usize, flags: &[&str]) {
    let d = tmp(&format!("tosa-{name}"));
    let out = d.join("out");
    let mut args = vec![
        "compile",
        p(model),
        "--calib",
        p(calib),
        "-o",
        p(&out),
        "--emit",
        "tosa",
    ];
    args.extend_from_slice(flags);
    ok(nibble(&args));
    let file = out.join("model.tosa.mlir");
    llvm(
        "mlir-opt",
        &[
            "--tosa-attach-target=profiles=pro_int",
            "--tosa-validate=strict-op-spec-alignment",
            p(&file),
        ],
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("tile.") && !text.contains("f32>"),
        "{name}: the export is integer TOSA only"
    );

    // The samples, quantized as main.c quantizes them; the interpreter's outputs on them.
    let all = read(x);
    let per: usize = all.shape()[1..].iter().product();
    let xs = ArrayD::from_shape_vec(
        [n].iter()
            .chain(&all.shape()[1..])
            .copied()
            .collect::<Vec<_>>(),
        all.as_slice().unwrap()[..n * per].to_vec(),
    )
    .unwrap();
    let xs_path = d.join("x.npy");
    xs.write_npy(std::fs::File::create(&xs_path).unwrap())
        .unwrap();
    ok(nibble(&[
        "run",
        p(&out.join("model.tile.mlir")),
        "--input",
        p(&xs_path),
        "--out-dir",
        p(&d.join("int")),
    ]));
    let (isc, izp) = boundary(&text, "input")[0];
    let outputs = boundary(&text, "output");
    let q: Vec<i8> = xs
        .iter()
        .map(|&v| {
            let t = v as f64 / isc;
            ((t + 0.5f64.copysign(t)).trunc() as i64 + izp).clamp(-128, 127) as i8
        })
        .collect();
    // In the order the entry prints them: sample by sample, each output in turn.
    let ints: Vec<Vec<i64>> = outputs
        .iter()
        .enumerate()
        .map(|(j, (scale, zp))| {
            read(&d.join(format!("int/out{j}.npy")))
                .iter()
                .map(|&y| (y as f64 / scale).round() as i64 + zp)
                .collect()
        })
        .collect();
    let expected: Vec<i64> = (0..n)
        .flat_map(|k| {
            ints.iter()
                .flat_map(move |o| o[k * o.len() / n..(k + 1) * o.len() / n].to_vec())
        })
        .collect();

    // Upstream's lowering of the export, run.
    let full = d.join("full.mlir");
    std::fs::write(&full, with_entry(&text, &q, n)).unwrap();
    let linalg = d.join("linalg.mlir");
    llvm(
        "mlir-opt",
        &[p(&full), "--tosa-to-linalg-pipeline", "-o", p(&linalg)],
    );
    let lowered = d.join("llvm.mlir");
    let mut args: Vec<&str> = vec![p(&linalg)];
    args.extend_from_slice(TO_LLVM);
    args.extend(["-o", p(&lowered)]);
    llvm("mlir-opt", &args);
    let libs = format!(
        "-shared-libs={0}/../lib/libmlir_runner_utils.so,{0}/../lib/libmlir_c_runner_utils.so",
        LLVM_BIN
    );
    let printed = llvm(
        "mlir-runner",
        &[
            "-e",
            "entry",
            "-entry-point-result=void",
            &libs,
            p(&lowered),
        ],
    );
    let got: Vec<i64> = printed
        .split("data =")
        .skip(1)
        .flat_map(|block| {
            // Each printed memref: a header, `data =`, then its values up to the next header.
            block
                .split("Unranked")
                .next()
                .unwrap_or("")
                .split(|c: char| !(c.is_ascii_digit() || c == '-'))
                .filter(|t| !t.is_empty())
                .map(|t| t.parse::<i64>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "{name}: output count");
    let differ = got.iter().zip(&expected).filter(|(a, b)| a != b).count();
    assert_eq!(
        differ,
        0,
        "{name}: {differ} of {} outputs differ from the tile interpreter's",
        got.len()
    );
}

/// Plain CNNs (mnist, on the host and for an accelerator), mtcnn (PReLU, softmax), depthwise, grouped (slices, concat), and a residual net with PReLU
/// slopes of both signs, an add, a product of two activations, a floor-mode max pool and an
/// average pool: each export validates and runs bit-exact.
#[test]
fn tosa_export_validates_and_runs_bit_exact() {
    let mnist = model_dir();
    tosa_runs_bit_exact(
        "mnist",
        &mnist.join("model.onnx"),
        &mnist.join("calib.npy"),
        &mnist.join("test_x.npy"),
        4,
        &[],
    );
    // An accelerator compile exports its decisions lowered for the host: the same integers as
    // the accelerator's tile program.
    tosa_runs_bit_exact(
        "mnist-npu",
        &mnist.join("model.onnx"),
        &mnist.join("calib.npy"),
        &mnist.join("test_x.npy"),
        4,
        &["--target", "npu-mcu"],
    );
    let mtcnn = root().join("tests-data/mtcnn_onet");
    let f = |file: &str| mtcnn.join(file);
    tosa_runs_bit_exact(
        "mtcnn",
        &f("model.onnx"),
        &f("calib.npy"),
        &f("test_x.npy"),
        64,
        &[],
    );
    let ops = root().join("tests-data/ops");
    for name in ["cnn_export", "cnn_depthwise", "cnn_grouped"] {
        let f = |suffix: &str| ops.join(format!("{name}{suffix}"));
        tosa_runs_bit_exact(name, &f(".onnx"), &f("_calib.npy"), &f("_x.npy"), 4, &[]);
    }
}

/// An op TOSA cannot express with the same integers (ppocr_cls: hard-swish, squeeze-excite) is
/// named with its location, the compile
/// writes no export, and the list of what is exported follows.
#[test]
fn tosa_export_names_what_it_cannot_write() {
    let m = root().join("tests-data/ppocr_cls");
    let out = tmp("tosa-cls").join("out");
    let res = nibble(&[
        "compile",
        p(&m.join("model.onnx")),
        "--calib",
        p(&m.join("calib.npy")),
        "-o",
        p(&out),
        "--emit",
        "tosa",
    ]);
    fails_with(res.clone(), "--emit tosa: no TOSA form in this version for");
    fails_with(
        res.clone(),
        "tile.conv2d (a fused hard-swish or swish epilogue): loc(\"Conv@0\")",
    );
    fails_with(
        res.clone(),
        "tile.squeeze_excite (not exported yet): loc(\"Mul@1\")",
    );
    fails_with(res, "exported: tile.quantize");
    assert!(!out.join("model.tosa.mlir").exists());
}
