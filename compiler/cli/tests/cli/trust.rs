//! Trust by default: hostile names and files cannot inject code or corrupt memory, in the
//! compiler and in the generated program.

use super::*;

/// A model whose node and tensor names try to close the C comment they are printed in, splice
/// lines, form trigraphs and carry control characters: the generated program builds under
/// `-Werror`, runs, and computes exactly what the same model with plain names computes; every
/// IR file it writes parses back (`nibble opt`).
#[test]
fn hostile_names_cannot_inject_code() {
    use nibble_frontend::onnx::ModelProto;
    let d = tmp("hostile-names");
    let m = model_dir();
    let bytes = std::fs::read(m.join("model.onnx")).unwrap();
    let mut model: ModelProto = prost::Message::decode(bytes.as_slice()).unwrap();
    let hostile = [
        "c*/ __builtin_trap(); /*",
        "o*/ut",
        "line\\",
        "tri??/",
        "ctl\u{1}\u{7f}\"q\"",
        "nl\nx = 1; /* ",
        "ünï/*cødé*/",
    ];
    let graph = model.graph.as_mut().unwrap();
    // Rename tensors everywhere they appear, and every node.
    let mut renamed = std::collections::HashMap::new();
    for (i, n) in graph.node.iter_mut().enumerate() {
        n.name = Some(format!("{}{i}", hostile[i % hostile.len()]));
        for o in n.output.iter_mut() {
            let new = format!("{}{o}", hostile[(i + 1) % hostile.len()]);
            renamed.insert(o.clone(), new.clone());
            *o = new;
        }
    }
    for n in graph.node.iter_mut() {
        for x in n.input.iter_mut() {
            if let Some(new) = renamed.get(x) {
                *x = new.clone();
            }
        }
    }
    for o in graph.output.iter_mut() {
        let name = o.name.clone().unwrap();
        o.name = renamed.get(&name).cloned();
    }
    let path = d.join("hostile.onnx");
    std::fs::write(&path, prost::Message::encode_to_vec(&model)).unwrap();
    let x = root().join("tests-data/mnist_cnn/test_x.npy");
    let calib = m.join("calib.npy");
    let (hostile_out, _, hd) = compile_to_c("hostile-names-c", &path, &calib, &x, &[], 1);
    let (plain_out, _, _) = compile_to_c(
        "hostile-names-plain",
        &m.join("model.onnx"),
        &calib,
        &x,
        &[],
        1,
    );
    assert!(
        hostile_out[0]
            .iter()
            .zip(plain_out[0].iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "renaming the nodes changed the outputs"
    );
    let model_c = std::fs::read_to_string(hd.join("out/model.c")).unwrap();
    assert!(
        !model_c.contains("__builtin_trap();"),
        "a name reached the C as code"
    );
    for stage in ["graph", "quant", "tile"] {
        let file = hd.join(format!("out/model.{stage}.mlir"));
        ok(nibble(&[
            "opt",
            p(&file),
            "-o",
            p(&d.join(format!("{stage}.mlir"))),
        ]));
    }
}

/// A .npy file: `header` is the dict text, `version` 1 or 2, then `data` bytes.
fn npy(header: &str, version: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x93, b'N', b'U', b'M', b'P', b'Y', version, 0];
    let len = header.len() as u32;
    if version == 1 {
        out.extend((len as u16).to_le_bytes());
    } else {
        out.extend(len.to_le_bytes());
    }
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// Builds the generated MNIST program with ASan + UBSan (default options: leaks are errors too)
/// and feeds it hostile .npy files: each is one clear error and exit status 1, never a crash or a
/// sanitizer report; a valid batch runs clean. Write errors are reported, not ignored.
#[test]
fn generated_program_refuses_hostile_npy() {
    let d = tmp("hostile-npy");
    let m = model_dir();
    let out = d.join("out");
    ok(nibble(&[
        "compile",
        p(&m.join("model.onnx")),
        "--calib",
        p(&m.join("calib.npy")),
        "-o",
        p(&out),
        "--emit-main",
    ]));
    // Every C file of the compile (the runtime, its microkernels, the model, main.c).
    let c_files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    let exe = out.join("model-asan");
    let cc = Command::new("cc")
        .args(["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror"])
        .args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
        .args(&c_files)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("a C compiler (cc) must be installed");
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let run = |args: &[&Path]| Command::new(&exe).args(args).output().unwrap();
    // A valid batch: runs clean, leak check included.
    let all = read(&root().join("tests-data/mnist_cnn/test_x.npy"));
    let x = d.join("x.npy");
    all.slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..20))
        .write_npy(std::fs::File::create(&x).unwrap())
        .unwrap();
    let good = run(&[&x, &d.join("good")]);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let sample = vec![0u8; 28 * 28 * 4];
    let f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "huge",
            npy(
                &format!("{f4}(2305843009213693952, 1, 28, 28), }}"),
                1,
                &sample,
            ),
        ),
        (
            "negative",
            npy(&format!("{f4}(-1, 1, 28, 28), }}"), 1, &sample),
        ),
        (
            "wraps",
            npy(
                &format!("{f4}(4611686018427387904, 4, 1, 1), }}"),
                1,
                &sample,
            ),
        ),
        (
            "truncated",
            npy(&format!("{f4}(2, 1, 28, 28), }}"), 1, &sample),
        ),
        (
            "trailing",
            npy(
                &format!("{f4}(1, 1, 28, 28), }}"),
                1,
                &[sample.clone(), vec![0; 4]].concat(),
            ),
        ),
        (
            "float64",
            npy(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 28, 28), }",
                1,
                &sample,
            ),
        ),
        (
            "fortran",
            npy(
                "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1, 28, 28), }",
                1,
                &sample,
            ),
        ),
        (
            "garbage-shape",
            npy(&format!("{f4}(1, x, 28, 28), }}"), 1, &sample),
        ),
        (
            "rank9",
            npy(&format!("{f4}(1, 1, 1, 1, 1, 1, 1, 1, 1), }}"), 1, &[0; 4]),
        ),
        (
            "wrong-shape",
            npy(&format!("{f4}(1, 28, 28), }}"), 1, &sample),
        ),
        ("not-npy", b"hello, world".to_vec()),
        ("empty", Vec::new()),
    ];
    for (name, bytes) in cases {
        let path = d.join(format!("{name}.npy"));
        std::fs::write(&path, bytes).unwrap();
        let r = run(&[&path, &d.join(name)]);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.starts_with("error: ") && err.lines().count() == 1,
            "{name}: {err}"
        );
    }
    // A v2 header that declares 4 GiB - 1 bytes of header.
    let mut v2 = npy("{}", 2, &[]);
    v2[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let path = d.join("v2.npy");
    std::fs::write(&path, v2).unwrap();
    let r = run(&[&path, &d.join("v2")]);
    assert_eq!(
        r.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    // A full disk: the output file is /dev/full.
    let full = d.join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::os::unix::fs::symlink("/dev/full", full.join("out0.npy")).unwrap();
    let r = run(&[&x, &full]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("cannot write output"));
}

/// One output directory, two compiles: the second removes what the first wrote and it does not
/// (a stale main.c), and files of different compiles refuse to build together.
#[test]
fn output_directory_holds_one_compile() {
    let d = tmp("stale-out");
    let m = model_dir();
    let out = d.join("out");
    let calib = m.join("calib.npy");
    let compile = |model: &Path, emit_main: bool| {
        let mut args = vec!["compile", p(model), "--calib", p(&calib), "-o", p(&out)];
        if emit_main {
            args.push("--emit-main");
        }
        ok(nibble(&args));
    };
    compile(&m.join("model.onnx"), true);
    let first_main = std::fs::read_to_string(out.join("main.c")).unwrap();
    compile(&m.join("model.onnx"), false);
    assert!(
        !out.join("main.c").exists(),
        "a stale main.c was left behind"
    );
    // Another model's main.c beside this model's files: the build fails with a clear message.
    let ops = root().join("tests-data/ops");
    ok(nibble(&[
        "compile",
        p(&ops.join("cnn_relu6.onnx")),
        "--calib",
        p(&ops.join("cnn_relu6_calib.npy")),
        "-o",
        p(&out),
    ]));
    std::fs::write(out.join("main.c"), first_main).unwrap();
    let cc = Command::new("cc")
        .args(["-std=c99", "-O0", "-c", "-o", "/dev/null"])
        .arg(out.join("main.c"))
        .output()
        .unwrap();
    assert!(!cc.status.success());
    assert!(String::from_utf8_lossy(&cc.stderr).contains("different compiles"));
}

/// The MNIST model with one attribute of node `node` replaced (ints or int), written to `path`.
fn with_attribute(path: &Path, node: &str, name: &str, ints: &[i64], int: Option<i64>) {
    use nibble_frontend::onnx::{AttributeProto, ModelProto};
    let bytes = std::fs::read(model_dir().join("model.onnx")).unwrap();
    let mut model: ModelProto = prost::Message::decode(bytes.as_slice()).unwrap();
    let n = model
        .graph
        .as_mut()
        .unwrap()
        .node
        .iter_mut()
        .find(|n| n.name() == node)
        .unwrap();
    n.attribute.retain(|a| a.name() != name);
    n.attribute.push(AttributeProto {
        name: Some(name.into()),
        ints: ints.to_vec(),
        i: int,
        r#type: Some(if int.is_some() { 2 } else { 7 }),
        ..Default::default()
    });
    std::fs::write(path, prost::Message::encode_to_vec(&model)).unwrap();
}

/// The probe's cases: attributes that divided by zero, overflowed im2col or asked for terabytes,
/// contradictions, and a tiny .npy that declares 10^11 samples — each one clear error (exit 1 or
/// 2 for flags), never a panic or an abort.
#[test]
fn hostile_attributes_and_files_are_clear_errors() {
    let d = tmp("hostile-attributes");
    let m = model_dir();
    let calib = m.join("calib.npy");
    // (node, attribute, its ints, or its int, what the error names)
    type Case<'a> = (&'a str, &'a str, &'a [i64], Option<i64>, &'a str);
    let cases: [Case; 7] = [
        ("Conv_1", "strides", &[1, 0], None, "strides"),
        ("Conv_1", "pads", &[1 << 62, 1, 1, 1], None, "pads"),
        ("Conv_1", "pads", &[0, 0, 1 << 31, 0], None, "pads"),
        (
            "Conv_1",
            "kernel_shape",
            &[5, 5],
            None,
            "contradicts the weights",
        ),
        ("MaxPool_3", "ceil_mode", &[], Some(100), "ceil_mode"),
        ("Gemm_11", "transB", &[], Some(2), "transB"),
        ("MaxPool_3", "pads", &[0, 0, 40000, 40000], None, "elements"),
    ];
    for (i, (node, name, ints, int, needle)) in cases.iter().enumerate() {
        let path = d.join(format!("case{i}.onnx"));
        with_attribute(&path, node, name, ints, *int);
        let out = nibble(&[
            "compile",
            p(&path),
            "--calib",
            p(&calib),
            "-o",
            p(&d.join("o")),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "case {i}: {err}");
        assert!(
            err.contains(needle) && err.contains(node),
            "case {i}: {err}"
        );
        assert!(!err.contains("panicked"), "case {i}: {err}");
    }
    // 228 bytes that declare 10^11 samples.
    let mut huge = b"\x93NUMPY\x01\x00".to_vec();
    let header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 1, 28, 28), }}{}\n",
        " ".repeat(54)
    );
    huge.extend((header.len() as u16).to_le_bytes());
    huge.extend(header.as_bytes());
    huge.extend([0u8; 88]);
    let path = d.join("huge.npy");
    std::fs::write(&path, &huge).unwrap();
    let model = m.join("model.onnx");
    for args in [
        vec![
            "compile",
            p(&model),
            "--calib",
            p(&path),
            "-o",
            p(&d.join("o")),
        ],
        vec![
            "run",
            p(&model),
            "--input",
            p(&path),
            "--out-dir",
            p(&d.join("r")),
        ],
    ] {
        let out = nibble(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("more bytes than the file holds"), "{err}");
    }
    // Contradictory or meaningless flags.
    let o_dir = d.join("o");
    let o = p(&o_dir);
    let out = nibble(&[
        "compile",
        p(&model),
        "--calib",
        p(&calib),
        "-o",
        o,
        "--bits",
        "auto",
        "--int16-below",
        "nan",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a finite number"));
    let out = nibble(&[
        "compile",
        p(&model),
        "--calib",
        p(&calib),
        "-o",
        o,
        "--ranges",
        "data-free",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("contradicts --ranges data-free"));
}

/// The probe's GlobalAveragePool over [1, 1, 2100, 4096], asymmetric (zero point −128): 8601600
/// taps of |x − zp| up to 255 overflow an int32 window sum (the C gave 0.0 where the interpreter and the float model give
/// 1.0). nibble-check-accumulators widens that sum to int64, and the C, the tile interpreter and
/// the float model agree.
#[test]
fn global_average_pool_over_millions_of_taps_is_exact() {
    use nibble_frontend::onnx::{GraphProto, ModelProto, NodeProto};
    let d = tmp("gap-accumulator");
    let model = ModelProto {
        graph: Some(GraphProto {
            node: vec![NodeProto {
                op_type: Some("GlobalAveragePool".into()),
                name: Some("gap".into()),
                input: vec!["x".into()],
                output: vec!["y".into()],
                ..Default::default()
            }],
            input: vec![super::value_info("x", &[1, 1, 2100, 4096])],
            output: vec![super::value_info("y", &[1, 1, 1, 1])],
            ..Default::default()
        }),
        ..Default::default()
    };
    let path = d.join("gap.onnx");
    std::fs::write(&path, prost::Message::encode_to_vec(&model)).unwrap();
    let x = d.join("ones.npy");
    ArrayD::<f32>::ones(vec![1, 1, 2100, 4096])
        .write_npy(std::fs::File::create(&x).unwrap())
        .unwrap();
    let (c_out, _, cd) = compile_to_c(
        "gap-accumulator-c",
        &path,
        &x,
        &x,
        &["--scheme", "asymmetric"],
        1,
    );
    let tile = std::fs::read_to_string(cd.join("out/model.tile.mlir")).unwrap();
    assert!(
        tile.contains("acc_bits = 64"),
        "the window sum was not widened"
    );
    let model_c = std::fs::read_to_string(cd.join("out/model.c")).unwrap();
    assert!(model_c.contains("nb_avg_pool2d_wide_s8"));
    ok(nibble(&[
        "run",
        p(&path),
        "--input",
        p(&x),
        "--out-dir",
        p(&d.join("float")),
    ]));
    let float = read(&d.join("float/out0.npy"));
    assert_eq!(float.iter().copied().collect::<Vec<_>>(), vec![1.0]);
    let got = c_out[0].iter().copied().collect::<Vec<_>>();
    assert_eq!(got.len(), 1);
    assert!((got[0] - 1.0).abs() < 0.01, "C gives {got:?}, float 1.0");
}

/// Calibration vectors holding inf or NaN are refused, naming the vector and element; all-zero,
/// constant and huge (≥ 1e30) vectors compile with a loud warning.
#[test]
fn non_finite_calibration_is_refused_and_degenerate_warns() {
    let d = tmp("calib-data");
    let m = model_dir();
    let calib = read(&m.join("calib.npy"));
    let compile = |name: &str, a: &ArrayD<f32>| {
        let path = d.join(format!("{name}.npy"));
        a.write_npy(std::fs::File::create(&path).unwrap()).unwrap();
        let out = nibble(&[
            "compile",
            p(&m.join("model.onnx")),
            "--calib",
            p(&path),
            "-o",
            p(&d.join(name)),
        ]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let per = calib.len() / calib.shape()[0];
    for (name, value) in [("inf", f32::INFINITY), ("nan", f32::NAN)] {
        let mut a = calib.clone();
        a.as_slice_mut().unwrap()[3 * per + 5] = value;
        let (code, err) = compile(name, &a);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains("calibration vector 3 of the model input holds")
                && err.contains("at element 5"),
            "{err}"
        );
    }
    for (name, value, needle) in [
        ("zeros", 0.0, "are zeros"),
        ("constant", 0.5, "every value"),
        ("huge", 1e30, "1e30"),
    ] {
        let a = if name == "huge" {
            let mut a = calib.clone();
            a.as_slice_mut().unwrap()[7] = 2.0 * value;
            a
        } else {
            calib.mapv(|_| value)
        };
        let (code, err) = compile(name, &a);
        assert!(
            err.contains("warning: degenerate calibration") && err.contains(needle),
            "{name}: {code:?} {err}"
        );
    }
}
