//! Graph → qnt: the quantization decisions, from the range attributes calibration left
//! (`nibble.min`/`nibble.max`, `nibble.arg0_min/max`) and the per-op decisions in the IR
//! (`nibble.bits`, `nibble.fused`, `nibble.weight_scales`, `nibble.input_mean`).
//!
//! Every activation gets its own scale (and, asymmetric, zero point) from its own range, at 8
//! bits, or at 16 bits (symmetric) where `nibble.bits = 16` asks; schemes pow2, symmetric or
//! asymmetric. Weights are symmetric int8, per tensor or per output channel
//! ([`QuantConfig::per_channel`]), at `max|w|/127` (a power of two under pow2) unless GPTQ
//! rounded them for given scales; biases are i32 at `input_scale · weight_scale`. Accumulators
//! are i32 and each is followed by a `qnt.requant` to the op's output scale, so a ReLU with its
//! own range yields a requant → clamp → requant chain that `nibble-fold-requant` folds; an
//! activation marked `nibble.fused` is instead applied to the accumulator (`epilogue.rs`).
//!
//! Before (graph):
//! ```mlir
//! %1 = tosa.conv2d %0, %w, %b, %zp, %zp {…, nibble.min = -3.1, nibble.max = 4.2}
//! %2 = tosa.clamp %1 {min_val = 0.0, max_val = 3.4e38, nibble.min = 0.0, nibble.max = 4.2}
//! ```
//! After (qnt):
//! ```mlir
//! %a = "qnt.conv2d"(%x, %wq, %bq) : (…i8…) -> tensor<…x!quant.uniform<i32:f32, sx·sw>>
//! %r = "qnt.requant"(%a) {multiplier, shift, rounding_mode} -> tensor<…x!quant.uniform<i8:f32, s1>>
//! %c = "qnt.clamp"(%r) {min = 0, max = 127}
//! %o = "qnt.requant"(%c) {…} -> tensor<…x!quant.uniform<i8:f32, s2>>
//! ```
//!
//! This file is the driver: it walks the graph in order and hands each op to the conversion
//! pattern of its family (`pattern_for`): `layers` (conv, depthwise, transposed conv,
//! fully connected, attention matmul) with `weights`, `epilogue` (requant, clamp, PReLU, fused
//! hard-swish / swish), `elementwise` (add/sub/mul, scalar step chains), `tables` (lookup
//! tables, sigmoid and exp tables), `pool`, `movement` (slice, concat, transpose, reshape,
//! resize), and the fixed-point parameter builders `layer_norm`, `softmax`, `squeeze_excite`,
//! over the types of `types`. A pattern may absorb the chain of single users
//! after its op (an activation epilogue, a Gemm's bias, scalar steps after a table).

mod elementwise;
mod epilogue;
mod layer_norm;
mod layers;
mod movement;
mod pool;
mod softmax;
mod squeeze_excite;
mod tables;
mod types;
mod weights;

use crate::{loc, LowerError};
use nibble_graph::{attrs, tosa, Kind};
use nibble_ir::{model, Attr, Elem, Func, Op, QuantType, Type, ValueId};
use nibble_qnt as qnt;
use nibble_quantize::{weight_scales, Scheme};
use std::collections::HashMap;
use types::{act_type, bits_of, BITS};

/// How to quantize: the scheme, the weight granularity and optional weight clamping.
#[derive(Clone, Copy, Debug)]
pub struct QuantConfig {
    pub scheme: Scheme,
    /// One weight scale per output channel of conv / fully connected layers.
    pub per_channel: bool,
    /// Clamp conv / fully connected weights to mean ± K·σ (per channel with `per_channel`)
    /// before choosing their scale: rare large weights saturate, the rest gain resolution.
    pub clamp_sigma: Option<f64>,
    /// Subtract the expected output error of the quantized weights, `(Q(W) − W)·E[x]`, from
    /// each conv / fully connected bias, E[x] the layer's `nibble.input_mean` (from the
    /// calibration vectors, or from data-free statistics).
    pub bias_correction: bool,
}

impl QuantConfig {
    pub fn new(scheme: Scheme, per_channel: bool) -> QuantConfig {
        QuantConfig {
            scheme,
            per_channel,
            clamp_sigma: None,
            bias_correction: false,
        }
    }
}

pub(crate) fn err(op: &Op, msg: impl Into<String>) -> LowerError {
    LowerError::Quantize {
        op: op.name.clone(),
        loc: loc(op),
        msg: msg.into(),
    }
}

/// The f32 constants of the graph: their type and data.
type Consts<'g> = HashMap<ValueId, (&'g Type, Vec<f32>)>;

/// One graph → qnt conversion under way: the graph, the qnt function being built, which qnt
/// value holds each graph value, and the graph's constants.
struct Cx<'g> {
    g: &'g Func,
    cfg: &'g QuantConfig,
    f: Func,
    map: HashMap<ValueId, ValueId>,
    consts: Consts<'g>,
    /// `tosa.const_shape` values seen so far.
    shapes: HashMap<ValueId, Vec<i64>>,
    uses: Vec<usize>,
}

/// What a pattern made of graph op `i`.
enum Lowered {
    /// Nothing of its own at the qnt level (a constant, read by its users).
    Nothing,
    /// Op `i`'s result is this qnt value.
    Value(ValueId),
    /// Op `i` and the chain of single users after it up to graph op `last` are this qnt value.
    Chain { last: usize, value: ValueId },
}

/// A conversion pattern: lowers graph op `i` (and what it absorbs) into `cx.f`.
type Pattern = fn(&mut Cx<'_>, usize) -> Result<Lowered, LowerError>;

impl<'g> Cx<'g> {
    /// The qnt function's signature: the input quantized to its calibrated range.
    fn new(g: &'g Func, cfg: &'g QuantConfig) -> Result<Cx<'g>, LowerError> {
        let mut f = Func::new(&g.name);
        f.attrs = g
            .attrs
            .iter()
            .filter(|(k, _)| {
                ![
                    attrs::ARG0_MIN,
                    attrs::ARG0_MAX,
                    attrs::ARG0_SCALE,
                    attrs::ARG0_ZERO_POINT,
                ]
                .contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let arg = f.add_arg(g.ty(g.args[0]).clone());
        let (lo, hi) = match (g.attrs.get(attrs::ARG0_MIN), g.attrs.get(attrs::ARG0_MAX)) {
            (Some(Attr::Float(lo, _)), Some(Attr::Float(hi, _))) => (*lo, *hi),
            _ => {
                return Err(LowerError::Quantize {
                    op: "func.func".into(),
                    loc: String::new(),
                    msg: "the input has no range (nibble.arg0_min/max); calibrate first".into(),
                })
            }
        };
        let shape = g.ty(g.args[0]).shape().unwrap_or(&[]).to_vec();
        let func_op = nibble_ir::Op {
            name: "func.func".into(),
            operands: vec![],
            results: vec![],
            attrs: Default::default(),
            loc: None,
        };
        let keys = [attrs::ARG0_SCALE, attrs::ARG0_ZERO_POINT];
        let ty = match types::model_grid(&func_op, &g.attrs, keys, cfg.scheme)? {
            Some(q) => Type::tensor(&shape, Elem::Quant(q)),
            None => act_type(&shape, lo, hi, BITS, cfg.scheme),
        };
        let x = qnt::quantize(&mut f, arg, ty);
        let mut consts = HashMap::new();
        for op in g.ops.iter().filter(|o| o.name == tosa::CONST) {
            let (ty, bytes) = op.dense("values")?;
            consts.insert(op.results[0], (ty, model::dense_f32(bytes)));
        }
        Ok(Cx {
            g,
            cfg,
            f,
            map: HashMap::from([(g.args[0], x)]),
            consts,
            shapes: HashMap::new(),
            uses: g.use_counts(),
        })
    }

    fn scheme(&self) -> Scheme {
        self.cfg.scheme
    }

    /// The shape of graph value `v`.
    fn shape(&self, v: ValueId) -> Vec<i64> {
        self.g.ty(v).shape().unwrap_or(&[]).to_vec()
    }

    /// The qnt value of `op`'s activation operand `k`.
    fn input(&self, op: &Op, k: usize) -> Result<ValueId, LowerError> {
        op.operands
            .get(k)
            .and_then(|v| self.map.get(v))
            .copied()
            .ok_or_else(|| err(op, format!("operand {k} is not a quantized tensor (a constant where an activation is expected?)")))
    }

    /// An activation operand and its per-tensor quantized type.
    fn quant_input(&self, op: &Op, k: usize) -> Result<(ValueId, QuantType), LowerError> {
        let x = self.input(op, k)?;
        let q = self
            .f
            .ty(x)
            .quant()
            .ok_or_else(|| err(op, "input is not quantized"))?;
        Ok((x, q))
    }

    /// The f32 data of `op`'s constant operand `k`, or the error `what`.
    fn constant(&self, op: &Op, k: usize, what: &str) -> Result<Vec<f32>, LowerError> {
        op.operands
            .get(k)
            .and_then(|v| self.consts.get(v))
            .map(|c| c.1.clone())
            .ok_or_else(|| err(op, what))
    }

    /// An activation operand, or a float constant quantized per tensor (symmetric int8).
    fn operand(&mut self, op: &Op, k: usize) -> Result<(ValueId, QuantType), LowerError> {
        let v = match self.map.get(&op.operands[k]) {
            Some(&v) => v,
            None => {
                let (ty, c) = self.consts.get(&op.operands[k]).cloned().ok_or_else(|| {
                    err(
                        op,
                        format!("operand {k} is neither an activation nor a constant"),
                    )
                })?;
                let s = ty.shape().unwrap_or(&[]).to_vec();
                let sc = weight_scales(&c, &s, 0, false, None, self.scheme());
                let scheme = self.scheme();
                weights::quantize_weights_along(
                    &mut self.f,
                    &s,
                    &c,
                    0,
                    sc,
                    scheme,
                    None,
                    nibble_quantize::WeightWidth::W8,
                )
                .value
            }
        };
        let q = self
            .f
            .ty(v)
            .quant()
            .ok_or_else(|| err(op, format!("operand {k} is not quantized per tensor")))?;
        Ok((v, q))
    }
}

/// The ops the conversion knows, for the error on any other.
const SUPPORTED: &str = "quantizable ops: tosa.conv2d, tosa.depthwise_conv2d, tosa.transpose_conv2d, tosa.matmul (by a constant, + bias), tosa.add, tosa.sub, tosa.mul, tosa.avg_pool2d, tosa.max_pool2d, tosa.clamp, tosa.transpose, tosa.reshape, tosa.slice, tosa.concat, tosa.resize (nearest, bilinear), nibble prelu, softmax and layer_norm (last axis), and unary activations as lookup tables (tosa.sigmoid, tosa.tanh, tosa.erf, nibble hard_swish/hard_sigmoid/gelu)";

/// The conversion pattern of `op`'s family, if it has one.
fn pattern_for(op: &Op) -> Option<Pattern> {
    let table = || tables::is_table(op).then_some(tables::lookup_table as Pattern);
    Some(match op.name.as_str() {
        tosa::CONST => nothing,
        tosa::CONST_SHAPE => const_shape,
        tosa::SLICE => movement::slice,
        tosa::RESIZE => movement::resize,
        tosa::CONCAT => movement::concat,
        tosa::TRANSPOSE => movement::transpose,
        tosa::RESHAPE => movement::reshape,
        tosa::MAX_POOL2D => pool::max_pool,
        tosa::AVG_POOL2D => pool::avg_pool,
        tosa::CLAMP => epilogue::clamp,
        tosa::ADD | tosa::SUB => elementwise::add_sub,
        tosa::MUL => elementwise::mul,
        tosa::CONV2D | tosa::DEPTHWISE_CONV2D | tosa::TRANSPOSE_CONV2D => layers::conv,
        tosa::MATMUL => layers::matmul,
        tosa::SIGMOID | tosa::TANH | tosa::ERF => table()?,
        tosa::CUSTOM => match Kind::of(op) {
            Some(Kind::LayerNorm) => layer_norm::layer_norm,
            Some(Kind::ClampChannels) => epilogue::clamp,
            Some(Kind::ScaledHardSwish) => epilogue::scaled_hard_swish,
            Some(Kind::Prelu) => epilogue::prelu,
            Some(Kind::SqueezeExcite) => squeeze_excite::squeeze_excite,
            Some(Kind::Softmax) => softmax::softmax,
            _ => table()?,
        },
        _ => return None,
    })
}

/// Constants are read by their users.
fn nothing(_: &mut Cx<'_>, _: usize) -> Result<Lowered, LowerError> {
    Ok(Lowered::Nothing)
}

/// Shapes (slice starts, resize parameters) are read by their users.
fn const_shape(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (_, bytes) = op.dense("values")?;
    cx.shapes.insert(op.results[0], model::dense_i64(bytes));
    Ok(Lowered::Nothing)
}

/// Refuses a graph with ops that have no quantized form, naming every one of them — checked
/// before calibration, so a compile fails in its first second, not at the first such op after
/// minutes of calibration and weight rounding.
pub fn check_quantizable(g: &Func) -> Result<(), LowerError> {
    let bad: Vec<&Op> = g
        .ops
        .iter()
        .filter(|op| pattern_for(op).is_none())
        .collect();
    let Some(first) = bad.first() else {
        return Ok(());
    };
    let all: Vec<String> = bad
        .iter()
        .map(|op| format!("{}{}", op.name, crate::loc(op)))
        .collect();
    Err(err(
        first,
        format!(
            "no quantized form in this version ({} such op{}: {}); {SUPPORTED}",
            bad.len(),
            if bad.len() == 1 { "" } else { "s" },
            all.join(", ")
        ),
    ))
}

/// Converts a calibrated graph-level function to the qnt level.
pub fn to_qnt(g: &Func, cfg: &QuantConfig) -> Result<Func, LowerError> {
    Ok(to_qnt_mapped(g, cfg)?.0)
}

/// [`to_qnt`], also returning which qnt value holds each graph value (for per-layer reports).
pub fn to_qnt_mapped(
    g: &Func,
    cfg: &QuantConfig,
) -> Result<(Func, HashMap<ValueId, ValueId>), LowerError> {
    let mut cx = Cx::new(g, cfg)?;
    let mut skip = vec![false; g.ops.len()];
    for (i, op) in g.ops.iter().enumerate() {
        if skip[i] {
            continue;
        }
        let start = cx.f.ops.len();
        let pattern = pattern_for(op).ok_or_else(|| {
            err(
                op,
                format!("no quantized form in this version; {SUPPORTED}"),
            )
        })?;
        let (last, value) = match pattern(&mut cx, i)? {
            Lowered::Nothing => continue,
            Lowered::Value(v) => (i, v),
            Lowered::Chain { last, value } => (last, value),
        };
        for k in elementwise::chain_ops(g, i, last) {
            skip[k] = true;
        }
        for o in &mut cx.f.ops[start..] {
            if o.loc.is_none() {
                o.loc = op.loc.clone();
            }
        }
        cx.map.insert(g.ops[last].results[0], value);
    }
    check_wide_decisions(g, &cx.f, &cx.map)?;
    let (mut f, map) = (cx.f, cx.map);
    for &r in &g.returns {
        let v = *map.get(&r).ok_or_else(|| LowerError::Quantize {
            op: "func.return".into(),
            loc: String::new(),
            msg: "a returned value was not quantized".into(),
        })?;
        let out = qnt::dequantize(&mut f, v, g.ty(r).clone());
        f.returns.push(out);
    }
    Ok((f, map))
}

/// A 16-bit decision must have made a 16-bit tensor (an ONNX node may import as several ops,
/// all marked: one of them is enough). Ops that keep their input's type (pools, transposes,
/// reshapes, slices) and ops fused into the next one have none of their own, and ignoring the
/// decision silently would hide it.
fn check_wide_decisions(
    g: &Func,
    f: &Func,
    map: &HashMap<ValueId, ValueId>,
) -> Result<(), LowerError> {
    let made_wide = |o: &Op| {
        o.results
            .first()
            .and_then(|r| map.get(r))
            .and_then(|&v| f.ty(v).quant())
            .is_some_and(|t| t.bits == 16)
    };
    let marked = |o: &&Op| bits_of(o).ok() == Some(16);
    for op in g.ops.iter().filter(marked) {
        let node = op.loc_name();
        let same_node = |o: &&Op| match node.as_str() {
            "" => std::ptr::eq(*o, op),
            _ => o.loc_name() == node,
        };
        let found = g.ops.iter().filter(marked).filter(same_node).any(made_wide);
        if !found {
            return Err(err(op, format!("{} = 16, but its result is not a tensor of its own at the quant level (it keeps its input's type, or is fused into the op after it): choose the producer, or the last op of the fused layer", attrs::BITS)));
        }
    }
    Ok(())
}
