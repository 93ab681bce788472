//! Weights below 8 bits end to end on the bundled mnist_cnn: every grid compiles, its C stays
//! bit-exact with the integer interpreter and its `.rodata` shrinks with the bits; the width
//! e-graph's choice keeps to its budget and to the accuracy of FP32, `OUT/manifest.json` and
//! `nibble explain` say what was chosen and why; bad width requests are clear errors.

use super::{accuracy, compile_to_c, model_dir, nibble, ok, p, read, tmp};
use std::path::Path;
use std::process::Command;

/// Bytes of `.rodata` in `model.o` compiled from `out/model.c`.
fn rodata(out: &Path) -> u64 {
    let obj = out.join("model.o");
    let cc = Command::new("cc")
        .args(["-std=c99", "-O2", "-c"])
        .arg(out.join("model.c"))
        .arg("-o")
        .arg(&obj)
        .output()
        .unwrap();
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let size = Command::new("size").arg("-A").arg(&obj).output().unwrap();
    String::from_utf8_lossy(&size.stdout)
        .lines()
        .filter(|l| l.starts_with(".rodata"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

/// The manifest of a compile as JSON.
fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn weights_below_8_bits_are_packed_and_bit_exact() {
    let m = model_dir();
    let (calib, x) = (m.join("calib.npy"), m.join("test_x.npy"));
    let mut sizes = Vec::new();
    for (name, flag, bits) in [
        ("w8", "8", 8.0),
        ("w4", "4", 4.0),
        ("w2", "2", 2.0),
        ("ternary", "ternary,Conv_1=8,Gemm_13=8", 0.0),
        ("binary", "binary", 1.0),
    ] {
        // compile_to_c asserts the C and the interpreter agree bit for bit.
        let (got, _, d) = compile_to_c(
            &format!("widths-{name}"),
            &m.join("model.onnx"),
            &calib,
            &x,
            &["--weight-bits", flag],
            1,
        );
        let out = d.join("out");
        let man = manifest(&out);
        let avg = man["totals"]["avg_weight_bits"].as_f64().unwrap();
        if bits > 0.0 {
            assert_eq!(avg, bits, "{name}: {man}");
        } else {
            assert!(
                avg > 2.0 && avg < 2.2,
                "{name}: ternary inside, 8-bit ends: {avg}"
            );
        }
        let acc = accuracy(&got[0]);
        eprintln!(
            "{name}: top-1 {acc:.2} %, avg {avg} bits, .rodata {}",
            rodata(&out)
        );
        // The ternary network (8-bit ends) keeps its digits; 4 bits lose nothing measurable.
        match name {
            "w8" | "w4" => assert!(acc > 99.0, "{name}: {acc}"),
            "ternary" => assert!(acc > 98.0, "{name}: {acc}"),
            _ => assert!(acc > 90.0, "{name}: {acc}"),
        }
        sizes.push(rodata(&out));
    }
    // .rodata with the bits: 4-bit about half of 8-bit, binary the smallest.
    assert!(2 * sizes[1] < sizes[0] * 11 / 10, "{sizes:?}");
    assert!(sizes[2] < sizes[1] && sizes[4] < sizes[2], "{sizes:?}");
}

#[test]
fn width_e_graph_keeps_the_budget_and_explains() {
    let m = model_dir();
    let d = tmp("widths-auto");
    let out = d.join("out");
    ok(nibble(&[
        "compile",
        p(&m.join("model.onnx")),
        "--calib",
        p(&m.join("calib.npy")),
        "-o",
        p(&out),
        "--weight-bits",
        "auto",
        "--avg-weight-bits",
        "4.5",
    ]));
    let man = manifest(&out);
    let avg = man["totals"]["avg_weight_bits"].as_f64().unwrap();
    assert!(avg <= 4.5 && avg > 3.0, "{avg}");
    let layers = man["layers"].as_array().unwrap();
    let measured = layers.iter().filter(|l| l["sensitivity_db"].is_object());
    assert_eq!(
        measured.count(),
        5,
        "every weight layer carries its sensitivity"
    );
    assert!(
        layers.iter().any(|l| l["weight_grid"] != "8"),
        "something narrowed"
    );
    // The first layer and the head stay at 4 bits or more.
    for end in ["Conv_1", "Gemm_13"] {
        let l = layers.iter().find(|l| l["name"] == end).unwrap();
        assert!(l["weight_bits"].as_u64().unwrap() >= 4, "{end}: {l}");
    }
    let explain = ok(nibble(&["explain", p(&out)]));
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(text.contains("λ") && text.contains("Gemm_11"), "{text}");
    // Bit-exact and accurate: the C of the choice against FP32's labels.
    let (got, _, _) = compile_to_c(
        "widths-auto-c",
        &m.join("model.onnx"),
        &m.join("calib.npy"),
        &m.join("test_x.npy"),
        &["--weight-bits", "auto", "--avg-weight-bits", "4.5"],
        1,
    );
    let fp32 = accuracy(&read(&m.join("test_ref_out0.npy")));
    let acc = accuracy(&got[0]);
    assert!(
        acc >= fp32 - 1.0,
        "auto 4.5 bits: {acc} against FP32 {fp32}"
    );
}

#[test]
fn bad_width_requests_are_clear_errors() {
    let m = model_dir();
    let d = tmp("widths-bad");
    let run = |flags: &[&str]| {
        let mut args: Vec<String> = vec![
            "compile".into(),
            p(&m.join("model.onnx")).to_string(),
            "--calib".into(),
            p(&m.join("calib.npy")).to_string(),
            "-o".into(),
            p(&d.join("out")).to_string(),
        ];
        args.extend(flags.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let o = nibble(&refs);
        assert_eq!(o.status.code(), Some(1), "{flags:?}");
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let e = run(&["--weight-bits", "4,Conv_2=2"]);
    assert!(
        e.contains("'Conv_2'") && e.contains("Conv_1"),
        "close names: {e}"
    );
    let e = run(&["--weight-bits", "auto", "--max-weight-bytes", "100"]);
    assert!(e.contains("smallest reachable"), "{e}");
    let e = run(&["--weight-bits", "4", "--target", "npu-mcu"]);
    assert!(e.contains("layer 'Conv_1'") && e.contains("npu-mcu"), "{e}");
    let e = run(&["--weight-bits", "auto"]);
    assert!(e.contains("needs a budget"), "{e}");
}

/// A squeeze-excite's two matrices take the grids below 8 bits like any weight layer: one grid
/// for both, named on the tile op, packed in `model.c` and unpacked one after the other before
/// `nb_squeeze_excite_s8`, bit-exact with the interpreter (compile_to_c asserts it) and close to
/// FP32 at 4 bits (`--weight-bits 8,se_scale=W`: only the gate narrowed, by its ONNX name); with `--weight-bits auto` the op is measured and chosen like the others.
#[test]
fn squeeze_excite_weights_are_narrowed_packed_and_bit_exact() {
    let m = super::root().join("tests-data/ops");
    for model in ["cnn_squeeze_excite", "cnn_squeeze_excite_silu"] {
        let file = |suffix: &str| m.join(format!("{model}{suffix}"));
        let reference = read(&file("_ref0.npy"));
        for (grid, unpack, bits) in [
            ("4", "nb_unpack_s4", 4),
            ("2", "nb_unpack_s2", 2),
            ("binary", "nb_unpack_b1", 1),
        ] {
            let (got, _, d) = compile_to_c(
                &format!("widths-{model}-{grid}"),
                &file(".onnx"),
                &file("_calib.npy"),
                &file("_x.npy"),
                &["--weight-bits", &format!("8,se_scale={grid}")],
                1,
            );
            let out = d.join("out");
            let what = format!("{model} at {grid}");
            let man = manifest(&out);
            let layers = man["layers"].as_array().unwrap();
            let se = layers
                .iter()
                .find(|l| l["op"] == "tile.squeeze_excite")
                .unwrap_or_else(|| panic!("{what}: no squeeze-excite in {man}"));
            assert_eq!(se["weight_grid"], grid, "{what}: {se}");
            assert_eq!(se["weight_bits"], bits, "{what}: {se}");
            let tile_ir = std::fs::read_to_string(out.join("model.tile.mlir")).unwrap();
            let op = tile_ir
                .lines()
                .find(|l| l.contains("tile.squeeze_excite"))
                .unwrap();
            assert!(
                op.contains(&format!("weight_bits = \"{grid}\"")),
                "{what}: {op}"
            );
            // w1 [4,16] at the start of the scratch buffer, w2 [16,4] after it.
            let c = std::fs::read_to_string(out.join("model.c")).unwrap();
            let call = c.find("nb_squeeze_excite_s8(").unwrap();
            let before: Vec<&str> = (c[..call].lines().rev())
                .take_while(|l| !l.contains("/* tile.squeeze_excite"))
                .collect();
            let unpacks: Vec<&&str> = before.iter().filter(|l| l.contains(unpack)).collect();
            assert_eq!(unpacks.len(), 2, "{what}: {before:?}");
            assert!(
                unpacks.iter().any(|l| l.contains("(nb_wscratch + 64)")),
                "{what}: {unpacks:?}"
            );
            let db = super::sqnr(&got[0], &reference);
            eprintln!("{what}: {db:.1} dB against FP32");
            // Only the gate's weights are narrowed (the rest 8-bit). At 4 bits: 28.3 dB with the
            // hard sigmoid (8-bit: ≥ 28), 18.0 dB with SiLU and the sigmoid gate (its w2 is
            // twice as large: the gate moves more); 2 bits and binary lose more (14–18 dB).
            if grid == "4" {
                assert!(db >= 16.0, "{what}: {db:.1} dB against FP32");
            }
        }
    }
    // The width e-graph measures the squeeze-excite and counts its weights.
    let d = tmp("widths-se-auto");
    let out = d.join("out");
    ok(nibble(&[
        "compile",
        p(&m.join("cnn_squeeze_excite.onnx")),
        "--calib",
        p(&m.join("cnn_squeeze_excite_calib.npy")),
        "-o",
        p(&out),
        "--weight-bits",
        "auto",
        "--avg-weight-bits",
        "4",
    ]));
    let man = manifest(&out);
    let layers = man["layers"].as_array().unwrap();
    let se = layers
        .iter()
        .find(|l| l["op"] == "tile.squeeze_excite")
        .unwrap();
    assert!(se["sensitivity_db"].is_object(), "{se}");
    assert_eq!(se["weight_values"], 128, "{se}");
    let avg = man["totals"]["avg_weight_bits"].as_f64().unwrap();
    assert!(avg <= 4.0, "{avg}: {man}");
}
