//! The pipeline driver: splits a pipeline string into elements, adds nibble passes as MLIR
//! external passes and everything else through MLIR's own pipeline parser, into one pass
//! manager, and runs it.

use crate::{Options, PassError, PassInfo, Registry};
use melior::ir::operation::OperationLike;
use melior::ir::r#type::TypeId;
use melior::ir::{Module, OperationRef};

use melior::pass::{create_external, ExternalPass, PassManager};
use nibble_ir::mlir::{emit_error, read_func, replace_module_body, Mlir};
use nibble_ir::text::print_module;

/// Splits `a,b{x=1},func.func(c,d)` at top-level commas.
fn split_top(s: &str) -> Result<Vec<String>, PassError> {
    let mut out = Vec::new();
    let (mut depth, mut cur) = (0i32, String::new());
    for ch in s.chars() {
        match ch {
            '(' | '{' => depth += 1,
            ')' | '}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return Err(PassError::Syntax(format!("unbalanced brackets in '{s}'")));
        }
        if ch == ',' && depth == 0 {
            out.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(ch);
        }
    }
    if depth != 0 {
        return Err(PassError::Syntax(format!("unbalanced brackets in '{s}'")));
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    Ok(out)
}

fn parse_options(s: &str) -> Result<Options, PassError> {
    let mut o = Options::default();
    for kv in s.split_whitespace() {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| PassError::Syntax(format!("option '{kv}' must be key=value")))?;
        o.0.push((k.to_string(), v.to_string()));
    }
    Ok(o)
}

/// Runs one nibble pass on a module operation: module → Func → pass → verified module body.
fn run_on_module(
    info: &PassInfo,
    opts: &Options,
    module: OperationRef<'_, '_>,
    pass: ExternalPass<'_>,
) {
    let result = (|| -> Result<(), PassError> {
        let func = read_func(module)?;
        let out = (info.run)(&func, opts).map_err(PassError::Body)?;
        let text = print_module(&out);
        let new = nibble_ir::mlir::parse_in_context_of(module, &text)
            .ok_or(PassError::Rejected(info.name))?;
        if !new.as_operation().verify() {
            return Err(PassError::Unverified(info.name));
        }
        replace_module_body(module, new);
        Ok(())
    })();
    if let Err(e) = result {
        emit_error(module, &format!("{}: {e}", info.name));
        pass.signal_failure();
    }
}

/// Appends an upstream pipeline element (`canonicalize`, `func.func(cse)`) to the pass manager
/// (mlirParsePassPipeline would replace what is already there); `name` is the element's pass.
fn add_upstream(pm: &PassManager, elem: &str, name: &str, reg: &Registry) -> Result<(), PassError> {
    unsafe extern "C" fn collect(s: mlir_sys::MlirStringRef, data: *mut std::ffi::c_void) {
        let out = unsafe { &mut *(data as *mut String) };
        out.push_str(&String::from_utf8_lossy(nibble_ir::mlir::bytes_of(&s)));
    }
    let mut msg = String::new();
    let c = std::ffi::CString::new(elem)
        .map_err(|_| PassError::Syntax(format!("a NUL byte in '{}'", elem.escape_debug())))?;
    let ok = unsafe {
        let opm = mlir_sys::mlirPassManagerGetAsOpPassManager(pm.to_raw());
        mlir_sys::mlirOpPassManagerAddPipeline(
            opm,
            mlir_sys::mlirStringRefCreateFromCString(c.as_ptr()),
            Some(collect),
            &mut msg as *mut String as *mut _,
        )
    };
    if ok.value != 0 {
        Ok(())
    } else if msg.contains("does not refer to a registered pass")
        || msg.contains("not a registered")
    {
        let ours: Vec<&str> = reg.passes().iter().map(|p| p.name).collect();
        Err(PassError::Unknown(name.to_string(), ours.join(", ")))
    } else if msg.is_empty() {
        Err(PassError::Syntax(format!("cannot parse '{elem}'")))
    } else {
        Err(PassError::Syntax(msg))
    }
}

/// Parses `pipeline` (`builtin.module(…)` or a bare list) and runs it on `module`, with
/// nibble's own passes ([`Registry::builtin`]).
pub fn run_pipeline(mlir: &Mlir, module: &mut Module, pipeline: &str) -> Result<(), PassError> {
    run_pipeline_with(&Registry::builtin(), mlir, module, pipeline)
}

/// [`run_pipeline`] with the passes of `reg`.
pub fn run_pipeline_with(
    reg: &Registry,
    mlir: &Mlir,
    module: &mut Module,
    pipeline: &str,
) -> Result<(), PassError> {
    let p = pipeline.trim();
    let inner = p
        .strip_prefix("builtin.module(")
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(p);
    let pm = PassManager::new(&mlir.context);
    for elem in split_top(inner)? {
        let (name, opts) = match elem.split_once('{') {
            Some((n, rest)) => (
                n.trim().to_string(),
                parse_options(rest.trim_end_matches('}'))?,
            ),
            None => (elem.clone(), Options::default()),
        };
        if let Some(info) = reg.pass(&name) {
            let runner = move |op: OperationRef<'_, '_>, pass: ExternalPass<'_>| {
                run_on_module(info, &opts, op, pass)
            };
            pm.add_pass(create_external(
                runner,
                // MLIR identifies a pass type by an address: the pass's own (static).
                TypeId::create(info),
                info.name,
                info.name,
                info.summary,
                "builtin.module",
                &[],
            ));
        } else {
            add_upstream(&pm, &elem, &name, reg)?;
        }
    }
    mlir.take_diagnostics();
    pm.run(module).map_err(|_| {
        let d = mlir.take_diagnostics();
        PassError::Failed(if d.is_empty() {
            "the pass pipeline failed".into()
        } else {
            d.join("\n")
        })
    })
}
