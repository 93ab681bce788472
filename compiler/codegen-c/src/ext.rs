//! The C printer's extension point for back ends that add a dialect (the `npu` example,
//! vendors): an [`Extension`] writes the ops of its dialect (and any op it claims), may wrap
//! the calls codegen-c writes for the remaining tile ops, adds includes to `model.c` and
//! statements at the end of `nibble_model_run`. Everything else — constants, the host
//! boundary, the arena, `model.h`, `main.c` — stays codegen-c's, so a back end writes only
//! what is new. [`emit_with`] is [`crate::emit`] with an extension.

use crate::{CodegenError, KERNEL_FILES, RUNTIME_C, RUNTIME_H};
use nibble_ir::{Func, Op, ValueId};
use std::collections::HashMap;

/// What an extension sees of the op it is asked to write.
pub struct Cx<'a> {
    pub f: &'a Func,
    pub op: &'a Op,
    /// The op's index: names its file-scope tables.
    pub i: usize,
    /// The C expression of every value stored so far; set the op's result's.
    pub place: &'a mut HashMap<ValueId, String>,
    /// File-scope tables.
    pub tables: &'a mut String,
    /// The body of `nibble_model_run`.
    pub body: &'a mut String,
}

/// A back end's additions to the C printer.
pub trait Extension {
    /// Lines added after `#include "nibble_runtime.h"` in `model.c`.
    fn includes(&self) -> String {
        String::new()
    }
    /// Statements at the start of `nibble_model_run`.
    fn prologue(&self) -> String {
        String::new()
    }
    /// Writes `cx.op` if it is the extension's, returning true; false leaves it to codegen-c.
    fn op(&mut self, cx: &mut Cx) -> Result<bool, CodegenError>;
    /// Statements before and after the call codegen-c writes for tile op `i`.
    fn around(&mut self, _f: &Func, _op: &Op, _i: usize) -> (String, String) {
        (String::new(), String::new())
    }
    /// Statements at the end of `nibble_model_run` (before the outputs are copied).
    fn epilogue(&self) -> String {
        String::new()
    }
}

/// No extension: plain codegen-c.
pub(crate) struct Plain;

impl Extension for Plain {
    fn op(&mut self, _: &mut Cx) -> Result<bool, CodegenError> {
        Ok(false)
    }
}

/// The `nb_rq` initializer of op number `i`'s requantization fields (its tables appended to
/// `tables`): for an extension's calls of the runtime's requantization.
pub fn rq_initializer(op: &Op, i: usize, tables: &mut String) -> Result<String, CodegenError> {
    let rq = <nibble_tile::Requant as nibble_tile::Record>::read(op)?;
    Ok(crate::requant::initializer(&rq, i, tables))
}

/// The generated files of `f` with extension `ext`: (file name, contents).
pub fn emit_with(f: &Func, ext: &mut dyn Extension) -> Result<Vec<(String, String)>, CodegenError> {
    let Some(arena) = nibble_tile::arena_bytes(f) else {
        return Err(crate::func_err(
            "no memory plan (nibble.arena_bytes); run the tile lowering first",
        ));
    };
    nibble_tile::types::check_types(f)?;
    let s = crate::schedule::schedule(f, ext)?;
    let (model_c, id) = crate::model::model_c(f, &s, arena, &ext.includes(), &ext.epilogue())?;
    let in_shape = f.args.first().map(|&a| f.ty(a).shape().unwrap_or(&[]));
    let in_shape = in_shape.unwrap_or(&[]);
    let model_h = crate::header::model_h(&s, in_shape, arena, id);
    let main_c = crate::harness::main_c(f, &s, in_shape, &crate::names::id_check(id));
    let mut files = vec![
        ("model.h".into(), model_h),
        ("model.c".into(), model_c),
        ("nibble_runtime.h".into(), RUNTIME_H.into()),
        ("nibble_runtime.c".into(), RUNTIME_C.into()),
    ];
    files.extend(
        KERNEL_FILES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string())),
    );
    files.push(("main.c".into(), main_c));
    Ok(files)
}
