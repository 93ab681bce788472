//! The ONNX ops the importer understands: one registry entry per op, holding both its row of the
//! support table (`nibble ops`, docs/onnx-ops.md) and how it is imported. The importer finds an
//! op's lowering only through its entry, so an op cannot be handled without a row, and the table
//! lists exactly what is handled.
//!
//! Each module below holds a family of ops: its `OPS` entries and their lowerings (and, for ops
//! that shape computations use, their import-time folding on constants; see `shape_fold.rs`).

mod activation;
mod constant;
mod conv;
mod elementwise;
mod matmul;
mod norm;
mod pool;
pub(crate) mod qdq;
mod reduce;
mod resize;
mod shape;
mod slice;

use crate::importer::{Importer, Val};
use crate::shape_fold::Folding;
use crate::tensor::Const;
use crate::ImportError;

/// Lowers the current node to graph-level ops; returns one value per node output.
pub(crate) type Lower = fn(&mut Importer<'_>) -> Result<Vec<Val>, ImportError>;
/// Evaluates the current node on its constant inputs (one result).
pub(crate) type Fold = fn(&Folding<'_, '_>) -> Result<Const, ImportError>;
/// Evaluates the current node whatever its inputs (one result per node output).
pub(crate) type Eval = fn(&Importer<'_>) -> Result<Vec<Const>, ImportError>;
/// Imports the current node, defining its outputs itself (constants or values).
pub(crate) type Own = fn(&mut Importer<'_>) -> Result<(), ImportError>;

/// How an op is imported.
pub(crate) enum Import {
    /// Lowered to graph-level ops.
    Lower(Lower),
    /// Folded when every input is a constant (shape computations), lowered otherwise.
    FoldOrLower(Fold, Lower),
    /// Folded when every input is a constant; refused on run-time values.
    Fold(Fold),
    /// Always evaluated at import (Constant, and Shape since shapes are static).
    Eval(Eval),
    /// Constants or values as its inputs are (QuantizeLinear, DequantizeLinear).
    Own(Own),
    /// Rewritten into other ops before import (QOperator ops: `qoperator.rs`).
    Expanded,
}

/// One supported ONNX op: its row of the support table (the opsets it is accepted in, the
/// attributes understood, notes) and how it is imported.
pub struct OpSupport {
    pub op: &'static str,
    pub opsets: &'static str,
    pub attributes: &'static str,
    pub notes: &'static str,
    pub(crate) import: Import,
}

/// Every family's entries: the only way from an op type to its import.
const REGISTRY: &[&[OpSupport]] = &[
    activation::OPS,
    constant::OPS,
    conv::OPS,
    elementwise::OPS,
    matmul::OPS,
    norm::OPS,
    pool::OPS,
    qdq::OPS,
    reduce::OPS,
    resize::OPS,
    shape::OPS,
    slice::OPS,
];

// An op type has exactly one entry (checked when the crate is compiled).
const _: () = assert!(
    distinct_ops(REGISTRY),
    "an ONNX op has two registry entries"
);

const fn distinct_ops(families: &[&[OpSupport]]) -> bool {
    let mut i = 0;
    while i < families.len() {
        let mut j = 0;
        while j < families[i].len() {
            if count(families, families[i][j].op) != 1 {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

const fn count(families: &[&[OpSupport]], op: &str) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < families.len() {
        let mut j = 0;
        while j < families[i].len() {
            if same(families[i][j].op.as_bytes(), op.as_bytes()) {
                n += 1;
            }
            j += 1;
        }
        i += 1;
    }
    n
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut k = 0;
    while k < a.len() {
        if a[k] != b[k] {
            return false;
        }
        k += 1;
    }
    true
}

/// The entry of an ONNX op type, if it is supported.
pub(crate) fn lookup(op: &str) -> Option<&'static OpSupport> {
    REGISTRY.iter().flat_map(|f| f.iter()).find(|o| o.op == op)
}

/// Every supported op, sorted by name (case-insensitively).
pub fn supported_ops() -> Vec<&'static OpSupport> {
    let mut ops: Vec<_> = REGISTRY.iter().flat_map(|f| f.iter()).collect();
    ops.sort_by_key(|o| o.op.to_lowercase());
    ops
}

/// The supported-op table as Markdown (the content of docs/onnx-ops.md).
pub fn ops_markdown() -> String {
    let mut s = String::from("# Supported ONNX ops\n\nGenerated from the op registry of `compiler/frontend/src/ops/` (each op's `OpSupport` entry, next to its lowering); a test keeps this file equal to the table. Models must use opsets 1–21 of the default domain; external data, subgraphs (If/Loop) and sequences are refused.\n\n| op | opsets | attributes | notes |\n|---|---|---|---|\n");
    for o in supported_ops() {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            o.op, o.opsets, o.attributes, o.notes
        ));
    }
    s
}

/// The supported op names, for the unsupported-op error.
pub(crate) fn supported_list() -> String {
    supported_ops()
        .iter()
        .map(|o| o.op)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Importer<'_> {
    /// Lowers the current node (not folded) to graph-level ops, after checking its attributes.
    pub(crate) fn lower(&mut self) -> Result<Vec<Val>, ImportError> {
        self.check_attributes()?;
        let op = self.node.op_type();
        match lookup(op).map(|o| &o.import) {
            Some(Import::Lower(lower) | Import::FoldOrLower(_, lower)) => lower(self),
            Some(Import::Fold(_) | Import::Eval(_) | Import::Own(_) | Import::Expanded) => Err(self.err("only shape computations on constants are supported (they are folded at import); this one depends on run-time values")),
            None => Err(self.refusal(op)),
        }
    }

    /// The node's own import, for ops that define their outputs themselves.
    pub(crate) fn own(&self) -> Option<Own> {
        match lookup(self.node.op_type()).map(|o| &o.import) {
            Some(Import::Own(own)) => Some(*own),
            _ => None,
        }
    }

    /// Why an op without an entry is refused.
    fn refusal(&self, op: &str) -> ImportError {
        match op {
            "If" | "Loop" | "Scan" => self.err(
                "control flow with subgraphs is not supported (nibble compiles static graphs)",
            ),
            o if o.starts_with("Sequence")
                || o == "SplitToSequence"
                || o == "ConcatFromSequence" =>
            {
                self.err("sequence types are not supported")
            }
            _ => ImportError::UnsupportedOp {
                op: op.to_string(),
                node: self.label(),
            },
        }
    }
}
