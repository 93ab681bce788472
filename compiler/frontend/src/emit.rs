//! Writing graph-level IR: the upstream `tosa` ops the lowerings are made of, each located at
//! the ONNX node being imported, and the layout changes between ONNX's NCHW and the graph
//! level's NHWC.

use crate::importer::{Importer, Val};
use crate::tensor::Const;
use crate::ImportError;
use nibble_graph::tosa;
use nibble_ir::{Attr, Elem, Type, ValueId};

/// A float32 tensor type.
pub(crate) fn f32t(shape: &[i64]) -> Type {
    Type::tensor(shape, Elem::F32)
}

impl Importer<'_> {
    /// Appends an op located at the current node (`loc("node name")`, or the op type for an
    /// unnamed node).
    pub fn push(
        &mut self,
        name: &str,
        operands: &[ValueId],
        ty: Type,
        attrs: Vec<(&str, Attr)>,
    ) -> ValueId {
        let v = self.f.push(name, operands, ty, attrs);
        if let Some(op) = self.f.ops.last_mut() {
            op.loc = Some(format!(
                "loc({})",
                nibble_ir::text::mlir_string(if self.node.name().is_empty() {
                    self.node.op_type()
                } else {
                    self.node.name()
                })
            ));
        }
        v
    }
    /// A float constant (`tosa.const`).
    pub fn constant(&mut self, shape: &[i64], data: &[f32]) -> ValueId {
        self.push(
            tosa::CONST,
            &[],
            f32t(shape),
            vec![("values", Attr::dense_f32(f32t(shape), data))],
        )
    }
    /// The zero point operand of tosa convolutions, pools and matmuls (one for the function).
    pub fn zero_point(&mut self) -> ValueId {
        if let Some(z) = self.zero {
            return z;
        }
        let z = self.constant(&[1], &[0.0]);
        self.zero = Some(z);
        z
    }
    /// An elementwise binary tosa op with numpy-style broadcasting of equal-rank operands.
    pub fn binary(&mut self, name: &str, a: ValueId, b: ValueId) -> Result<ValueId, ImportError> {
        let (sa, sb) = (self.shape(a), self.shape(b));
        if sa.len() != sb.len() {
            return Err(self.err(format!(
                "operands of rank {} and {} do not broadcast",
                sa.len(),
                sb.len()
            )));
        }
        let mut out = Vec::with_capacity(sa.len());
        for (&x, &y) in sa.iter().zip(&sb) {
            if x != y && x != 1 && y != 1 {
                return Err(self.err(format!("shapes {sa:?} and {sb:?} do not broadcast")));
            }
            out.push(x.max(y));
        }
        let mut operands = vec![a, b];
        if name == tosa::MUL {
            let shift = self.push(
                tosa::CONST,
                &[],
                Type::tensor(&[1], Elem::Int(8)),
                vec![(
                    "values",
                    Attr::dense_i8(Type::tensor(&[1], Elem::Int(8)), &[0]),
                )],
            );
            operands.push(shift);
        }
        Ok(self.push(name, &operands, f32t(&out), vec![]))
    }
    /// An elementwise unary tosa op.
    pub fn unary(&mut self, name: &str, x: ValueId) -> ValueId {
        let ty = self.f.ty(x).clone();
        self.push(name, &[x], ty, vec![])
    }
    /// A tosa reduction along one axis (kept as size 1).
    pub fn reduce(&mut self, name: &str, x: ValueId, axis: usize) -> ValueId {
        let mut s = self.shape(x);
        s[axis] = 1;
        self.push(name, &[x], f32t(&s), vec![("axis", Attr::i32(axis as i64))])
    }
    pub fn clamp(&mut self, x: ValueId, lo: f32, hi: f32) -> ValueId {
        let ty = self.f.ty(x).clone();
        self.push(
            tosa::CLAMP,
            &[x],
            ty,
            vec![
                ("min_val", Attr::Float(lo as f64, "f32".into())),
                ("max_val", Attr::Float(hi as f64, "f32".into())),
            ],
        )
    }
    /// A `!tosa.shape` constant (reshape targets, slice bounds, pads, resize parameters).
    pub fn const_shape(&mut self, shape: &[i64]) -> ValueId {
        let n = shape.len() as i64;
        let ty = Type::tensor(&[n], Elem::Index);
        self.push(
            tosa::CONST_SHAPE,
            &[],
            Type::Other(format!("!tosa.shape<{n}>")),
            vec![("values", Attr::dense_i64(ty, shape))],
        )
    }
    pub fn reshape(&mut self, x: ValueId, shape: &[i64]) -> ValueId {
        let s = self.const_shape(shape);
        self.push(tosa::RESHAPE, &[x, s], f32t(shape), vec![])
    }
    /// `tosa.slice` of `size` elements from `start`.
    pub fn slice(&mut self, x: ValueId, start: &[i64], size: &[i64]) -> ValueId {
        let st = self.const_shape(start);
        let sz = self.const_shape(size);
        self.push(tosa::SLICE, &[x, st, sz], f32t(size), vec![])
    }
    pub fn transpose(&mut self, x: ValueId, perms: &[i32]) -> ValueId {
        let s = self.shape(x);
        let out: Vec<i64> = perms.iter().map(|&p| s[p as usize]).collect();
        self.push(
            tosa::TRANSPOSE,
            &[x],
            f32t(&out),
            vec![("perms", Attr::I32s(perms.to_vec()))],
        )
    }
    /// The value in ONNX (NCHW) layout.
    pub fn plain(&mut self, v: Val) -> ValueId {
        if v.nhwc {
            self.transpose(v.id, &[0, 3, 1, 2])
        } else {
            v.id
        }
    }
    /// A 4-D value in NHWC layout.
    pub fn nhwc(&mut self, v: Val) -> Result<ValueId, ImportError> {
        if v.nhwc {
            return Ok(v.id);
        }
        if self.shape(v.id).len() != 4 {
            return Err(self.err(format!(
                "expected a 4-D input, got shape {:?}",
                self.shape(v.id)
            )));
        }
        Ok(self.transpose(v.id, &[0, 2, 3, 1]))
    }

    /// A constant in the layout of `like`: broadcast to its rank (ONNX rules), then NHWC if it is.
    pub fn const_like(&mut self, c: &Const, like: Val) -> Result<ValueId, ImportError> {
        let rank = self.onnx_shape(like).len();
        if c.dims.len() > rank {
            return Err(self.err(format!(
                "constant of shape {:?} has a higher rank than the activation",
                c.dims
            )));
        }
        let dims: Vec<i64> = std::iter::repeat_n(1, rank - c.dims.len())
            .chain(c.dims.iter().copied())
            .collect();
        if like.nhwc {
            let (dims, data) = nchw_to_nhwc(&dims, &c.data);
            return Ok(self.constant(&dims, &data));
        }
        Ok(self.constant(&dims, &c.data))
    }

    /// `x op c` (or `c op x` when `const_first`) for an activation and a constant.
    pub fn apply_const(
        &mut self,
        name: &str,
        x: Val,
        c: &Const,
        const_first: bool,
    ) -> Result<Val, ImportError> {
        let cv = self.const_like(c, x)?;
        let r = if const_first {
            self.binary(name, cv, x.id)?
        } else {
            self.binary(name, x.id, cv)?
        };
        Ok(Val {
            id: r,
            nhwc: x.nhwc,
        })
    }
}

/// A 4-D NCHW tensor's dimensions and data in NHWC.
fn nchw_to_nhwc(dims: &[i64], data: &[f32]) -> (Vec<i64>, Vec<f32>) {
    let (n, ch, h, w) = (
        dims[0] as usize,
        dims[1] as usize,
        dims[2] as usize,
        dims[3] as usize,
    );
    let mut t = vec![0.0; data.len()];
    for a in 0..n {
        for b in 0..ch {
            for y in 0..h {
                for x in 0..w {
                    t[((a * h + y) * w + x) * ch + b] = data[((a * ch + b) * h + y) * w + x];
                }
            }
        }
    }
    (vec![dims[0], dims[2], dims[3], dims[1]], t)
}
