//! A second, tiny vendor dialect built with only the steps of docs/adding-a-vendor-dialect.md:
//! `acme`, whose accelerator computes max pooling. Its dialect, pass and back end are
//! registered in a `Registry`; a driver with that registry compiles MNIST for a target of kind
//! `acme`; the C (with the vendor's runtime files) builds with the README line and computes the
//! integer interpreter's outputs bit for bit.

use super::*;
use nibble_codegen_c::ext::{emit_with, Cx, Extension};
use nibble_codegen_c::CodegenError;
use nibble_driver::{CompileOptions, Driver, Quiet, Samples};
use nibble_ir::Func;
use nibble_passes::{Backend, PassError, PassInfo, Registry};
use nibble_target::Target;

// 1. The dialect, in IRDL.
const ACME_IRDL: &str = r##"irdl.dialect @acme {
  irdl.operation @max_pool2d {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %kernel_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %pad_attr = irdl.base "#builtin.dense_array"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"kernel" = %kernel_attr, "stride" = %stride_attr, "pad" = %pad_attr, "offset" = %offset_attr}
  }
}"##;

// 2. The conversion pass.
const LOWER: PassInfo = PassInfo {
    name: "acme-lower",
    summary: "tile.max_pool2d -> acme.max_pool2d",
    run: |f, _opts| {
        let mut g = f.clone();
        for op in &mut g.ops {
            if op.name == "tile.max_pool2d" {
                op.name = "acme.max_pool2d".into();
            }
        }
        Ok(g)
    },
};

// 3. The code generator: codegen-c with an extension for the acme op, and the vendor's runtime.
const ACME_H: &str = "#ifndef ACME_H\n#define ACME_H\n#include \"nibble_runtime.h\"\n\
extern long acme_calls;\n\
void acme_max_pool2d(const int8_t *x, int h, int w, int c, int8_t *y, int oh, int ow, \
const int kernel[2], const int stride[2], const int pad[4]);\n#endif\n";
const ACME_C: &str = "#include \"acme.h\"\nlong acme_calls;\n\
void acme_max_pool2d(const int8_t *x, int h, int w, int c, int8_t *y, int oh, int ow, \
const int kernel[2], const int stride[2], const int pad[4]) {\n\
    acme_calls++;\n    nb_max_pool2d_s8(x, h, w, c, y, oh, ow, kernel, stride, pad);\n}\n";

struct Acme;

impl Extension for Acme {
    fn includes(&self) -> String {
        "#include \"acme.h\"\n".into()
    }
    fn op(&mut self, cx: &mut Cx) -> Result<bool, CodegenError> {
        if cx.op.name != "acme.max_pool2d" {
            return Ok(false);
        }
        let (x, y) = (cx.op.operands[0], cx.op.results[0]);
        let (xs, ys) = (cx.f.ty(x).shape().unwrap(), cx.f.ty(y).shape().unwrap());
        let list = |k: &str| {
            let v: Vec<String> = cx
                .op
                .ints(k)
                .unwrap()
                .iter()
                .map(|v| v.to_string())
                .collect();
            v.join(", ")
        };
        let out = format!("((int8_t *)(nb_arena + {}))", cx.op.int("offset")?);
        cx.body.push_str(&format!(
            "    {{ static const int kernel[2] = {{{}}}, stride[2] = {{{}}}, pad[4] = {{{}}};\n      \
             acme_max_pool2d({}, {}, {}, {}, {out}, {}, {}, kernel, stride, pad); }}\n",
            list("kernel"),
            list("stride"),
            list("pad"),
            cx.place[&x],
            xs[1],
            xs[2],
            xs[3],
            ys[1],
            ys[2]
        ));
        cx.place.insert(y, out);
        Ok(true)
    }
}

fn codegen(f: &Func, _t: &Target) -> Result<Vec<(String, String)>, String> {
    let mut files = emit_with(f, &mut Acme).map_err(|e| e.to_string())?;
    files.push(("acme.h".into(), ACME_H.into()));
    files.push(("acme.c".into(), ACME_C.into()));
    Ok(files)
}

// 4. Register.
fn register(r: &mut Registry) -> Result<(), PassError> {
    r.add_dialect("acme", ACME_IRDL)?;
    r.add_pass(LOWER)?;
    r.add_backend(Backend {
        kind: "acme".into(),
        schedule: Some(|t| format!("nibble-tile-size{{target={t}}},nibble-plan-memory")),
        lower: Some(|_t| "acme-lower".into()),
        ir_file: Some("model.acme.mlir".into()),
        codegen,
    })
}

#[test]
fn vendor_dialect_from_the_documented_steps() {
    let d = tmp("vendor-acme");
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    // 5. A target of the vendor's kind.
    let host = std::fs::read_to_string(root().join("compiler/target/targets/host.toml")).unwrap();
    let acme = host
        .replace("name = \"host\"", "name = \"acme-1\"")
        .replace("kind = \"host\"", "kind = \"acme\"");
    let target = d.join("acme.toml");
    std::fs::write(&target, acme).unwrap();
    // 6. A nibble with it, as a library.
    let mut r = nibble_driver::registry();
    register(&mut r).unwrap();
    assert!(
        register(&mut r).is_err(),
        "a second registration must be refused"
    );
    let driver = Driver::with_registry(r).unwrap();
    let m = model_dir();
    let graph = driver.import(&m.join("model.onnx"), None).unwrap();
    let calib: Vec<f32> = read(&m.join("calib.npy")).iter().copied().collect();
    let opts = CompileOptions::from_flags(["--target", p(&target)]).unwrap();
    driver
        .compile(
            graph,
            Samples::new(&calib, 28 * 28),
            &opts,
            &Quiet,
            |name, text| {
                std::fs::write(out.join(name), text)
                    .map_err(|e| nibble_driver::Error::Options(e.to_string()))
            },
        )
        .unwrap();
    let lowered = std::fs::read_to_string(out.join("model.acme.mlir")).unwrap();
    assert_eq!(
        lowered.matches("\"acme.max_pool2d\"").count(),
        3,
        "{lowered}"
    );
    let model_c = std::fs::read_to_string(out.join("model.c")).unwrap();
    assert_eq!(model_c.matches("acme_max_pool2d(").count(), 3);
    // The C builds with the README line and computes the interpreter's outputs.
    let x = m.join("test_x.npy");
    build_and_compare(&d, &out, &x, "acme");
    // nibble opt knows nothing of acme: the dialect came from this registry only.
    let unknown = nibble(&["opt", p(&out.join("model.acme.mlir"))]);
    assert!(!unknown.status.success());
}
