//! The float interpreter: executes a graph-level function (upstream `tosa` ops on f32) one
//! sample at a time. Constants are decoded once in [`FloatProgram::new`]; convolutions run as
//! im2col + `matrixmultiply::sgemm`.
//!
//! [`FloatProgram::run_replacing`] dispatches each op to its family: convolutions and products
//! ([`conv`], on [`gemm`]), pooling ([`pool`]), elementwise and broadcasting arithmetic and
//! reductions ([`elementwise`]), activations ([`activation`]), data movement ([`layout`]), and
//! the `nibble` domain's `tosa.custom` layers ([`custom`], [`norm`], [`squeeze_excite`]). Op
//! names, layer parameters and activation formulas are `nibble_graph`'s: this interpreter
//! executes them, it does not define them.

mod activation;
mod conv;
mod custom;
mod elementwise;
mod gemm;
mod layout;
mod norm;
mod pool;
mod resume;
mod squeeze_excite;

pub use conv::patches;
pub use resume::Checkpoint;

use crate::tensor::transpose;
use crate::InterpError;
use nibble_graph::tosa;
use nibble_ir::{model, Func, Op};
use std::borrow::Cow;
use std::collections::HashMap;

/// The ops this interpreter executes.
const OPS: &[&str] = &[
    tosa::CONST,
    tosa::CONST_SHAPE,
    tosa::SLICE,
    tosa::TRANSPOSE,
    tosa::CONV2D,
    tosa::CLAMP,
    tosa::MAX_POOL2D,
    tosa::RESHAPE,
    tosa::MATMUL,
    tosa::ADD,
    tosa::SUB,
    tosa::MUL,
    tosa::EXP,
    tosa::RECIPROCAL,
    tosa::REDUCE_MAX,
    tosa::REDUCE_SUM,
    tosa::DEPTHWISE_CONV2D,
    tosa::AVG_POOL2D,
    tosa::SIGMOID,
    tosa::POW,
    tosa::CONCAT,
    tosa::TANH,
    tosa::ERF,
    tosa::PAD,
    tosa::TRANSPOSE_CONV2D,
    tosa::RESIZE,
    tosa::CUSTOM,
];

fn unsupported(op: &Op) -> InterpError {
    InterpError::unsupported("float", op, &OPS.join(", "))
}

/// A graph-level function prepared for repeated execution.
pub struct FloatProgram<'f> {
    func: &'f Func,
    consts: Vec<Option<Vec<f32>>>,
    /// Convolution weights transposed to [K, OC] once (a GEMM packs rows of B faster than
    /// columns), by the value of the OHWI constant.
    weights_t: HashMap<usize, Vec<f32>>,
}

impl<'f> FloatProgram<'f> {
    pub fn new(func: &'f Func) -> Result<Self, InterpError> {
        let mut consts = vec![None; func.values.len()];
        for op in &func.ops {
            match op.name.as_str() {
                tosa::CONST => {
                    let (ty, bytes) = op.dense("values")?;
                    if ty.elem() == Some(&nibble_ir::Elem::F32) {
                        consts[op.results[0]] = Some(model::dense_f32(bytes));
                    }
                }
                name if OPS.contains(&name) => {}
                _ => return Err(unsupported(op)),
            }
        }
        let mut weights_t = HashMap::new();
        for op in func.ops.iter().filter(|o| o.name == tosa::CONV2D) {
            let w = op.operands[1];
            if let (Some(data), Some(&[oc, ..])) = (&consts[w], func.ty(w).shape()) {
                let (n, k) = (oc as usize, data.len() / (oc as usize).max(1));
                weights_t
                    .entry(w)
                    .or_insert_with(|| transpose(data, &[n, k], &[1, 0]));
            }
        }
        Ok(FloatProgram {
            func,
            consts,
            weights_t,
        })
    }

    /// Elements of one input sample.
    pub fn input_len(&self) -> usize {
        self.func.ty(self.func.args[0]).num_elements()
    }

    /// Runs one sample; `observe(value, data)` sees every op result (for calibration).
    pub fn run(
        &self,
        input: &[f32],
        mut observe: impl FnMut(usize, &[f32]),
    ) -> Result<Vec<Vec<f32>>, InterpError> {
        self.run_replacing(input, |v, d| {
            observe(v, d);
            None
        })
    }

    /// Runs one sample; `replace(value, data)` sees every op result and may return what the
    /// ops after it read instead (e.g. its quantized counterpart, to measure each layer's own
    /// rounding).
    pub fn run_replacing(
        &self,
        input: &[f32],
        mut replace: impl FnMut(usize, &[f32]) -> Option<Vec<f32>>,
    ) -> Result<Vec<Vec<f32>>, InterpError> {
        let f = self.func;
        if input.len() != self.input_len() {
            return Err(InterpError::input_size(f, input.len()));
        }
        let mut env = Env::new(f, input);
        self.exec(&mut env, 0, &mut replace, |_, _| {})?;
        env.outputs()
    }

    /// Runs ops `from..` in `env`; `replace` as in [`FloatProgram::run_replacing`], `before(i,
    /// env)` called before each op `i`.
    fn exec<'a>(
        &'a self,
        env: &mut Env<'a>,
        from: usize,
        replace: &mut impl FnMut(usize, &[f32]) -> Option<Vec<f32>>,
        mut before: impl FnMut(usize, &Env<'a>),
    ) -> Result<(), InterpError> {
        for (i, op) in self.func.ops.iter().enumerate().skip(from) {
            before(i, env);
            let r = op.results[0];
            match op.name.as_str() {
                tosa::CONST => env.vals[r] = self.consts[r].as_deref().map(Into::into),
                tosa::CONST_SHAPE => {
                    let (_, bytes) = op.dense("values")?;
                    env.shapes.insert(r, model::dense_i64(bytes));
                }
                _ => {
                    let out = self.eval(op, env)?;
                    let out = replace(r, &out).unwrap_or(out);
                    env.define(op, out);
                }
            }
        }
        Ok(())
    }

    /// The result of `op` by its family.
    fn eval(&self, op: &Op, env: &mut Env) -> Result<Vec<f32>, InterpError> {
        let f = self.func;
        match op.name.as_str() {
            tosa::CONV2D => {
                let w = match self.weights_t.get(&op.operands[1]) {
                    Some(t) => conv::Weights::KByN(t),
                    None => conv::Weights::Ohwi(env.read(op, 1)?),
                };
                conv::conv2d(f, op, env.read(op, 0)?, w, env.read(op, 2)?)
            }
            tosa::DEPTHWISE_CONV2D | tosa::TRANSPOSE_CONV2D | tosa::MATMUL => {
                conv::eval(f, op, env)
            }
            tosa::MAX_POOL2D | tosa::AVG_POOL2D => pool::eval(f, op, env.read(op, 0)?),
            tosa::ADD
            | tosa::SUB
            | tosa::MUL
            | tosa::POW
            | tosa::EXP
            | tosa::RECIPROCAL
            | tosa::REDUCE_MAX
            | tosa::REDUCE_SUM
            | tosa::CLAMP => elementwise::eval(f, op, env),
            tosa::TANH | tosa::ERF | tosa::SIGMOID => activation::eval(op, env),
            tosa::CUSTOM => custom::eval(f, op, env),
            tosa::SLICE
            | tosa::TRANSPOSE
            | tosa::RESHAPE
            | tosa::PAD
            | tosa::RESIZE
            | tosa::CONCAT => layout::eval(self, op, env),
            _ => Err(unsupported(op)),
        }
    }
}

/// The values of one run: each op's result until its last reader has run, and the
/// `tosa.const_shape` operands.
pub(crate) struct Env<'a> {
    f: &'a Func,
    vals: Vec<Option<Cow<'a, [f32]>>>,
    /// Readers of each value still to run.
    remaining: Vec<usize>,
    shapes: HashMap<usize, Vec<i64>>,
}

impl<'a> Env<'a> {
    /// The function's results.
    fn outputs(&self) -> Result<Vec<Vec<f32>>, InterpError> {
        self.f
            .returns
            .iter()
            .map(|&r| {
                self.vals[r]
                    .as_deref()
                    .map(|v| v.to_vec())
                    .ok_or_else(|| InterpError::Invalid("a returned value is undefined".into()))
            })
            .collect()
    }

    fn new(f: &'a Func, input: &'a [f32]) -> Self {
        let mut vals = vec![None; f.values.len()];
        vals[f.args[0]] = Some(input.into());
        Env {
            f,
            vals,
            remaining: f.use_counts(),
            shapes: HashMap::new(),
        }
    }

    /// The data of `op`'s operand `k`.
    pub fn read(&self, op: &Op, k: usize) -> Result<&[f32], InterpError> {
        op.operands
            .get(k)
            .and_then(|&v| self.vals[v].as_deref())
            .ok_or_else(|| InterpError::Invalid(format!("'{}' reads an undefined value", op.name)))
    }

    /// The data of `op`'s operands.
    pub fn read_all(&self, op: &Op) -> Result<Vec<&[f32]>, InterpError> {
        (0..op.operands.len()).map(|k| self.read(op, k)).collect()
    }

    /// The data of `op`'s operand `k` to overwrite as its result: the buffer itself when `op`
    /// is its last reader (a return counts as one) and the run owns it (not the input sample
    /// or a constant), else a copy.
    pub fn owned(&mut self, op: &Op, k: usize) -> Result<Vec<f32>, InterpError> {
        let v = op.operands[k];
        match self.vals[v] {
            Some(Cow::Owned(_)) if self.remaining[v] == 1 => {
                Ok(self.vals[v].take().map(Cow::into_owned).unwrap_or_default())
            }
            _ => Ok(self.read(op, k)?.to_vec()),
        }
    }

    /// The `tosa.const_shape` values of `op`'s operand `k`, else the error `msg`.
    pub fn shape(&self, op: &Op, k: usize, msg: &str) -> Result<&[i64], InterpError> {
        op.operands
            .get(k)
            .and_then(|v| self.shapes.get(v))
            .map(Vec::as_slice)
            .ok_or_else(|| InterpError::Invalid(msg.into()))
    }

    /// Stores `op`'s result and frees the operands it was the last reader of.
    fn define(&mut self, op: &Op, out: Vec<f32>) {
        let f = self.f;
        self.vals[op.results[0]] = Some(out.into());
        for &o in &op.operands {
            self.remaining[o] -= 1;
            if self.remaining[o] == 0 && !f.returns.contains(&o) && o != f.args[0] {
                self.vals[o] = None;
            }
        }
    }
}
