//! The `tile` dialect (tile level): its IRDL definition, op names, attribute keys, the fused
//! requantization record [`Requant`], and for every op with attributes a typed record that is
//! both its builder's input and its reader's output (`tile::Conv2d::from_op(&op)`), so no
//! consumer spells an attribute key. Semantics: `docs/dialects/tile.md`.
//!
//! Modules: [`keys`] (attribute keys), [`requant`] (the requantization record and its fused
//! epilogues), and the ops by family: [`layers`] (host boundary, constants, convolutions,
//! fully connected, matmul), [`elementwise`] (requant, clamp, lut, add, mul), [`spatial`]
//! (pools, resize), [`norm`] (softmax, layer norm, squeeze-excite), [`layout`] (transpose,
//! reshape, slice, concat); [`types`] checks the element types the semantics fix. Records,
//! codecs and [`DialectError`] are the qnt crate's ([`nibble_qnt::attr`]).

pub mod elementwise;
pub mod keys;
pub mod layers;
pub mod layout;
pub mod norm;
pub mod requant;
pub mod spatial;
pub mod types;

pub use elementwise::*;
pub use layers::*;
pub use layout::*;
pub use nibble_qnt::attr::{DialectError, Record};
pub use norm::*;
pub use requant::*;
pub use spatial::*;

use nibble_ir::{Attr, Func, Op, Type, ValueId};

/// The IRDL source, loaded into every nibble context.
pub const IRDL: &str = include_str!("tile.irdl.mlir");

#[path = "dma.rs"]
mod dma;
pub use dma::*;

pub const QUANTIZE: &str = "tile.quantize";
pub const DEQUANTIZE: &str = "tile.dequantize";
pub const CONST: &str = "tile.const";
pub const CONV2D: &str = "tile.conv2d";
pub const DEPTHWISE_CONV2D: &str = "tile.depthwise_conv2d";
pub const FULLY_CONNECTED: &str = "tile.fully_connected";
pub const REQUANT: &str = "tile.requant";
pub const CLAMP: &str = "tile.clamp";
pub const MAX_POOL2D: &str = "tile.max_pool2d";
pub const LUT: &str = "tile.lut";
pub const TRANSPOSE: &str = "tile.transpose";
pub const RESHAPE: &str = "tile.reshape";
pub const AVG_POOL2D: &str = "tile.avg_pool2d";
pub const ADD: &str = "tile.add";
pub const MUL: &str = "tile.mul";
pub const SOFTMAX: &str = "tile.softmax";
pub const SLICE: &str = "tile.slice";
pub const CONCAT: &str = "tile.concat";
pub const MATMUL: &str = "tile.matmul";
pub const LAYER_NORM: &str = "tile.layer_norm";
pub const RESIZE: &str = "tile.resize";
pub const TRANSPOSE_CONV2D: &str = "tile.transpose_conv2d";
pub const SQUEEZE_EXCITE: &str = "tile.squeeze_excite";

/// Every op of the dialect, in the order of its IRDL definition.
pub const OPS: &[&str] = &[
    QUANTIZE,
    DEQUANTIZE,
    CONST,
    CONV2D,
    DEPTHWISE_CONV2D,
    FULLY_CONNECTED,
    REQUANT,
    CLAMP,
    MAX_POOL2D,
    LUT,
    TRANSPOSE,
    RESHAPE,
    AVG_POOL2D,
    ADD,
    MUL,
    SOFTMAX,
    SLICE,
    CONCAT,
    MATMUL,
    LAYER_NORM,
    RESIZE,
    TRANSPOSE_CONV2D,
    SQUEEZE_EXCITE,
    ALLOC,
    DMA_LOAD,
    DMA_STORE,
];

/// The function attribute holding the bytes of the activation arena its memory plan needs.
pub const ARENA_ATTR: &str = "nibble.arena_bytes";

/// The activation arena a tile-level function's memory plan needs, if it has one.
pub fn arena_bytes(f: &Func) -> Option<usize> {
    match f.attrs.get(ARENA_ATTR) {
        Some(Attr::Int(n, _)) => Some(*n as usize),
        _ => None,
    }
}

/// Whether `op` has a place in the memory plan (an `offset` attribute).
pub fn has_offset(op: &Op) -> bool {
    op.attrs.contains_key(keys::OFFSET)
}

/// `op`'s offset into the arena: 0 when it has none (constants, the host boundary).
pub fn offset(op: &Op) -> i64 {
    match op.attrs.get(keys::OFFSET) {
        Some(Attr::Int(v, _)) => *v,
        _ => 0,
    }
}

/// Places `op`'s result at `offset` in the arena.
pub fn set_offset(op: &mut Op, offset: i64) {
    op.attrs.insert(keys::OFFSET.into(), Attr::i64(offset));
}

/// Sets the `tile` schedule of a tiled op (conv2d and depthwise_conv2d: [rows, channels];
/// fully_connected: [channels]).
pub fn set_tile(op: &mut Op, tile: &[i64]) {
    op.attrs
        .insert(keys::TILE.into(), Attr::I64s(tile.to_vec()));
}

/// Appends op `name` with the attributes of its record and its arena offset (0 until the
/// memory plan places it).
fn scheduled(
    f: &mut Func,
    name: &str,
    operands: &[ValueId],
    ty: Type,
    mut attrs: nibble_qnt::attr::Attrs,
) -> ValueId {
    attrs.push((keys::OFFSET, Attr::i64(0)));
    f.push(name, operands, ty, attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The op-name constants and `irdl.operation`s of tile.irdl.mlir agree both ways.
    #[test]
    fn op_names_match_irdl() {
        let all: Vec<&str> = (keys::ALL.iter().chain(keys::TILE_ONLY))
            .copied()
            .chain([dma::SRAM_OFFSET])
            .collect();
        let diff = nibble_qnt::irdl_mismatches(IRDL, OPS, include_str!("tile.rs"), &all);
        assert!(diff.is_empty(), "{}", diff.join("\n"));
        assert_eq!(OPS.len(), 26);
    }

    use nibble_ir::Elem;

    fn tensor(shape: &[i64], bits: u32) -> Type {
        Type::tensor(shape, Elem::Int(bits))
    }

    /// A function with the operands of a layer: x, w, b.
    fn layer_inputs() -> (Func, [ValueId; 3]) {
        let mut f = Func::new("f");
        let x = f.add_arg(tensor(&[1, 2, 2, 2], 8));
        let w = f.add_arg(tensor(&[2, 1, 1, 2], 8));
        let b = f.add_arg(tensor(&[2], 32));
        (f, [x, w, b])
    }

    fn requant() -> Requant {
        Requant {
            input_zp: -3,
            output_zp: 5,
            multiplier: vec![1 << 30, 1 << 29],
            shift: vec![31, 32],
            clamp_min: -128,
            clamp_max: 127,
            neg: None,
            hswish: None,
            swish: None,
        }
    }

    /// What a builder writes, the reader reads back, with each fused epilogue.
    #[test]
    fn records_round_trip() {
        let (mut f, xwb) = layer_inputs();
        let mut rqs = vec![requant(); 3];
        rqs[0].neg = Some(NegativeSide {
            multiplier: vec![-7, 9],
            shift: vec![33, 34],
        });
        rqs[1].hswish = Some(HardSwish {
            three: 3072,
            six: 6144,
            out: vec![[1 << 20, 40, -5], [1 << 19, 41, 6]],
        });
        rqs[2].swish = Some(Swish {
            out: [1 << 20, 40, 0],
            table: (0..257).collect(),
        });
        for rq in rqs {
            let p = Conv2d {
                window: nibble_qnt::ConvWindow {
                    pad: [0, 1, 0, 1],
                    stride: [2, 2],
                    dilation: [1, 1],
                },
                rq,
                tile: [1, 2],
                weight_bits: None,
            };
            let ty = tensor(&[1, 1, 1, 2], 8);
            conv2d(&mut f, DEPTHWISE_CONV2D, xwb, ty, &p);
            let op = f.ops.last().expect("the op just built");
            assert_eq!(Conv2d::from_op(op).expect("readable"), p);
            assert_eq!(Requant::from_op(op).expect("readable"), p.rq);
            assert_eq!(offset(op), 0);
        }
    }

    /// A reader refuses another op, and a malformed fused field.
    #[test]
    fn readers_refuse_what_is_not_theirs() {
        let (mut f, xwb) = layer_inputs();
        let p = FullyConnected {
            rq: requant(),
            tile: [2],
            weight_bits: None,
        };
        fully_connected(&mut f, xwb, tensor(&[1, 2], 8), &p);
        let mut op = f.ops[0].clone();
        let err = Conv2d::from_op(&op).expect_err("not a conv").to_string();
        assert!(
            err.contains("expected tile.conv2d or tile.depthwise_conv2d"),
            "{err}"
        );
        op.attrs
            .insert(keys::HSWISH.into(), Attr::I64s(vec![3072, 6144, 1]));
        let err = Requant::from_op(&op).expect_err("short hswish").to_string();
        assert!(err.contains("hswish needs"), "{err}");
        op.attrs.remove(keys::HSWISH);
        op.attrs.insert(keys::SHIFT.into(), Attr::Str("31".into()));
        let err = FullyConnected::from_op(&op)
            .expect_err("a string shift")
            .to_string();
        assert_eq!(
            err,
            "'tile.fully_connected': attribute 'shift' must be an array of 32-bit integers"
        );
    }

    /// The element-type check names the operand and what it allows.
    #[test]
    fn element_types_are_checked() {
        let (mut f, [x, w, b]) = layer_inputs();
        let p = FullyConnected {
            rq: requant(),
            tile: [2],
            weight_bits: None,
        };
        fully_connected(&mut f, [x, w, b], tensor(&[1, 2], 32), &p);
        let err = types::check_types(&f)
            .expect_err("an i32 result")
            .to_string();
        assert_eq!(
            err,
            "'tile.fully_connected': the result must be i8 or i16, got tensor<1x2xi32>"
        );
    }

    /// Every op has one element-type signature.
    #[test]
    fn every_op_has_a_signature() {
        for op in OPS {
            let n = types::SIGNATURES.iter().filter(|s| s.op == *op).count();
            assert_eq!(n, 1, "{op} has {n} signatures");
        }
    }
}
