//! One runtime call per tile op: [`writer`] picks the function that writes an op's call into
//! the body of `nibble_model_run` (and its tables into file scope), by op family:
//! convolutions and products ([`conv`]), pooling and resizing ([`spatial`]), elementwise ops
//! ([`elementwise`]), normalisations ([`norm`]) and data movement ([`layout`]). Conv2d,
//! depthwise and fully connected layers that the runtime's int8 microkernels compute call them
//! instead ([`micro`]).

mod conv;
mod elementwise;
mod layout;
pub(crate) mod micro;
mod norm;
mod spatial;

use crate::{err, requant, CodegenError};
use nibble_ir::{Elem, Func, Op, ValueId};
use nibble_tile as tile;
use std::collections::HashMap;
use std::fmt::{Display, Write};

/// Writes one op's kernel call.
pub(crate) type Writer = fn(&mut Kernel) -> Result<(), CodegenError>;

/// The writer of the runtime call computing `name`, if the runtime has one.
pub(crate) fn writer(name: &str) -> Option<Writer> {
    Some(match name {
        tile::CONV2D => conv::conv2d,
        tile::DEPTHWISE_CONV2D => conv::depthwise_conv2d,
        tile::FULLY_CONNECTED => conv::fully_connected,
        tile::MATMUL => conv::matmul,
        tile::TRANSPOSE_CONV2D => conv::transpose_conv2d,
        tile::REQUANT => elementwise::requant,
        tile::LUT => elementwise::lut,
        tile::CLAMP => elementwise::clamp,
        tile::ADD | tile::MUL => elementwise::add_mul,
        tile::MAX_POOL2D => spatial::max_pool2d,
        tile::AVG_POOL2D => spatial::avg_pool2d,
        tile::RESIZE => spatial::resize,
        tile::SOFTMAX => norm::softmax,
        tile::LAYER_NORM => norm::layer_norm,
        tile::SQUEEZE_EXCITE => norm::squeeze_excite,
        tile::TRANSPOSE => layout::transpose,
        tile::SLICE => layout::slice,
        tile::CONCAT => layout::concat,
        _ => return None,
    })
}

/// Storage bits of an activation (8 or 16).
pub(crate) fn storage_bits(f: &Func, v: ValueId) -> u32 {
    match f.ty(v).elem() {
        Some(Elem::Int(16)) => 16,
        _ => 8,
    }
}

/// `((TYPE *)(nb_arena + OFFSET))`: a place in the arena.
pub(crate) fn arena_ptr(offset: i64, ty: &str) -> String {
    format!("(({ty} *)(nb_arena + {offset}))")
}

/// `name(a, b, …);`: a runtime call.
pub(crate) fn call(name: &str, args: &[&dyn Display]) -> String {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    format!("{name}({});", args.join(", "))
}

/// What a writer sees of one op (number `i` of the function) and where it writes.
pub(crate) struct Kernel<'a> {
    pub f: &'a Func,
    pub op: &'a Op,
    /// The op's index in the function: it names the op's file-scope tables (`nb_shift{i}`).
    pub i: usize,
    /// The result's offset in the arena.
    offset: i64,
    /// The C expression of every value stored so far.
    place: &'a HashMap<ValueId, String>,
    /// File-scope tables.
    pub weights: &'a mut String,
    /// The body of `nibble_model_run`.
    body: &'a mut String,
}

impl<'a> Kernel<'a> {
    pub(crate) fn new(
        f: &'a Func,
        op: &'a Op,
        i: usize,
        place: &'a HashMap<ValueId, String>,
        weights: &'a mut String,
        body: &'a mut String,
    ) -> Self {
        let offset = tile::offset(op);
        Kernel {
            f,
            op,
            i,
            offset,
            place,
            weights,
            body,
        }
    }

    /// An error located at this op.
    pub fn err(&self, msg: impl Into<String>) -> CodegenError {
        err(self.op, msg)
    }

    /// The value of operand `k`.
    pub fn operand(&self, k: usize) -> Result<ValueId, CodegenError> {
        self.op
            .operands
            .get(k)
            .copied()
            .ok_or_else(|| self.err(format!("operand {k} is missing")))
    }

    /// The op's result.
    pub fn result(&self) -> Result<ValueId, CodegenError> {
        self.op
            .results
            .first()
            .copied()
            .ok_or_else(|| self.err("the op has no result"))
    }

    /// The shape of `v` (empty for a scalar).
    pub fn dims(&self, v: ValueId) -> Vec<i64> {
        self.f.ty(v).shape().unwrap_or(&[]).to_vec()
    }

    /// The shape of `v`, which must have rank `rank` (NHWC images: 4).
    pub fn dims_of_rank(&self, v: ValueId, rank: usize) -> Result<Vec<i64>, CodegenError> {
        let d = self.dims(v);
        if d.len() != rank {
            return Err(self.err(format!("needs rank-{rank} tensors, got shape {d:?}")));
        }
        Ok(d)
    }

    /// Elements of the result.
    pub fn result_elems(&self) -> Result<usize, CodegenError> {
        Ok(self.f.ty(self.result()?).num_elements())
    }

    /// Storage bits (8 or 16) of `v`.
    pub fn bits(&self, v: ValueId) -> u32 {
        storage_bits(self.f, v)
    }

    /// Operand `k`'s storage.
    pub fn x(&self, k: usize) -> Result<String, CodegenError> {
        self.place
            .get(&self.operand(k)?)
            .cloned()
            .ok_or_else(|| self.err(format!("operand {k} has no storage")))
    }

    /// Operand `k` for kernels that read int8 or int16 (`const void *x, int x_bits`).
    pub fn xb(&self, k: usize) -> Result<String, CodegenError> {
        Ok(format!("{}, {}", self.x(k)?, self.bits(self.operand(k)?)))
    }

    /// The result's storage as a `TYPE *`.
    pub fn ptr(&self, ty: &str) -> String {
        arena_ptr(self.offset, ty)
    }

    /// The result for kernels that write int8 or int16 (`void *y, int y_bits`).
    pub fn out(&self) -> Result<String, CodegenError> {
        let bits = self.bits(self.result()?);
        Ok(format!("(nb_arena + {}), {bits}", self.offset))
    }

    /// `static const nb_rq rq = {…};`, the op's requantization `rq` (its tables at file
    /// scope).
    pub fn rq(&mut self, rq: &tile::Requant) -> String {
        let init = requant::initializer(rq, self.i, self.weights);
        format!("static const nb_rq rq = {init};")
    }

    /// A one-line statement: `    CALL`.
    pub fn line(&mut self, call: &str) {
        let _ = writeln!(self.body, "    {call}");
    }

    /// A block of static declarations, one a line, and the call that reads them:
    /// `    { DECL…\n      CALL }`.
    pub fn block(&mut self, decls: &[String], call: &str) {
        let _ = write!(self.body, "    {{");
        for (k, decl) in decls.iter().enumerate() {
            let indent = if k == 0 { " " } else { "      " };
            let _ = writeln!(self.body, "{indent}{decl}");
        }
        let _ = writeln!(self.body, "      {call} }}");
    }
}
