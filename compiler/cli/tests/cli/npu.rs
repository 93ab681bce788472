//! Compiling for accelerators: every shipped target compiles MNIST and MTCNN-O; the C builds
//! with the README line and (the npu simulator for accelerator targets) computes the integer
//! interpreter's outputs on `model.tile.mlir` bit for bit; the simulator's cycles equal the
//! manifest's static estimate; the manifest has its keys and an SRAM peak within the target's
//! SRAM. Halving the SRAM of npu-mcu or npu-edge gives a different schedule with more DMA and
//! more cycles; without
//! double buffering the cycles grow; a pow2-only target refuses another scheme; `nibble
//! targets` and `nibble estimate` report.

use super::*;

/// The first `n` samples of `x` as a new .npy in `d` (keeps the interpreter runs short).
fn first(d: &Path, x: &Path, n: usize) -> PathBuf {
    let a = read(x);
    let k = n.min(a.shape()[0]);
    let b = a
        .slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..k))
        .to_owned();
    let path = d.join(format!("x{n}.npy"));
    b.write_npy(std::fs::File::create(&path).unwrap()).unwrap();
    path
}

/// Builds `out/*.c` with the README line, runs it on `x` and compares every output with
/// `nibble run out/model.tile.mlir`, bit for bit; returns the program's stderr (the npu
/// simulator's report).
pub(super) fn build_and_compare(d: &Path, out: &Path, x: &Path, name: &str) -> String {
    let c_files: Vec<PathBuf> = std::fs::read_dir(out)
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
        "{name}: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let (c, tile) = (d.join(format!("{name}-c")), d.join(format!("{name}-tile")));
    let run = Command::new(out.join("model"))
        .arg(x)
        .arg(&c)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let tile_mlir = out.join("model.tile.mlir");
    ok(nibble(&[
        "run",
        p(&tile_mlir),
        "--input",
        p(x),
        "--out-dir",
        p(&tile),
    ]));
    let mut k = 0;
    while tile.join(format!("out{k}.npy")).exists() {
        let (a, b) = (
            read(&c.join(format!("out{k}.npy"))),
            read(&tile.join(format!("out{k}.npy"))),
        );
        assert_eq!(a.shape(), b.shape(), "{name}: output {k}");
        assert!(
            a.iter()
                .zip(b.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{name}: output {k}: C and interpreter differ"
        );
        k += 1;
    }
    assert!(k > 0, "{name}: no outputs");
    String::from_utf8_lossy(&run.stderr).into_owned()
}

/// An integer field of the manifest's JSON text (its first occurrence).
fn field(manifest: &str, key: &str) -> Option<u64> {
    let at = manifest.find(&format!("\"{key}\": "))? + key.len() + 4;
    let digits: String = manifest[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// The simulator's total cycles from its report.
fn sim_total(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("npu: total "))
        .unwrap_or_else(|| panic!("{stderr}"));
    line["npu: total ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Compiles `model` for `target` into `d/name`, with `extra` flags.
fn compile_for(d: &Path, name: &str, dir: &Path, target: &str, extra: &[&str]) -> PathBuf {
    let out = d.join(name);
    let (model, calib) = (dir.join("model.onnx"), dir.join("calib.npy"));
    let mut args = vec![
        "compile",
        p(&model),
        "--calib",
        p(&calib),
        "-o",
        p(&out),
        "--emit-main",
        "--target",
        target,
    ];
    args.extend_from_slice(extra);
    ok(nibble(&args));
    out
}

#[test]
fn shipped_targets_compile_and_run_bit_exact() {
    let d = tmp("npu-targets");
    let models = [model_dir(), root().join("tests-data/mtcnn_onet")];
    for dir in &models {
        let m = dir.file_name().unwrap().to_str().unwrap().to_string();
        let x = first(&d, &dir.join("test_x.npy"), 8);
        for target in ["host", "generic-npu", "npu-mcu", "npu-edge"] {
            let name = format!("{m}-{target}");
            let out = compile_for(&d, &name, dir, target, &[]);
            let stderr = build_and_compare(&d, &out, &x, &name);
            let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
            for key in [
                "\"target\"",
                "\"layers\"",
                "\"weight_bits\"",
                "\"macs\"",
                "\"bound\"",
                "\"sram_peak_bytes\"",
                "\"estimated_cycles\"",
            ] {
                assert!(manifest.contains(key), "{name}: manifest lacks {key}");
            }
            assert!(
                manifest.contains(&format!("\"target\": \"{target}\"")),
                "{name}"
            );
            let t = nibble_target::Target::load(target).unwrap();
            let peak = field(&manifest, "sram_peak_bytes").unwrap();
            assert!(peak <= t.sram_bytes(), "{name}: SRAM peak {peak}");
            if t.is_host() {
                assert!(!out.join("npu_sim.c").exists());
                assert!(manifest.contains("\"estimated_cycles\": null"));
                continue;
            }
            assert!(out.join("model.npu.mlir").exists());
            let est = field(&manifest, "estimated_cycles").unwrap();
            assert_eq!(
                sim_total(&stderr),
                est,
                "{name}: simulator and estimate differ"
            );
            let table = ok(nibble(&["estimate", p(&out)]));
            let table = String::from_utf8_lossy(&table.stdout).into_owned();
            assert!(table.contains(&format!("total {est} cycles")), "{table}");
        }
    }
}

/// A copy of shipped target `name` with `sram_bytes` halved, written into `d`.
fn halved(d: &Path, name: &str) -> PathBuf {
    let t = nibble_target::Target::load(name).unwrap();
    let bytes = t.sram_bytes();
    let src = nibble_target::Target::source(name)
        .unwrap()
        .replace(
            &format!("sram_bytes = {bytes}"),
            &format!("sram_bytes = {}", bytes / 2),
        )
        .replace(
            &format!("name = \"{name}\""),
            &format!("name = \"{name}-half\""),
        );
    assert!(src.contains(&format!("sram_bytes = {}", bytes / 2)));
    let path = d.join(format!("{name}-half.toml"));
    std::fs::write(&path, src).unwrap();
    path
}

/// `sram_bytes` of the shipped npu-mcu (MNIST) and npu-edge (PP-OCR rec) halved in a copy of
/// the TOML: a different schedule (fewer weights kept in SRAM, more DMA per run) and more
/// cycles, each peak within its SRAM; the halved MNIST program runs bit-exact on the simulator
/// with the estimate's cycles (over several frames, so weights kept in SRAM across runs must
/// survive the plan).
#[test]
fn halving_sram_changes_the_schedule() {
    let d = tmp("npu-halved");
    let stats = |out: &Path| {
        let man = std::fs::read_to_string(out.join("manifest.json")).unwrap();
        let text = std::fs::read_to_string(out.join("model.tile.mlir")).unwrap();
        let dma: u64 = man
            .match_indices("\"dma_bytes\": ")
            .map(|(i, k)| {
                man[i + k.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect::<String>()
                    .parse::<u64>()
                    .unwrap()
            })
            .sum();
        let schedule = text.replace("-half\"", "\"");
        (
            field(&man, "estimated_cycles").unwrap(),
            field(&man, "sram_peak_bytes").unwrap(),
            field(&man, "sram_bytes").unwrap(),
            dma,
            schedule,
        )
    };
    let rec = root().join("tests-data/ppocr_rec");
    let rec_shape: &[&str] = &["--input-shape", "x=1,3,48,320"];
    for (target, dir, extra) in [
        ("npu-mcu", model_dir(), &[][..]),
        ("npu-edge", rec, rec_shape),
    ] {
        let half = halved(&d, target);
        let full = compile_for(&d, target, &dir, target, extra);
        let small = compile_for(&d, &format!("{target}-half"), &dir, p(&half), extra);
        let ((cb, pb, sb, db, tb), (cs, ps, ss, ds, ts)) = (stats(&full), stats(&small));
        assert_eq!(ss * 2, sb);
        assert!(pb <= sb && ps <= ss, "{target}: peaks {pb}/{sb} {ps}/{ss}");
        assert!(
            tb != ts,
            "{target}: halving the SRAM left the schedule unchanged"
        );
        assert!(ds > db, "{target}: DMA bytes per run {ds} vs {db}");
        assert!(
            cs > cb,
            "{target}: halving the SRAM should cost cycles: {cs} vs {cb}"
        );
        if target == "npu-mcu" {
            let x = first(&d, &dir.join("test_x.npy"), 4);
            let stderr = build_and_compare(&d, &small, &x, "mcu-half");
            assert_eq!(sim_total(&stderr), cs);
        }
    }
}

/// Double buffering overlaps transfers with compute: off, the same tiles take longer.
#[test]
fn double_buffering_lowers_cycles() {
    let d = tmp("npu-double-buffer");
    let edge = nibble_target::Target::source("generic-npu").unwrap();
    let single = edge.replace(
        "dma_setup_cycles = 32",
        "dma_setup_cycles = 32\ndouble_buffer = false",
    );
    let t = d.join("single.toml");
    std::fs::write(&t, single).unwrap();
    let m = model_dir();
    let on = compile_for(&d, "on", &m, "generic-npu", &[]);
    let off = compile_for(&d, "off", &m, p(&t), &[]);
    let cycles = |out: &Path| {
        field(
            &std::fs::read_to_string(out.join("manifest.json")).unwrap(),
            "estimated_cycles",
        )
        .unwrap()
    };
    assert!(
        cycles(&on) < cycles(&off),
        "{} vs {}",
        cycles(&on),
        cycles(&off)
    );
    let x = first(&d, &m.join("test_x.npy"), 4);
    assert_eq!(
        sim_total(&build_and_compare(&d, &off, &x, "off")),
        cycles(&off)
    );
}

/// npu-edge multiplies int4 weights at twice the rate: 4-bit weights lower the cycles.
#[test]
fn int4_weights_lower_cycles_on_npu_edge() {
    let d = tmp("npu-int4");
    let m = model_dir();
    let w8 = compile_for(&d, "w8", &m, "npu-edge", &[]);
    let w4 = compile_for(&d, "w4", &m, "npu-edge", &["--weight-bits", "4"]);
    let man = |out: &Path| std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(man(&w4).contains("\"weight_bits\": 4"));
    let (c8, c4) = (
        field(&man(&w8), "estimated_cycles").unwrap(),
        field(&man(&w4), "estimated_cycles").unwrap(),
    );
    assert!(c4 < c8, "{c4} vs {c8}");
    let x = first(&d, &m.join("test_x.npy"), 4);
    assert_eq!(sim_total(&build_and_compare(&d, &w4, &x, "w4")), c4);
}

#[test]
fn targets_are_listed_and_checked() {
    let list = String::from_utf8_lossy(&ok(nibble(&["targets"])).stdout).into_owned();
    for t in ["host", "generic-npu", "npu-mcu", "npu-edge"] {
        assert!(list.contains(&format!("\n{t} ")), "{list}");
    }
    let m = model_dir();
    let help = ok(nibble(&[
        "compile",
        p(&m.join("model.onnx")),
        "-o",
        "/nonexistent",
        "--target",
        "help",
    ]));
    assert_eq!(String::from_utf8_lossy(&help.stdout), list);
    let d = tmp("npu-refusals");
    fails_with(
        nibble(&[
            "compile",
            p(&m.join("model.onnx")),
            "--calib",
            p(&m.join("calib.npy")),
            "-o",
            p(&d),
            "--target",
            "npu-mcu",
            "--scheme",
            "symmetric",
        ]),
        "target 'npu-mcu' requantizes by power-of-two shifts only",
    );
    let bad = d.join("bad.toml");
    std::fs::write(
        &bad,
        nibble_target::Target::source("npu-edge")
            .unwrap()
            .replace("rows = 32", "rows = 0"),
    )
    .unwrap();
    fails_with(
        nibble(&[
            "compile",
            p(&m.join("model.onnx")),
            "--calib",
            p(&m.join("calib.npy")),
            "-o",
            p(&d),
            "--target",
            p(&bad),
        ]),
        "mac_array.rows = 0: between 1 and 4096 PEs",
    );
    let host = compile_for(&d, "host", &m, "host", &[]);
    fails_with(nibble(&["estimate", p(&host)]), "is a host target");
}
