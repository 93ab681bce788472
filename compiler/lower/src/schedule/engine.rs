//! Which unit of an accelerator target computes each tile-level op: the MAC array
//! (convolutions, fully connected layers), the vector unit (depthwise convolutions, pooling,
//! elementwise ops), or the controller CPU (everything the target lacks, on external memory).
//! A layer goes to the CPU when the accelerator cannot compute it *bit-exactly*: a
//! requantization that multiplies on a shift-only (`pow2`) unit, an epilogue activation the
//! vector unit lacks, a width the MAC array does not read, a lookup table without LUTs.

use nibble_ir::{Attr, Elem, Func, Op};
use nibble_target::{Activation, Target};
use nibble_tile as tile;

/// The unit that computes an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The MAC array (conv2d, fully_connected), on SRAM tiles.
    Mac,
    /// The vector unit (depthwise conv, pooling, elementwise), on SRAM tiles.
    Vector,
    /// The controller CPU, on whole tensors in external memory.
    Cpu,
    /// Nothing runs: constants, reshapes (aliases), the host boundary.
    None,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Mac => "mac",
            Engine::Vector => "vector",
            Engine::Cpu => "cpu",
            Engine::None => "none",
        }
    }
    /// Whether the op runs on SRAM tiles (and so is scheduled with DMA).
    pub fn on_accelerator(self) -> bool {
        matches!(self, Engine::Mac | Engine::Vector)
    }
}

/// The unit computing `op` on `target`, and for a layer that falls back to the CPU, why.
pub fn engine(f: &Func, op: &Op, target: &Target) -> (Engine, Option<String>) {
    let unit = match op.name.as_str() {
        tile::CONST | tile::RESHAPE | tile::QUANTIZE | tile::DEQUANTIZE => {
            return (Engine::None, None)
        }
        tile::CONV2D | tile::FULLY_CONNECTED => Engine::Mac,
        tile::DEPTHWISE_CONV2D | tile::MAX_POOL2D | tile::AVG_POOL2D => Engine::Vector,
        tile::REQUANT | tile::CLAMP | tile::LUT | tile::ADD | tile::MUL => Engine::Vector,
        _ => {
            return (
                Engine::Cpu,
                Some("the accelerator has no unit for it".into()),
            )
        }
    };
    match why_not(f, op, target, unit) {
        Some(why) => (Engine::Cpu, Some(why)),
        None => (unit, None),
    }
}

/// Why `unit` of `target` cannot compute `op` bit-exactly, if it cannot.
fn why_not(f: &Func, op: &Op, t: &Target, unit: Engine) -> Option<String> {
    for &v in op.operands.iter().take(1).chain(&op.results) {
        if let Some(Elem::Int(b)) = f.ty(v).elem() {
            if *b == 16 && !t.activation_widths().contains(&16) {
                return Some("16-bit activations: the target reads only 8-bit ones".into());
            }
        }
    }
    if unit == Engine::Mac {
        let bits = weight_bits(f, op);
        if t.macs_per_cycle(bits).is_none() {
            return Some(format!(
                "{bits}-bit weights: the MAC array does not multiply them"
            ));
        }
    }
    if op.name == tile::LUT && !t.vector.lut {
        return Some("a lookup table: the vector unit has none".into());
    }
    if let Some(a) = epilogue(op) {
        if !t.has_activation(a) {
            return Some(format!("a fused {a:?} epilogue: the vector unit lacks it"));
        }
        if t.pow2_only() && a != Activation::Prelu {
            return Some(format!(
                "a fused {a:?} epilogue multiplies: the target only shifts"
            ));
        }
    }
    if t.pow2_only() {
        for key in ["multiplier", "neg_multiplier"] {
            if let Some(m) = ints(op, key).iter().find(|&&m| !is_pow2(m)) {
                return Some(format!(
                    "its requantization multiplies by {m} ({key}): the target only shifts"
                ));
            }
        }
    }
    None
}

/// The activation fused into `op`'s requantization, if it needs more than a clamp.
fn epilogue(op: &Op) -> Option<Activation> {
    if op.attrs.contains_key("swish") {
        Some(Activation::Swish)
    } else if op.attrs.contains_key("hswish") {
        Some(Activation::HardSwish)
    } else if op.attrs.contains_key("neg_multiplier") {
        Some(Activation::Prelu)
    } else {
        None
    }
}

/// An integer or integer-array attribute as a list (empty when absent).
fn ints(op: &Op, key: &str) -> Vec<i64> {
    match op.attrs.get(key) {
        Some(Attr::Int(v, _)) => vec![*v],
        Some(_) => op.ints(key).unwrap_or_default(),
        None => Vec::new(),
    }
}

/// A positive power of two (a multiplier a shifter implements).
fn is_pow2(m: i64) -> bool {
    m > 0 && m & (m - 1) == 0
}

/// A layer's weight grid: its `weight_bits` attribute (absent: 8 bits).
pub fn weight_grid(op: &Op) -> Option<nibble_quantize::WeightWidth> {
    match op.attrs.get(tile::keys::WEIGHT_BITS) {
        Some(Attr::Str(s)) => s.parse().ok(),
        _ => None,
    }
}

/// Bytes constant `v` takes as stored: the weights of a layer on a grid below 8 bits packed at
/// the grid's storage bits (as the C stores them: 4, 2, 2 for ternary, 1 for binary), any other
/// constant at its element width.
pub fn stored_bytes(f: &Func, v: usize) -> u64 {
    (f.ty(v).num_elements() as u64 * stored_bits(f, v)).div_ceil(8)
}

/// Bits per element of constant `v` as stored (see [`stored_bytes`]).
pub fn stored_bits(f: &Func, v: usize) -> u64 {
    let grid = f
        .ops
        .iter()
        .filter(|o| tile::reads_as_weights(o, v))
        .find_map(weight_grid);
    match grid {
        Some(w) => u64::from(w.storage_bits()),
        None => 8 * super::cost::elem_bytes(f, v),
    }
}

/// The width of a layer's weights: its `weight_bits` attribute (sub-8-bit layers), else the
/// storage width of its weight operand.
pub fn weight_bits(f: &Func, op: &Op) -> u32 {
    if let Some(Attr::Str(s)) = op.attrs.get(tile::keys::WEIGHT_BITS) {
        if let Ok(w) = s.parse::<nibble_quantize::WeightWidth>() {
            return w.storage_bits();
        }
    }
    match op.operands.get(1).and_then(|&w| f.ty(w).elem().cloned()) {
        Some(Elem::Int(b)) => b,
        _ => 8,
    }
}

/// The width of a layer's input activation (8 or 16).
pub fn act_bits(f: &Func, op: &Op) -> u32 {
    match op.operands.first().and_then(|&x| f.ty(x).elem().cloned()) {
        Some(Elem::Int(16)) => 16,
        _ => 8,
    }
}
