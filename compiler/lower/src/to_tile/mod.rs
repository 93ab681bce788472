//! qnt → tile: integer-only ops on plain integer tensors, with each accumulator's
//! `qnt.requant` (or PReLU / hard-swish / swish epilogue, and a following `qnt.clamp`) fused
//! into the producing conv / fully connected / matmul op. 16-bit activations are checked first
//! ([`crate::widths`]).
//!
//! The conversion leaves the schedule for later passes: tiled ops get one tile (the whole
//! output) and every arena `offset` is 0, until [`crate::tile_size`] sizes tiles for a target
//! (`nibble-tile-size`) and [`crate::memory_plan`] places every buffer (`nibble-plan-memory`).
//! [`to_tile`] runs all three, for in-process users.
//!
//! Before (qnt):
//! ```mlir
//! %a = "qnt.conv2d"(%x, %w, %b) {…} -> tensor<1x28x28x32x!quant.uniform<i32:f32, …>>
//! %r = "qnt.requant"(%a) {multiplier = …, shift = …}
//! %c = "qnt.clamp"(%r) {min = 0, max = 127}
//! ```
//! After (tile):
//! ```mlir
//! %c = "tile.conv2d"(%x, %w, %b) {multiplier = …, shift = …, clamp_min = 0, clamp_max = 127,
//!                                 tile = array<i64: 28, 32>, offset = 0, …} -> tensor<1x28x28x32xi8>
//! ```

mod layers;
mod ops;
mod requant;

use crate::{loc, LowerError};
use nibble_ir::{Func, Op, Type, ValueId};
use nibble_qnt as qnt;
use nibble_target::Target;
use std::collections::HashMap;

pub(crate) fn err(op: &Op, msg: impl Into<String>) -> LowerError {
    LowerError::Tile {
        op: op.name.clone(),
        loc: loc(op),
        msg: msg.into(),
    }
}

/// One qnt → tile conversion under way: the qnt function, the tile function being built, which
/// tile value holds each qnt value, and the qnt ops already fused into an earlier one.
struct Cx<'q> {
    q: &'q Func,
    f: Func,
    map: HashMap<ValueId, ValueId>,
    uses: Vec<usize>,
    done: Vec<bool>,
}

/// What a pattern made: the tile value standing for qnt value `result` (the op's result, or
/// that of the last op fused into it).
struct Converted {
    result: ValueId,
    value: ValueId,
}

impl Converted {
    fn of(op: &Op, value: ValueId) -> Converted {
        Converted {
            result: op.results[0],
            value,
        }
    }
}

/// A conversion pattern: converts qnt op `i` (and what it fuses) into `cx.f`.
type Pattern = fn(&mut Cx<'_>, usize) -> Result<Converted, LowerError>;

impl Cx<'_> {
    /// The tile value of `op`'s operand `k`.
    fn input(&self, op: &Op, k: usize) -> Result<ValueId, LowerError> {
        op.operands
            .get(k)
            .and_then(|v| self.map.get(v))
            .copied()
            .ok_or_else(|| err(op, format!("operand {k} is undefined")))
    }

    /// The shape of qnt value `v`.
    fn shape(&self, v: ValueId) -> Vec<i64> {
        self.q.ty(v).shape().unwrap_or(&[]).to_vec()
    }

    /// The plain integer type qnt value `v` is stored as.
    fn storage(&self, v: ValueId) -> Type {
        self.q.ty(v).storage()
    }

    /// The op that alone reads `v` (used once, not returned), if one does.
    fn only_user(&self, v: ValueId) -> Option<usize> {
        let mut users = (self.q.ops.iter().enumerate())
            .filter(|(_, o)| o.operands.contains(&v))
            .map(|(i, _)| i);
        match (users.next(), users.next()) {
            (Some(r), None) if self.uses[v] == 1 => Some(r),
            _ => None,
        }
    }
}

/// The conversion pattern of a qnt op, if it has a tile-level form.
fn pattern_for(name: &str) -> Option<Pattern> {
    Some(match name {
        qnt::QUANTIZE => ops::quantize,
        qnt::DEQUANTIZE => ops::dequantize,
        qnt::CONST => ops::constant,
        qnt::CONV2D | qnt::DEPTHWISE_CONV2D | qnt::FULLY_CONNECTED | qnt::TRANSPOSE_CONV2D => {
            layers::layer
        }
        qnt::MATMUL => layers::matmul,
        qnt::REQUANT => ops::requant,
        qnt::PRELU => ops::prelu,
        qnt::LUT => ops::lut,
        qnt::CLAMP => ops::clamp,
        qnt::MAX_POOL2D => ops::max_pool,
        qnt::AVG_POOL2D => ops::avg_pool,
        qnt::TRANSPOSE => ops::transpose,
        qnt::RESHAPE => ops::reshape,
        qnt::SLICE => ops::slice,
        qnt::CONCAT => ops::concat,
        qnt::ADD | qnt::MUL => ops::add_mul,
        qnt::SOFTMAX => ops::softmax,
        qnt::LAYER_NORM => ops::layer_norm,
        qnt::SQUEEZE_EXCITE => ops::squeeze_excite,
        qnt::RESIZE => ops::resize,
        _ => return None,
    })
}

/// Converts a qnt-level function to the tile level, unscheduled (one tile per op, no memory
/// plan): what `nibble-lower-tile` does.
pub fn convert(q: &Func) -> Result<Func, LowerError> {
    Ok(convert_mapped(q)?.0)
}

/// [`convert`], also returning which tile value holds each qnt value that survives the
/// conversion (a requant or clamp fused into its producer maps only through the fused op's
/// result).
pub fn convert_mapped(q: &Func) -> Result<(Func, HashMap<ValueId, ValueId>), LowerError> {
    crate::widths::check_widths(q)?;
    qnt::types::check_types(q)?;
    let mut f = Func::new(&q.name);
    f.attrs = q.attrs.clone();
    let arg = f.add_arg(q.ty(q.args[0]).clone());
    let mut cx = Cx {
        q,
        f,
        map: HashMap::from([(q.args[0], arg)]),
        uses: q.use_counts(),
        done: vec![false; q.ops.len()],
    };
    for (i, op) in q.ops.iter().enumerate() {
        if cx.done[i] {
            continue;
        }
        let start = cx.f.ops.len();
        let pattern = pattern_for(&op.name)
            .ok_or_else(|| err(op, format!("'{}' has no tile-level form", op.name)))?;
        let Converted { result, value } = pattern(&mut cx, i)?;
        for o in &mut cx.f.ops[start..] {
            o.loc = op.loc.clone();
        }
        cx.map.insert(result, value);
    }
    let (mut f, map) = (cx.f, cx.map);
    for &r in &q.returns {
        f.returns.push(*map.get(&r).ok_or_else(|| LowerError::Tile {
            op: "func.return".into(),
            loc: String::new(),
            msg: "a returned value is undefined".into(),
        })?);
    }
    Ok((f, map))
}

/// Lowers a qnt-level function to the tile level for `target`: the conversion, tile sizing and
/// the memory plan (`nibble-lower-tile,nibble-tile-size,nibble-plan-memory` in one call).
pub fn to_tile(q: &Func, target: &Target) -> Result<Func, LowerError> {
    Ok(to_tile_mapped(q, target)?.0)
}

/// [`to_tile`], also returning the value map of [`convert_mapped`].
pub fn to_tile_mapped(
    q: &Func,
    target: &Target,
) -> Result<(Func, HashMap<ValueId, ValueId>), LowerError> {
    let (mut f, map) = convert_mapped(q)?;
    crate::tile_size::size_tiles(&mut f, target)?;
    crate::memory_plan::plan_memory(&mut f)?;
    Ok((f, map))
}
