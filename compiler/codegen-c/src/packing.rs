//! Weights narrower than 8 bits, packed in `model.c`: the tile level holds a layer's weights
//! (and a squeeze-excite's two matrices) as i8 values and names their grid in the op's
//! `weight_bits`; the weights of a 4-bit layer are
//! stored two values a byte, of a 2-bit or ternary layer four a byte, and of a binary layer
//! (values ±1) eight a byte. Values go
//! lowest bits first; 4- and 2-bit fields are two's complement, a binary bit is +1 when set
//! and −1 when clear. Before each kernel that reads them, the runtime's `nb_unpack_*` writes
//! the values as int8 into one scratch buffer (`nb_wscratch`, as large as the packed operands
//! of any one op together, each at its own offset), so the kernels and the arithmetic are
//! those of 8-bit weights, bit for bit.

use crate::{err, CodegenError};
use nibble_ir::{Attr, Elem, Func, Op, ValueId};
use nibble_tile as tile;

/// How a constant is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Packing {
    /// Signed 4-bit fields, two a byte.
    S4,
    /// Signed 2-bit fields, four a byte.
    S2,
    /// One bit a value (±1), eight a byte.
    B1,
}

impl Packing {
    /// The packing of constant `r` (the result of `op`), if it is packed: from the
    /// `weight_bits` (the grid) of the ops that read it as weights (`tile::weight_operands`:
    /// operand 1 of a layer, w1 and w2 of a squeeze-excite) — "4" packs two a byte, "2" and
    /// "ternary" four, "binary" eight. Readers that disagree are an error.
    pub(crate) fn of(f: &Func, op: &Op, r: ValueId) -> Result<Option<Packing>, CodegenError> {
        let mut grids = f
            .ops
            .iter()
            .filter(|o| tile::reads_as_weights(o, r))
            .map(|o| match o.attrs.get(tile::keys::WEIGHT_BITS) {
                Some(Attr::Str(s)) => s.as_str(),
                _ => "8",
            });
        let Some(grid) = grids.next() else {
            return Ok(None);
        };
        if grids.any(|g| g != grid) {
            return Err(err(
                op,
                "layers on different weight grids read this constant",
            ));
        }
        let packing = match grid {
            "4" => Packing::S4,
            "2" | "ternary" => Packing::S2,
            "binary" => Packing::B1,
            _ => return Ok(None),
        };
        match f.ty(r).elem() {
            Some(Elem::Int(8)) => Ok(Some(packing)),
            _ => Err(err(
                op,
                format!("weights on the {grid} grid must be i8 values"),
            )),
        }
    }

    /// Bits a value takes in `model.c`.
    pub(crate) fn bits(self) -> usize {
        match self {
            Packing::S4 => 4,
            Packing::S2 => 2,
            Packing::B1 => 1,
        }
    }

    /// The runtime function that unpacks this packing into int8.
    pub(crate) fn unpack_fn(self) -> &'static str {
        match self {
            Packing::S4 => "nb_unpack_s4",
            Packing::S2 => "nb_unpack_s2",
            Packing::B1 => "nb_unpack_b1",
        }
    }

    /// The packed bytes of `values`; an error names the first value the packing cannot hold.
    pub(crate) fn pack(self, op: &Op, values: &[i8]) -> Result<Vec<u8>, CodegenError> {
        let bits = self.bits();
        let per_byte = 8 / bits;
        let mut out = vec![0u8; values.len().div_ceil(per_byte)];
        for (i, &v) in values.iter().enumerate() {
            let field = match self {
                Packing::S4 if (-8..=7).contains(&v) => (v as u8) & 0xF,
                Packing::S2 if (-2..=1).contains(&v) => (v as u8) & 0x3,
                Packing::B1 if v == 1 || v == -1 => u8::from(v == 1),
                _ => {
                    return Err(err(
                        op,
                        format!("weight value {v} at {i} is outside its {bits}-bit packing"),
                    ))
                }
            };
            out[i / per_byte] |= field << ((i % per_byte) * bits);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unpacks as the runtime's `nb_unpack_*` do.
    fn unpack(p: Packing, bytes: &[u8], n: usize) -> Vec<i8> {
        let bits = p.bits();
        let per_byte = 8 / bits;
        (0..n)
            .map(|i| {
                let field = (bytes[i / per_byte] >> ((i % per_byte) * bits)) & ((1 << bits) - 1);
                match p {
                    Packing::B1 => 2 * field as i8 - 1,
                    _ => ((field << (8 - bits)) as i8) >> (8 - bits),
                }
            })
            .collect()
    }

    #[test]
    fn packs_and_unpacks_every_value() {
        let op = Op {
            name: "tile.const".into(),
            operands: vec![],
            results: vec![],
            attrs: Default::default(),
            loc: None,
        };
        let cases: [(Packing, Vec<i8>); 3] = [
            (Packing::S4, (-8..=7).chain([3, -1, 0]).collect()),
            (Packing::S2, vec![-2, -1, 0, 1, 1, 0, -2]),
            (Packing::B1, vec![1, -1, -1, 1, 1, 1, -1, 1, -1]),
        ];
        for (p, values) in cases {
            let bytes = p.pack(&op, &values).unwrap();
            assert_eq!(bytes.len(), (values.len() * p.bits()).div_ceil(8));
            assert_eq!(unpack(p, &bytes, values.len()), values, "{p:?}");
        }
        assert!(Packing::S4.pack(&op, &[8]).is_err());
        assert!(Packing::S2.pack(&op, &[2]).is_err());
        assert!(Packing::B1.pack(&op, &[0]).is_err());
    }
}
