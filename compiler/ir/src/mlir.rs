//! The MLIR side: a context with upstream dialects plus our IRDL dialects, parsing with
//! collected diagnostics, and the bridge between an MLIR module and a [`Func`].
//!
//! Raw `mlir-sys` calls that melior lacks (attribute payloads, moving ops between blocks) are
//! kept in this module.

use crate::model::{Attr, Func, Op};
use crate::text::parse_type;
use crate::IrError;
use melior::ir::operation::OperationLike;
use melior::ir::{Attribute, Location, Module, OperationRef};
use melior::{dialect::DialectRegistry, Context};
use mlir_sys as sys;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// An MLIR context ready for nibble: all upstream dialects and our IRDL dialects loaded, and a
/// diagnostic handler that collects messages so they become one clear error.
pub struct Mlir {
    pub context: Context,
    diagnostics: Rc<RefCell<Vec<String>>>,
}

/// Turns `loc("file.mlir":3:5)` into `file.mlir:3:5`, and other locations into their text.
fn location_text(loc: &str) -> String {
    let inner = loc
        .strip_prefix("loc(")
        .and_then(|l| l.strip_suffix(')'))
        .unwrap_or(loc);
    if let Some(rest) = inner.strip_prefix('"') {
        if let Some((file, pos)) = rest.split_once('"') {
            if let Some(pos) = pos.strip_prefix(':') {
                return format!("{file}:{pos}");
            }
            return format!("{file}{pos}");
        }
    }
    inner.to_string()
}

impl Mlir {
    /// Creates the context and loads each `(name, irdl_text)` dialect definition.
    pub fn new(irdl: &[(&str, &str)]) -> Result<Mlir, IrError> {
        let registry = DialectRegistry::new();
        melior::utility::register_all_dialects(&registry);
        let context = Context::new_with_registry(&registry, false);
        context.load_all_available_dialects();
        let diagnostics = Rc::new(RefCell::new(Vec::new()));
        let sink = diagnostics.clone();
        context.attach_diagnostic_handler(move |d| {
            let severity = match d.severity() {
                melior::diagnostic::DiagnosticSeverity::Error => "error",
                melior::diagnostic::DiagnosticSeverity::Warning => "warning",
                melior::diagnostic::DiagnosticSeverity::Note => "note",
                melior::diagnostic::DiagnosticSeverity::Remark => "remark",
            };
            // Text parsed from memory has the location `-:1:1`: print no location for it.
            let loc = location_text(&d.location().to_string());
            let text = display_lossy(&d);
            let mut msg = if loc.is_empty() || loc.starts_with("-:") || loc == "unknown" {
                format!("{severity}: {text}")
            } else {
                format!("{loc}: {severity}: {text}")
            };
            for i in 0..d.note_count() {
                if let Ok(n) = d.note(i) {
                    msg.push_str(&format!("\n  note: {}", display_lossy(&n)));
                }
            }
            sink.borrow_mut().push(msg);
            true
        });
        let mlir = Mlir {
            context,
            diagnostics,
        };
        for (name, text) in irdl {
            let module = mlir.parse(text, &format!("{name}.irdl.mlir"))?;
            if !melior::utility::load_irdl_dialects(&module) {
                return Err(IrError::Dialect(
                    name.to_string(),
                    mlir.take_diagnostics().join("; "),
                ));
            }
        }
        Ok(mlir)
    }

    /// Drains the diagnostics collected so far.
    pub fn take_diagnostics(&self) -> Vec<String> {
        std::mem::take(&mut *self.diagnostics.borrow_mut())
    }

    /// Parses and verifies a module; `source` names the text in diagnostics.
    pub fn parse(&self, text: &str, source: &str) -> Result<Module<'_>, IrError> {
        self.take_diagnostics();
        if text.contains('\0') {
            return Err(IrError::Parse(format!(
                "{source}: the file contains a NUL byte"
            )));
        }
        let c = std::ffi::CString::new(text).map_err(|e| IrError::Parse(e.to_string()))?;
        let path = std::path::Path::new(source);
        // A file on disk is parsed from the file so diagnostics carry `file:line:col`; text is
        // parsed with an implicit top-level module either way.
        let module = unsafe {
            let raw =
                if path.is_file() && std::fs::read_to_string(path).ok().as_deref() == Some(text) {
                    let name = std::ffi::CString::new(source)
                        .map_err(|e| IrError::Parse(e.to_string()))?;
                    sys::mlirModuleCreateParseFromFile(
                        self.context.to_raw(),
                        sys::mlirStringRefCreateFromCString(name.as_ptr()),
                    )
                } else {
                    sys::mlirModuleCreateParse(
                        self.context.to_raw(),
                        sys::mlirStringRefCreateFromCString(c.as_ptr()),
                    )
                };
            if raw.ptr.is_null() {
                None
            } else {
                Some(Module::from_raw(raw))
            }
        };
        match module {
            Some(m) if m.as_operation().verify() => Ok(m),
            _ => {
                let d = self.take_diagnostics();
                Err(IrError::Parse(if d.is_empty() {
                    format!("{source}: not a valid MLIR module")
                } else {
                    d.join("\n")
                }))
            }
        }
    }

    /// Prints `func`, parses and verifies it as MLIR.
    pub fn module_of(&self, func: &Func) -> Result<Module<'_>, IrError> {
        let text = crate::text::print_module(func);
        self.parse(&text, &format!("<{}>", func.name))
            .map_err(|e| IrError::Internal(format!("nibble produced invalid IR: {e}")))
    }
}

/// The text of `x` — an MLIR diagnostic — even when it is not UTF-8 (a message quoting bytes
/// that a string escape like `\de` made): melior's `Display` then fails, and `to_string` or
/// `format!` would panic; here the text stops at such a chunk and says so.
pub(crate) fn display_lossy(x: &impl std::fmt::Display) -> String {
    let mut s = String::new();
    if std::fmt::Write::write_fmt(&mut s, format_args!("{x}")).is_err() {
        s.push_str("\u{fffd} (the rest is not UTF-8)");
    }
    s
}

/// The bytes of an MLIR string reference (an empty one may have a null pointer).
pub fn bytes_of(s: &sys::MlirStringRef) -> &[u8] {
    if s.data.is_null() || s.length == 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(s.data as *const u8, s.length) }
    }
}

unsafe extern "C" fn string_callback(s: sys::MlirStringRef, data: *mut std::ffi::c_void) {
    let out = unsafe { &mut *(data as *mut Vec<u8>) };
    out.extend_from_slice(bytes_of(&s));
}

fn raw_string(s: sys::MlirStringRef) -> String {
    String::from_utf8_lossy(bytes_of(&s)).into_owned()
}

fn type_text(t: sys::MlirType) -> String {
    let mut out = Vec::new();
    unsafe { sys::mlirTypePrint(t, Some(string_callback), &mut out as *mut _ as *mut _) };
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads one attribute into the model.
fn read_attr(a: sys::MlirAttribute) -> Result<Attr, IrError> {
    unsafe {
        if sys::mlirAttributeIsADenseElements(a) {
            let ty = parse_type(&type_text(sys::mlirAttributeGetType(a)))?;
            let n = ty.num_elements();
            let width = match ty.elem() {
                Some(crate::Elem::F32) => 4,
                Some(crate::Elem::Int(b)) if *b >= 8 && b % 8 == 0 => (*b / 8) as usize,
                Some(crate::Elem::Index) => 8,
                _ => return Ok(Attr::Raw(Attribute::from_raw(a).to_string())),
            };
            let data = sys::mlirDenseElementsAttrGetRawData(a) as *const u8;
            if n == 0 || data.is_null() {
                return Ok(Attr::Dense(ty, Vec::new()));
            }
            let bytes = if sys::mlirDenseElementsAttrIsSplat(a) {
                std::slice::from_raw_parts(data, width).repeat(n)
            } else {
                std::slice::from_raw_parts(data, width * n).to_vec()
            };
            return Ok(Attr::Dense(ty, bytes));
        }
        if sys::mlirAttributeIsAInteger(a) {
            let t = type_text(sys::mlirAttributeGetType(a));
            if t != "index" && !t.starts_with('i') {
                return Ok(Attr::Raw(Attribute::from_raw(a).to_string()));
            }
            return Ok(Attr::Int(sys::mlirIntegerAttrGetValueInt(a), t));
        }
        if sys::mlirAttributeIsAFloat(a) {
            return Ok(Attr::Float(
                sys::mlirFloatAttrGetValueDouble(a),
                type_text(sys::mlirAttributeGetType(a)),
            ));
        }
        if sys::mlirAttributeIsABool(a) {
            return Ok(Attr::Bool(sys::mlirBoolAttrGetValue(a)));
        }
        if sys::mlirAttributeIsAString(a) {
            return Ok(Attr::Str(raw_string(sys::mlirStringAttrGetValue(a))));
        }
        if sys::mlirAttributeIsADenseI64Array(a) {
            let n = sys::mlirDenseArrayGetNumElements(a);
            return Ok(Attr::I64s(
                (0..n)
                    .map(|i| sys::mlirDenseI64ArrayGetElement(a, i))
                    .collect(),
            ));
        }
        if sys::mlirAttributeIsADenseI32Array(a) {
            let n = sys::mlirDenseArrayGetNumElements(a);
            return Ok(Attr::I32s(
                (0..n)
                    .map(|i| sys::mlirDenseI32ArrayGetElement(a, i))
                    .collect(),
            ));
        }
        Ok(Attr::Raw(Attribute::from_raw(a).to_string()))
    }
}

/// Reads the single `func.func` of a module into a [`Func`].
pub fn read_func(module: OperationRef<'_, '_>) -> Result<Func, IrError> {
    unsafe {
        let body = sys::mlirRegionGetFirstBlock(sys::mlirOperationGetRegion(module.to_raw(), 0));
        let mut funcs = Vec::new();
        let mut op = sys::mlirBlockGetFirstOperation(body);
        while !op.ptr.is_null() {
            let name = raw_string(sys::mlirIdentifierStr(sys::mlirOperationGetName(op)));
            if name != "func.func" {
                return Err(IrError::Structure(format!(
                    "expected only func.func in the module, found '{name}'"
                )));
            }
            funcs.push(op);
            op = sys::mlirOperationGetNextInBlock(op);
        }
        let [func_op] = funcs[..] else {
            return Err(IrError::Structure(format!(
                "expected exactly one func.func, found {}",
                funcs.len()
            )));
        };
        let sym = sys::mlirOperationGetAttributeByName(
            func_op,
            sys::mlirStringRefCreateFromCString(c"sym_name".as_ptr()),
        );
        let mut func = Func::new(&raw_string(sys::mlirStringAttrGetValue(sym)));
        let n_attrs = sys::mlirOperationGetNumAttributes(func_op);
        for i in 0..n_attrs {
            let na = sys::mlirOperationGetAttribute(func_op, i);
            let key = raw_string(sys::mlirIdentifierStr(na.name));
            if key.starts_with("nibble.") {
                func.attrs.insert(key, read_attr(na.attribute)?);
            }
        }
        let region = sys::mlirOperationGetRegion(func_op, 0);
        let block = sys::mlirRegionGetFirstBlock(region);
        if block.ptr.is_null() {
            return Err(IrError::Structure("the function has no body".into()));
        }
        if !sys::mlirBlockGetNextInRegion(block).ptr.is_null() {
            return Err(IrError::Structure(
                "functions with more than one block are not supported".into(),
            ));
        }
        let mut ids: HashMap<usize, usize> = HashMap::new();
        for i in 0..sys::mlirBlockGetNumArguments(block) {
            let v = sys::mlirBlockGetArgument(block, i);
            let id = func.add_arg(parse_type(&type_text(sys::mlirValueGetType(v)))?);
            ids.insert(v.ptr as usize, id);
        }
        let mut op = sys::mlirBlockGetFirstOperation(block);
        while !op.ptr.is_null() {
            let name = raw_string(sys::mlirIdentifierStr(sys::mlirOperationGetName(op)));
            let mut operands = Vec::new();
            for i in 0..sys::mlirOperationGetNumOperands(op) {
                let v = sys::mlirOperationGetOperand(op, i);
                operands.push(*ids.get(&(v.ptr as usize)).ok_or_else(|| {
                    IrError::Structure(format!(
                        "'{name}' uses a value defined outside the function"
                    ))
                })?);
            }
            if name == "func.return" {
                func.returns = operands;
                break;
            }
            if sys::mlirOperationGetNumRegions(op) > 0 {
                return Err(IrError::Structure(format!(
                    "ops with regions ('{name}') are not supported"
                )));
            }
            let mut results = Vec::new();
            for i in 0..sys::mlirOperationGetNumResults(op) {
                let v = sys::mlirOperationGetResult(op, i);
                let id = func.new_value(parse_type(&type_text(sys::mlirValueGetType(v)))?);
                ids.insert(v.ptr as usize, id);
                results.push(id);
            }
            let mut attrs = BTreeMap::new();
            for i in 0..sys::mlirOperationGetNumAttributes(op) {
                let na = sys::mlirOperationGetAttribute(op, i);
                attrs.insert(
                    raw_string(sys::mlirIdentifierStr(na.name)),
                    read_attr(na.attribute)?,
                );
            }
            let loc = Location::from_raw(sys::mlirOperationGetLocation(op)).to_string();
            let loc = (loc != "loc(unknown)").then_some(loc);
            func.ops.push(Op {
                name,
                operands,
                results,
                attrs,
                loc,
            });
            op = sys::mlirOperationGetNextInBlock(op);
        }
        Ok(func)
    }
}

/// Replaces the body of `target` (a module op) with the ops of `source`, which is consumed.
pub fn replace_module_body(target: OperationRef<'_, '_>, source: Module<'_>) {
    unsafe {
        let dst = sys::mlirRegionGetFirstBlock(sys::mlirOperationGetRegion(target.to_raw(), 0));
        let mut op = sys::mlirBlockGetFirstOperation(dst);
        while !op.ptr.is_null() {
            let next = sys::mlirOperationGetNextInBlock(op);
            sys::mlirOperationDestroy(op);
            op = next;
        }
        let src = sys::mlirRegionGetFirstBlock(sys::mlirOperationGetRegion(
            source.as_operation().to_raw(),
            0,
        ));
        let mut op = sys::mlirBlockGetFirstOperation(src);
        while !op.ptr.is_null() {
            let next = sys::mlirOperationGetNextInBlock(op);
            sys::mlirOperationRemoveFromParent(op);
            sys::mlirBlockAppendOwnedOperation(dst, op);
            op = next;
        }
    }
}

/// Emits an error diagnostic at the op (used by passes before signalling failure).
pub fn emit_error(op: OperationRef<'_, '_>, message: &str) {
    let c = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
    unsafe { sys::mlirEmitError(sys::mlirOperationGetLocation(op.to_raw()), c.as_ptr()) };
}

/// Parses `text` as a module in the context that owns `op` (used inside passes).
pub fn parse_in_context_of<'c>(op: OperationRef<'c, '_>, text: &str) -> Option<Module<'c>> {
    let c = std::ffi::CString::new(text).ok()?;
    unsafe {
        let ctx = sys::mlirOperationGetContext(op.to_raw());
        let raw = sys::mlirModuleCreateParse(ctx, sys::mlirStringRefCreateFromCString(c.as_ptr()));
        if raw.ptr.is_null() {
            None
        } else {
            Some(Module::from_raw(raw))
        }
    }
}
