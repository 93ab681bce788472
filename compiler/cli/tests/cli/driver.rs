//! One compile pipeline: `nibble compile`, `nibble report` and the driver library make the same
//! IR from the same options, the pipeline strings replay by hand through `nibble opt`, and
//! `nibble report --target` lowers for that target.

use super::*;
use nibble_driver::{
    pass_pipeline, CompileOptions, Driver, QuantOptions, Quiet, Samples, Stage, TargetOption,
};

/// A valid host target whose 1 KiB cache budget and 4-row MAC array force small tiles on
/// MNIST's convs.
fn tiny_target(d: &Path) -> PathBuf {
    let path = d.join("tiny-host.toml");
    let host = std::fs::read_to_string(root().join("compiler/target/targets/host.toml")).unwrap();
    let tiny = host
        .replace("name = \"host\"", "name = \"tiny-host\"")
        .replace("sram_bytes = 1048576", "sram_bytes = 1024")
        .replace("rows = 16", "rows = 4");
    std::fs::write(&path, tiny).unwrap();
    path
}

/// MNIST's calibration vectors and its imported, cleaned-up graph.
fn mnist(driver: &Driver) -> (nibble_ir::Func, Vec<f32>) {
    let m = model_dir();
    let g = driver.import(&m.join("model.onnx"), None).unwrap();
    let calib = read(&m.join("calib.npy"));
    (g, calib.iter().copied().collect())
}

/// The driver called as a library writes exactly what `nibble compile` writes with the same
/// flags; `nibble report`'s route (`Driver::to_tile`) makes the same tile level from the same
/// calibrated graph; the quantize and lower pipeline strings, replayed with `nibble opt`, make
/// the same qnt and tile files.
#[test]
fn compile_report_and_opt_share_one_pipeline() {
    let d = tmp("driver-pipeline");
    let m = model_dir();
    let flags = [
        "--scheme",
        "asymmetric",
        "--granularity",
        "tensor",
        "--bias-correction",
    ];
    let out = d.join("cli");
    ok(nibble(
        &[
            &["compile", p(&m.join("model.onnx")), "--calib"][..],
            &[p(&m.join("calib.npy")), "-o", p(&out)],
            &flags,
        ]
        .concat(),
    ));
    let opts = CompileOptions::from_flags(flags).unwrap();
    let driver = Driver::new().unwrap();
    let (g, calib) = mnist(&driver);
    let samples = Samples::new(&calib, 28 * 28);
    let prepared = driver.prepare(g, samples, &opts, &Quiet).unwrap();
    let mut files: Vec<(String, String)> = Vec::new();
    let compiled = driver
        .emit(&prepared, &opts, |name, text| {
            files.push((name.to_string(), text.to_string()));
            Ok::<_, nibble_driver::Error>(())
        })
        .unwrap();
    // The IR of three levels, model.c/.h, the runtime (2), the microkernels (6), main.c,
    // target.toml and manifest.json.
    assert_eq!(
        files.len(),
        16,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (name, text) in files.iter().filter(|f| f.0 != "main.c") {
        let written = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(written == *text, "{name} differs from nibble compile's");
    }
    let tile_text = std::fs::read_to_string(out.join("model.tile.mlir")).unwrap();
    let report_tile = driver
        .to_tile(&prepared, &opts.quant, &opts.target)
        .unwrap();
    assert_eq!(driver.text(&report_tile).unwrap(), tile_text);
    assert_eq!(driver.text(&compiled.tile).unwrap(), tile_text);
    // The pipeline strings as `nibble opt` takes them.
    for (stage, from, to) in [
        (
            Stage::Quantize(&opts.quant),
            "model.graph.mlir",
            "model.quant.mlir",
        ),
        (
            Stage::Lower(&opts.target),
            "model.quant.mlir",
            "model.tile.mlir",
        ),
    ] {
        let pipeline = pass_pipeline(stage);
        let replayed = ok(nibble(&[
            "opt",
            p(&out.join(from)),
            &format!("--pass-pipeline={pipeline}"),
        ]));
        let want = std::fs::read_to_string(out.join(to)).unwrap();
        assert!(
            String::from_utf8_lossy(&replayed.stdout) == want,
            "{pipeline}"
        );
    }
    assert_eq!(
        pass_pipeline(Stage::Quantize(&opts.quant)),
        "builtin.module(nibble-quantize{scheme=asymmetric granularity=tensor bias-correction=true},nibble-fold-requant)"
    );
}

/// The tile level `nibble report` evaluates follows `--target`: a 1 KiB host target gives
/// other tiles than the default one and records its name, while the integers (and so every
/// number of the table) stay the same; the HTML page names the target the tile programs were
/// lowered for. The old route lowered for `Target::generic()` whatever was asked.
#[test]
fn report_honours_target() {
    let d = tmp("report-target");
    let m = model_dir();
    let tiny = tiny_target(&d);
    // The driver's route for one configuration.
    let driver = Driver::new().unwrap();
    let (g, calib) = mnist(&driver);
    let samples = Samples::new(&calib, 28 * 28);
    let g = driver
        .calibrate(&g, samples, nibble_quantize::RangeMethod::MinMax, || {})
        .unwrap();
    let quant = QuantOptions::new(
        nibble_driver::Scheme::Symmetric,
        nibble_driver::Granularity::Channel,
    );
    let generic = driver
        .to_tile(&g, &quant, &TargetOption::default())
        .unwrap();
    let small = driver
        .to_tile(
            &g,
            &quant,
            &TargetOption {
                target: p(&tiny).into(),
            },
        )
        .unwrap();
    let (gt, st) = (driver.text(&generic).unwrap(), driver.text(&small).unwrap());
    assert!(gt.contains("nibble.target = \"host\""), "{gt}");
    assert!(st.contains("nibble.target = \"tiny-host\""), "{st}");
    assert_ne!(
        gt.replace("\"host\"", "\"tiny-host\""),
        st,
        "a 1 KiB target should change the tile sizes"
    );
    // The command.
    let (model, calib, x) = (
        m.join("model.onnx"),
        m.join("calib.npy"),
        m.join("test_x.npy"),
    );
    let report = |target: Option<&Path>, html: &Path| {
        let mut args = vec![
            "report",
            p(&model),
            "--calib",
            p(&calib),
            "--eval",
            p(&x),
            "--limit",
            "20",
            "--ranges",
            "minmax",
            "--html",
            p(html),
        ];
        if let Some(t) = target {
            args.extend(["--target", p(t)]);
        }
        String::from_utf8_lossy(&ok(nibble(&args)).stdout).into_owned()
    };
    let (gh, th) = (d.join("generic.html"), d.join("tiny.html"));
    let generic_text = report(None, &gh);
    let tiny_text = report(Some(&tiny), &th);
    assert_eq!(generic_text, tiny_text, "tiling changed the numbers");
    let page = std::fs::read_to_string(&th).unwrap();
    assert!(
        page.contains("Tile programs lowered for target: tiny-host<"),
        "the report did not lower for --target"
    );
    let page = std::fs::read_to_string(&gh).unwrap();
    assert!(page.contains("Tile programs lowered for target: host<"));
    // A target that does not load is refused before any work.
    fails_with(
        nibble(&[
            "report",
            p(&m.join("model.onnx")),
            "--eval",
            p(&m.join("test_x.npy")),
            "--target",
            p(&d.join("missing.toml")),
        ]),
        "cannot read target",
    );
}

/// A model's dynamic input dimensions come from the calibration vectors when `--input-shape`
/// is not given (ppocr_cls declares [-1, 3, -1, -1]); vectors of another shape are refused,
/// naming the input.
#[test]
fn dynamic_input_shape_from_calibration() {
    let d = tmp("dynamic-shape");
    let cls = root().join("tests-data/ppocr_cls");
    let out = d.join("out");
    ok(nibble(&[
        "compile",
        p(&cls.join("model.onnx")),
        "--calib",
        p(&cls.join("calib.npy")),
        "-o",
        p(&out),
    ]));
    let header = std::fs::read_to_string(out.join("model.h")).unwrap();
    assert!(
        header.contains("#define NIBBLE_INPUT_ELEMS 27648"),
        "3 x 48 x 192 input expected:\n{header}"
    );
    fails_with(
        nibble(&[
            "compile",
            p(&cls.join("model.onnx")),
            "--calib",
            p(&model_dir().join("calib.npy")),
            "-o",
            p(&d.join("bad")),
        ]),
        "does not fit input 'x'",
    );
}
