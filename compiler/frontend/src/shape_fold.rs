//! Import-time folding of shape computations. Exporters compute reshape targets and slice
//! bounds at run time (Shape → Gather → Concat → Reshape …); since nibble's graphs are static,
//! such a node whose inputs are all constants is evaluated here and its outputs become
//! constants, so the graph level holds no shape arithmetic. Each op's folding sits next to its
//! lowering in `ops/`, and its registry entry says whether it folds.

use crate::importer::Importer;
use crate::ops::{lookup, Import};
use crate::tensor::Const;
use crate::ImportError;

/// A node being folded: the importer (attributes, opset, errors) and its constant inputs
/// (`None` for an optional input left empty).
pub(crate) struct Folding<'i, 'a> {
    pub imp: &'i Importer<'a>,
    pub inputs: Vec<Option<Const>>,
}

impl Folding<'_, '_> {
    /// Input `i`, which must be given.
    pub fn get(&self, i: usize) -> Result<Const, ImportError> {
        self.inputs
            .get(i)
            .cloned()
            .flatten()
            .ok_or_else(|| self.imp.err(format!("input {i} is missing")))
    }
    /// Input `i` as integers, if given.
    pub fn ints(&self, i: usize) -> Option<Vec<i64>> {
        self.inputs.get(i).cloned().flatten().map(|c| c.ints())
    }
    /// The `axes` of Squeeze/Unsqueeze: input `i` from opset 13, the attribute before.
    pub fn axes(&self, i: usize, attr: &str) -> Vec<i64> {
        if self.imp.opset >= 13 {
            self.ints(i).unwrap_or_default()
        } else {
            self.imp.ints(attr, &[])
        }
    }
}

impl Importer<'_> {
    /// Constant inputs of the node, or None if any input is computed at run time.
    fn const_inputs(&self) -> Option<Vec<Option<Const>>> {
        self.node
            .input
            .iter()
            .map(|n| {
                if n.is_empty() {
                    Some(None)
                } else {
                    self.consts.get(n).cloned().map(Some)
                }
            })
            .collect()
    }

    /// The node's outputs as constants when it can be evaluated at import; None if it must
    /// run (it is then lowered).
    pub(crate) fn fold(&self) -> Result<Option<Vec<Const>>, ImportError> {
        let fold = match lookup(self.node.op_type()).map(|o| &o.import) {
            Some(Import::Eval(eval)) => return eval(self).map(Some),
            Some(Import::Fold(fold) | Import::FoldOrLower(fold, _)) => fold,
            Some(Import::Lower(_) | Import::Own(_) | Import::Expanded) | None => return Ok(None),
        };
        let Some(inputs) = self.const_inputs() else {
            return Ok(None);
        };
        let out = fold(&Folding { imp: self, inputs })?;
        Ok(Some(vec![out]))
    }
}
