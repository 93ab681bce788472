//! The `qnt` dialect (quant level): its IRDL definition, op names, attribute keys, and for every
//! op with attributes a typed record that is both its builder's input and its reader's output
//! (`qnt::Requant::from_op(&op)`), so no consumer spells an attribute key.
//! Semantics: `docs/dialects/qnt.md`.
//!
//! Modules: [`attr`] (codecs between fields and attributes, the [`record!`] macro,
//! [`DialectError`]), [`keys`] (attribute keys), and the ops by family: [`layers`]
//! (convolutions, fully connected, matmul, constants), [`requant`] (requantizations and fused
//! activation epilogues), [`elementwise`] (clamp, lut, add, mul), [`spatial`] (pools, resize),
//! [`norm`] (softmax, layer norm, squeeze-excite), [`layout`] (transpose, reshape, slice,
//! concat); [`types`] checks the element types the semantics fix.

pub mod attr;
pub mod elementwise;
pub mod keys;
pub mod layers;
pub mod layout;
pub mod norm;
pub mod requant;
pub mod spatial;
pub mod types;

pub use attr::{DialectError, Record};
pub use elementwise::*;
pub use layers::*;
pub use layout::*;
pub use norm::*;
pub use requant::*;
pub use spatial::*;

/// The IRDL source, loaded into every nibble context.
pub const IRDL: &str = include_str!("qnt.irdl.mlir");

pub const QUANTIZE: &str = "qnt.quantize";
pub const DEQUANTIZE: &str = "qnt.dequantize";
pub const CONST: &str = "qnt.const";
pub const CONV2D: &str = "qnt.conv2d";
pub const DEPTHWISE_CONV2D: &str = "qnt.depthwise_conv2d";
pub const FULLY_CONNECTED: &str = "qnt.fully_connected";
pub const REQUANT: &str = "qnt.requant";
pub const CLAMP: &str = "qnt.clamp";
pub const MAX_POOL2D: &str = "qnt.max_pool2d";
pub const RESHAPE: &str = "qnt.reshape";
pub const TRANSPOSE: &str = "qnt.transpose";
pub const LUT: &str = "qnt.lut";
pub const AVG_POOL2D: &str = "qnt.avg_pool2d";
pub const ADD: &str = "qnt.add";
pub const MUL: &str = "qnt.mul";
pub const PRELU: &str = "qnt.prelu";
pub const SOFTMAX: &str = "qnt.softmax";
pub const SLICE: &str = "qnt.slice";
pub const CONCAT: &str = "qnt.concat";
pub const MATMUL: &str = "qnt.matmul";
pub const LAYER_NORM: &str = "qnt.layer_norm";
pub const HARD_SWISH: &str = "qnt.hard_swish";
pub const SWISH: &str = "qnt.swish";
pub const RESIZE: &str = "qnt.resize";
pub const TRANSPOSE_CONV2D: &str = "qnt.transpose_conv2d";
pub const SQUEEZE_EXCITE: &str = "qnt.squeeze_excite";

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
    RESHAPE,
    LUT,
    TRANSPOSE,
    AVG_POOL2D,
    ADD,
    MUL,
    PRELU,
    SOFTMAX,
    SLICE,
    CONCAT,
    MATMUL,
    LAYER_NORM,
    HARD_SWISH,
    SWISH,
    RESIZE,
    TRANSPOSE_CONV2D,
    SQUEEZE_EXCITE,
];

/// The only rounding mode of this slice: tosa.rescale's SINGLE_ROUND (round half up).
pub const SINGLE_ROUND: &str = "SINGLE_ROUND";

use nibble_ir::{Func, Type, ValueId};

pub fn quantize(f: &mut Func, x: ValueId, ty: Type) -> ValueId {
    f.push(QUANTIZE, &[x], ty, vec![])
}
pub fn dequantize(f: &mut Func, x: ValueId, ty: Type) -> ValueId {
    f.push(DEQUANTIZE, &[x], ty, vec![])
}

/// The names of the `irdl.operation`s of an IRDL dialect definition, prefixed with the
/// dialect's name (`qnt.conv2d`), and the attribute keys each declares, in order.
pub fn irdl_ops(irdl: &str) -> Vec<(String, Vec<String>)> {
    let dialect = irdl
        .split("irdl.dialect @")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or("");
    let mut ops: Vec<(String, Vec<String>)> = Vec::new();
    for line in irdl.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("irdl.operation @") {
            let name = rest.split_whitespace().next().unwrap_or("");
            ops.push((format!("{dialect}.{name}"), Vec::new()));
        } else if let (Some(body), Some(op)) =
            (line.strip_prefix("irdl.attributes {"), ops.last_mut())
        {
            let keys = body
                .split(',')
                .filter_map(|kv| kv.trim().strip_prefix('"')?.split('"').next());
            op.1.extend(keys.map(String::from));
        }
    }
    ops
}

/// Checks an op list against an IRDL definition and the source declaring the op-name
/// constants, both ways: every `irdl.operation` is in `ops` and every entry of `ops` is one,
/// every `pub const …: &str = "dialect.…"` of `source` is in `ops`, and every attribute key
/// the definition declares is in `keys`. Returns what differs, one line each.
pub fn irdl_mismatches(irdl: &str, ops: &[&str], source: &str, keys: &[&str]) -> Vec<String> {
    let defined = irdl_ops(irdl);
    let mut out = Vec::new();
    for (op, attrs) in &defined {
        if !ops.contains(&op.as_str()) {
            out.push(format!(
                "{op} is defined in IRDL but has no op-name constant"
            ));
        }
        for k in attrs.iter().filter(|k| !keys.contains(&k.as_str())) {
            out.push(format!("{op}: attribute '{k}' has no key constant"));
        }
    }
    for op in ops {
        if !defined.iter().any(|(d, _)| d == op) {
            out.push(format!("{op} has a constant but no irdl.operation"));
        }
    }
    let prefix = ops.first().and_then(|o| o.split('.').next()).unwrap_or("");
    let constants = source
        .lines()
        .filter(|l| l.starts_with("pub const ") && l.contains(": &str = \""))
        .filter_map(|l| l.split('"').nth(1))
        .filter(|v| v.starts_with(&format!("{prefix}.")));
    for c in constants {
        if ops.iter().filter(|&&o| o == c).count() != 1 {
            out.push(format!("constant {c} is not listed once in OPS"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The op-name constants and `irdl.operation`s of qnt.irdl.mlir agree both ways.
    #[test]
    fn op_names_match_irdl() {
        let diff = irdl_mismatches(IRDL, OPS, include_str!("qnt.rs"), keys::ALL);
        assert!(diff.is_empty(), "{}", diff.join("\n"));
        assert_eq!(OPS.len(), 26);
    }

    /// A per-tensor requant stays scalar, a per-channel one an array, both ways.
    #[test]
    fn requant_round_trips() {
        use nibble_ir::{Elem, QuantType};
        let q = |bits| {
            let t = QuantType {
                bits,
                scale: 0.5,
                zero_point: 0,
            };
            Type::tensor(&[2], Elem::Quant(t))
        };
        let mut f = Func::new("f");
        let x = f.add_arg(q(32));
        requant(&mut f, x, q(8), 1 << 30, 33);
        requant_per_channel(&mut f, x, q(8), &[1 << 30, 1 << 29], &[33, 34]);
        let read: Vec<Scale> = f
            .ops
            .iter()
            .map(|op| Requant::from_op(op).expect("readable").scale)
            .collect();
        assert_eq!(
            read[0],
            Scale::Tensor {
                multiplier: 1 << 30,
                shift: 33
            }
        );
        assert_eq!(read[1].lists(), (vec![1 << 30, 1 << 29], vec![33, 34]));
        assert!(matches!(
            f.ops[0].attrs[keys::MULTIPLIER],
            nibble_ir::Attr::Int(..)
        ));
    }

    /// Every op has one element-type signature.
    #[test]
    fn every_op_has_a_signature() {
        for op in OPS {
            let n = types::SIGNATURES.iter().filter(|s| s.op == *op).count();
            assert_eq!(n, 1, "{op} has {n} signatures");
        }
    }

    /// The check finds an op missing on either side.
    #[test]
    fn mismatch_is_reported() {
        let irdl = "irdl.dialect @qnt {\n  irdl.operation @a {\n  }\n}";
        let diff = irdl_mismatches(irdl, &["qnt.b"], "", &[]);
        assert_eq!(diff.len(), 2, "{diff:?}");
    }
}
