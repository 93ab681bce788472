//! The integer interpreter: the bit-exact definition of the tile level (and, through lowering,
//! of the qnt level). Every tensor is held as `i32` values whatever its storage width. The
//! generated C (runtime/c/nibble_runtime.c) implements the same arithmetic and must agree with
//! this module bit for bit; docs/numerics.md states the contract.
//!
//! [`IntProgram::run_observed`] handles the host boundary (quantize, dequantize) and dispatches
//! every other op to its family: layers with weights ([`conv`]), pooling and resizing
//! ([`spatial`]), elementwise ops ([`elementwise`]), normalisations ([`norm`]),
//! squeeze-excite ([`squeeze_excite`]) and data movement ([`layout`]). The fixed-point
//! primitives are in [`arith`], the fused requantization in [`requant`].

mod arith;
mod conv;
mod dma;
mod elementwise;
mod layout;
mod norm;
mod requant;
mod spatial;
mod squeeze_excite;

pub use arith::{apply_scale, dequantize, floor_shift, isqrt, quantize, reciprocal};

use crate::{invalid, loc_suffix, InterpError};
use nibble_ir::{model, Elem, Func, Op};
use nibble_tile as tile;

fn unsupported(op: &Op) -> InterpError {
    InterpError::unsupported("integer", op, &tile::OPS.join(", "))
}

/// `op`'s operands, which must be `N`.
fn operands<'a, const N: usize>(op: &Op, x: &[&'a [i32]]) -> Result<[&'a [i32]; N], InterpError> {
    x.try_into()
        .map_err(|_| invalid(op, format!("needs {N} operands, has {}", x.len())))
}

/// Values of a run: integer tensors, or floats at the host boundary.
#[derive(Clone, Debug)]
enum Val {
    I(Vec<i32>),
    F(Vec<f32>),
}

/// A tile-level function prepared for repeated execution.
pub struct IntProgram<'f> {
    func: &'f Func,
    consts: Vec<Option<Vec<i32>>>,
    /// The index of the last op reading each value (a dma_store that is the last reader of its
    /// destination updates it in place).
    last_use: Vec<usize>,
}

impl<'f> IntProgram<'f> {
    pub fn new(func: &'f Func) -> Result<Self, InterpError> {
        tile::types::check_types(func)?;
        let mut consts = vec![None; func.values.len()];
        for op in &func.ops {
            match op.name.as_str() {
                tile::CONST => {
                    let nibble_qnt::Const { ty, bytes } = tile::const_data(op)?;
                    let data = match ty.elem() {
                        Some(Elem::Int(8)) => bytes.iter().map(|&b| b as i8 as i32).collect(),
                        Some(Elem::Int(32)) => model::dense_i32(bytes),
                        _ => return Err(invalid(op, "only i8 and i32 constants are supported")),
                    };
                    consts[op.results[0]] = Some(data);
                }
                name if tile::OPS.contains(&name) => {}
                _ => return Err(unsupported(op)),
            }
        }
        // The accumulators the C holds in fixed-width integers must be proven to fit: the
        // interpreter computes in i64 and would not wrap where the C does.
        if let Some(o) = crate::accumulators::check(func)?.first() {
            let hint = if o.widen {
                " (run nibble-check-accumulators: it widens this sum to int64)"
            } else {
                ""
            };
            return Err(InterpError::Invalid(format!("{o}{hint}")));
        }
        let mut last_use = vec![usize::MAX; func.values.len()];
        for (i, op) in func.ops.iter().enumerate() {
            for &v in &op.operands {
                last_use[v] = i;
            }
        }
        for &r in &func.returns {
            last_use[r] = usize::MAX;
        }
        Ok(IntProgram {
            func,
            consts,
            last_use,
        })
    }

    pub fn input_len(&self) -> usize {
        self.func.ty(self.func.args[0]).num_elements()
    }

    /// Runs one float sample through the host boundary and the integer ops.
    pub fn run(&self, input: &[f32]) -> Result<Vec<Vec<f32>>, InterpError> {
        self.run_observed(input, |_, _| {})
    }

    /// [`Self::run`], calling `observe(value, integers)` for every integer result.
    pub fn run_observed(
        &self,
        input: &[f32],
        mut observe: impl FnMut(usize, &[i32]),
    ) -> Result<Vec<Vec<f32>>, InterpError> {
        let f = self.func;
        if input.len() != self.input_len() {
            return Err(InterpError::input_size(f, input.len()));
        }
        let mut vals: Vec<Option<Val>> = vec![None; f.values.len()];
        vals[f.args[0]] = Some(Val::F(input.to_vec()));
        for (i, op) in f.ops.iter().enumerate() {
            let r = op.results[0];
            let out = match op.name.as_str() {
                tile::CONST => continue,
                tile::ALLOC => Val::I(dma::alloc(f, op)),
                tile::DMA_STORE => Val::I(self.store(&mut vals, op, i)?),
                tile::QUANTIZE => Val::I(quantize_input(f, op, &vals)?),
                tile::DEQUANTIZE => {
                    let tile::Boundary {
                        scale,
                        zero_point: zp,
                    } = tile::Boundary::from_op(op)?;
                    let q = self.int(&vals, op, 0)?;
                    Val::F(q.iter().map(|&q| dequantize(q as i64, scale, zp)).collect())
                }
                _ => {
                    let x = (0..op.operands.len())
                        .map(|k| self.int(&vals, op, k))
                        .collect::<Result<Vec<_>, _>>()?;
                    Val::I(self.eval(op, &x)?)
                }
            };
            if let Val::I(v) = &out {
                observe(r, v);
            }
            vals[r] = Some(out);
        }
        f.returns
            .iter()
            .map(|&r| match vals[r].take() {
                Some(Val::F(v)) => Ok(v),
                _ => Err(InterpError::Invalid(
                    "tile functions must return dequantized (f32) values".into(),
                )),
            })
            .collect()
    }

    /// The integers of `op`'s operand `k`: a result computed so far or a constant.
    fn int<'v>(
        &'v self,
        vals: &'v [Option<Val>],
        op: &Op,
        k: usize,
    ) -> Result<&'v [i32], InterpError> {
        let v = op.operands[k];
        match vals[v].as_ref() {
            Some(Val::I(x)) => Ok(x.as_slice()),
            Some(Val::F(_)) => Err(InterpError::Invalid(format!(
                "'{}'{} expects an integer operand",
                op.name,
                loc_suffix(op)
            ))),
            None => self.consts[v].as_deref().ok_or_else(|| {
                InterpError::Invalid(format!("'{}' reads an undefined value", op.name))
            }),
        }
    }

    /// tile.dma_store: the destination updated in place when this op is its last reader,
    /// else a copy of it.
    fn store(&self, vals: &mut [Option<Val>], op: &Op, i: usize) -> Result<Vec<i32>, InterpError> {
        let dest = *op
            .operands
            .get(1)
            .ok_or_else(|| invalid(op, "needs a tile and a destination"))?;
        let owned = match vals[dest].take() {
            Some(Val::I(d)) if self.last_use[dest] == i => d,
            other => {
                vals[dest] = other;
                self.int(vals, op, 1)?.to_vec()
            }
        };
        let tile = self.int(vals, op, 0)?;
        dma::store(self.func, op, tile, owned)
    }

    /// The result of an integer op of operands `x`, by its family.
    fn eval(&self, op: &Op, x: &[&[i32]]) -> Result<Vec<i32>, InterpError> {
        let f = self.func;
        match op.name.as_str() {
            tile::CONV2D
            | tile::DEPTHWISE_CONV2D
            | tile::FULLY_CONNECTED
            | tile::MATMUL
            | tile::TRANSPOSE_CONV2D => conv::eval(f, op, x),
            tile::MAX_POOL2D | tile::AVG_POOL2D | tile::RESIZE => spatial::eval(f, op, x),
            tile::REQUANT | tile::CLAMP | tile::LUT | tile::ADD | tile::MUL => {
                elementwise::eval(f, op, x)
            }
            tile::SOFTMAX | tile::LAYER_NORM => norm::eval(f, op, x),
            tile::SQUEEZE_EXCITE => squeeze_excite::eval(f, op, x),
            tile::TRANSPOSE | tile::RESHAPE | tile::SLICE | tile::CONCAT => layout::eval(f, op, x),
            tile::DMA_LOAD => dma::load(f, op, operands::<1>(op, x)?[0]),
            _ => Err(unsupported(op)),
        }
    }
}

/// The host-boundary quantization of the float input into result `op`'s storage range.
fn quantize_input(f: &Func, op: &Op, vals: &[Option<Val>]) -> Result<Vec<i32>, InterpError> {
    let Some(Val::F(x)) = vals[op.operands[0]].as_ref() else {
        return Err(invalid(op, "expects a float operand"));
    };
    let tile::Boundary {
        scale,
        zero_point: zp,
    } = tile::Boundary::from_op(op)?;
    let (lo, hi) = storage_range(f, op.results[0]);
    Ok(x.iter()
        .map(|&v| quantize(v, scale, zp, lo, hi) as i32)
        .collect())
}

/// The range of an integer type's storage (i8 when it is not an integer).
fn storage_range(f: &Func, v: usize) -> (i64, i64) {
    match f.ty(v).elem() {
        Some(Elem::Int(b)) => (-(1i64 << (b - 1)), (1i64 << (b - 1)) - 1),
        _ => (-128, 127),
    }
}
