//! `nibble-recognize-layers`: finds layers that exporters spell as chains of elementwise ops
//! and replaces each chain by one `tosa.custom` op of domain `nibble`, so the quant level sees
//! one op per layer (and can give it one integer kernel):
//!
//! | `operator_name` | recognised chain (any operand order) | operands |
//! |---|---|---|
//! | `hard_swish` | `x · clamp(x + 3, 0, 6) · ⅙`, `x · clamp(x·⅙ + ½, 0, 1)` | x |
//! | `hard_sigmoid` | `clamp(x·α + β, 0, 1)` (`implementation_attrs = "alpha=…,beta=…"`) | x |
//! | `gelu` | `x · (erf(x·(1/√2)) + 1) · ½` | x |
//! | `swish` | `x · sigmoid(x·β)` (SiLU when β = 1; `implementation_attrs = "beta=…"`) | x |
//! | `layer_norm` | `(x − mean) · (mean((x − mean)²) + ε)^-½ · γ + β` over the last axis | x, γ, β |
//! | `prelu` | `clamp(x, 0, +∞) + clamp(x, −∞, 0) · slope` (PRelu, LeakyRelu), slope scalar or per last-axis channel | x, slope |
//! | `softmax` | `e · (Σ e)⁻¹`, `e = exp(x − max(x))`, max and Σ over the last axis | x |
//! | `squeeze_excite` | `x · g(α·conv₂(clamp(conv₁(avg_pool(x)), 0, N)) + β)`, g = clamp(·, 0, 1) or sigmoid: global average pool, 1×1 convs (`implementation_attrs = "hidden_max=N,alpha=…,beta=…,sigmoid=0\|1,silu=0\|1"`; silu: the hidden activation is a·sigmoid(a)) | x, w₁, b₁, w₂, b₂ |
//!
//! Precondition: graph level as the importer writes it (Div → reciprocal/mul, Sqrt → pow ½,
//! mean → reduce_sum · 1/n). Postcondition: same function, recognised chains replaced; the
//! float interpreter executes the custom ops with the same formulas. The layers, their typed
//! parameters and the `implementation_attrs` text they are written as are defined once in
//! `nibble_graph::layers`; this pass only finds the chains.
//!
//! Before:
//! ```mlir
//! %t = tosa.add %x, %three ; %c = tosa.clamp %t {min_val = 0, max_val = 6}
//! %p = tosa.mul %x, %c, %s ; %y = tosa.mul %p, %sixth, %s
//! ```
//! After:
//! ```mlir
//! %y = tosa.custom %x {domain_name = "nibble", operator_name = "hard_swish", implementation_attrs = ""}
//! ```

use crate::{Options, PassInfo};
use nibble_graph::{tosa, HardSigmoid, Layer, LayerNorm, SqueezeExcite, Swish};
use nibble_ir::{model, Func, Op, ValueId};

pub const PASS: PassInfo = PassInfo {
    name: "nibble-recognize-layers",
    summary: "Replace decomposed hard-swish, hard-sigmoid, GELU, swish, LayerNorm, PReLU, softmax and squeeze-excite chains by single tosa.custom ops",
    run,
};

/// Read-only views of the function for matching.
struct View<'f> {
    f: &'f Func,
    producers: Vec<Option<usize>>,
    uses: Vec<usize>,
}

impl<'f> View<'f> {
    fn def(&self, v: ValueId) -> Option<&'f Op> {
        self.producers[v].map(|i| &self.f.ops[i])
    }
    /// The defining op if it has the given name.
    fn op(&self, v: ValueId, name: &str) -> Option<&'f Op> {
        self.def(v).filter(|o| o.name == name)
    }
    /// The value of a constant holding one number (any shape of one element).
    fn scalar(&self, v: ValueId) -> Option<f32> {
        let op = self.op(v, tosa::CONST)?;
        let (ty, bytes) = op.dense("values").ok()?;
        (ty.num_elements() == 1 && ty.elem() == Some(&nibble_ir::Elem::F32))
            .then(|| model::dense_f32(bytes)[0])
    }
    fn is_const(&self, v: ValueId) -> bool {
        self.op(v, tosa::CONST).is_some()
    }
    /// Binary op `name` with operands in either order: (operand matching `pick`, the other).
    fn either(
        &self,
        v: ValueId,
        name: &str,
        pick: impl Fn(ValueId) -> bool,
    ) -> Option<(ValueId, ValueId)> {
        let o = self.op(v, name)?;
        let (a, b) = (o.operands[0], o.operands[1]);
        if pick(a) {
            Some((a, b))
        } else if pick(b) {
            Some((b, a))
        } else {
            None
        }
    }
    fn clamp(&self, v: ValueId) -> Option<(ValueId, f64, f64)> {
        let o = self.op(v, tosa::CLAMP)?;
        Some((
            o.operands[0],
            o.float("min_val").ok()?,
            o.float("max_val").ok()?,
        ))
    }
    fn single_use(&self, v: ValueId) -> bool {
        self.uses[v] == 1
    }
}

fn near(a: f32, b: f64) -> bool {
    (a as f64 - b).abs() <= 1e-6 * b.abs().max(1.0)
}

/// A recognised layer: replaces the op defining `root` by `layer(operands)`.
struct Found {
    root: ValueId,
    layer: Layer,
    operands: Vec<ValueId>,
}

/// `x·clamp(x·a + b, 0, 1)` → Some((x, a, b)); the inner chain must be used once.
fn hard_sigmoid_of(v: &View, s: ValueId) -> Option<(ValueId, f32, f32)> {
    let (inner, lo, hi) = v.clamp(s)?;
    if lo != 0.0 || hi != 1.0 || !v.single_use(inner) {
        return None;
    }
    let (bv, axv) = v.either(inner, tosa::ADD, |o| v.scalar(o).is_some())?;
    let (av, x) = v.either(axv, tosa::MUL, |o| v.scalar(o).is_some())?;
    v.single_use(axv)
        .then_some((x, v.scalar(av)?, v.scalar(bv)?))
}

fn match_at(v: &View, root: ValueId) -> Option<Found> {
    let op = v.def(root)?;
    let found = |layer, operands| {
        Some(Found {
            root,
            layer,
            operands,
        })
    };
    match op.name.as_str() {
        tosa::MUL => {
            if let Some(se) = squeeze_excite(v, root) {
                return Some(se);
            }
            // hard_swish, form 1: (x · clamp(x + 3, 0, 6)) · ⅙
            if let Some((sixth, p)) = v.either(root, tosa::MUL, |o| {
                v.scalar(o).is_some_and(|c| near(c, 1.0 / 6.0))
            }) {
                if v.single_use(p) {
                    if let Some((c, x)) = v.either(p, tosa::MUL, |o| v.clamp(o).is_some()) {
                        let (t, lo, hi) = v.clamp(c)?;
                        if lo == 0.0 && hi == 6.0 && v.single_use(c) && v.single_use(t) {
                            if let Some((_, tx)) = v
                                .either(t, tosa::ADD, |o| v.scalar(o).is_some_and(|k| near(k, 3.0)))
                            {
                                if tx == x {
                                    let _ = sixth;
                                    return found(Layer::HardSwish, vec![x]);
                                }
                            }
                        }
                    }
                }
            }
            // hard_swish, form 2: x · hard_sigmoid(x) with α = ⅙, β = ½
            if let Some((s, x)) = v.either(root, tosa::MUL, |o| v.clamp(o).is_some()) {
                if let Some((sx, a, b)) = hard_sigmoid_of(v, s) {
                    if sx == x && near(a, 1.0 / 6.0) && near(b, 0.5) && v.single_use(s) {
                        return found(Layer::HardSwish, vec![x]);
                    }
                }
            }
            // swish (SiLU): x · sigmoid(x · β) or x · sigmoid(x)
            if let Some((s, x)) = v.either(root, tosa::MUL, |o| v.op(o, tosa::SIGMOID).is_some()) {
                let t = v.op(s, tosa::SIGMOID)?.operands[0];
                let beta = if t == x {
                    Some(1.0)
                } else {
                    v.either(t, tosa::MUL, |o| v.scalar(o).is_some())
                        .filter(|&(_, tx)| tx == x && v.single_use(t))
                        .and_then(|(b, _)| v.scalar(b))
                };
                if let Some(beta) = beta.filter(|_| v.single_use(s)) {
                    return found(Layer::Swish(Swish { beta: beta as f64 }), vec![x]);
                }
            }
            // gelu: (x · (erf(x · 1/√2) + 1)) · ½
            if let Some((_, p)) = v.either(root, tosa::MUL, |o| {
                v.scalar(o).is_some_and(|c| near(c, 0.5))
            }) {
                if v.single_use(p) {
                    if let Some((e1, x)) = v.either(p, tosa::MUL, |o| v.op(o, tosa::ADD).is_some())
                    {
                        let (_, e) =
                            v.either(e1, tosa::ADD, |o| v.scalar(o).is_some_and(|c| near(c, 1.0)))?;
                        let erf = v.op(e, tosa::ERF)?;
                        let (_, ex) = v.either(erf.operands[0], tosa::MUL, |o| {
                            v.scalar(o)
                                .is_some_and(|c| near(c, std::f64::consts::FRAC_1_SQRT_2))
                        })?;
                        if ex == x
                            && v.single_use(e1)
                            && v.single_use(e)
                            && v.single_use(erf.operands[0])
                        {
                            return found(Layer::Gelu, vec![x]);
                        }
                    }
                }
            }
            softmax(v, root)
        }
        tosa::CLAMP => {
            let (x, a, b) = hard_sigmoid_of(v, root)?;
            let (alpha, beta) = (a as f64, b as f64);
            found(Layer::HardSigmoid(HardSigmoid { alpha, beta }), vec![x])
        }
        tosa::ADD => layer_norm(v, root).or_else(|| prelu(v, root)),
        _ => None,
    }
}

/// `(x − μ) · (mean((x − μ)²) + ε)^-½ · γ + β`, μ = reduce_sum(x)·1/n over the last axis.
fn layer_norm(v: &View, root: ValueId) -> Option<Found> {
    let (beta, scaled) = v.either(v.def(root)?.results[0], tosa::ADD, |o| v.is_const(o))?;
    let (gamma, y) = v.either(scaled, tosa::MUL, |o| v.is_const(o))?;
    let (inv, d) = v.either(y, tosa::MUL, |o| v.op(o, tosa::RECIPROCAL).is_some())?;
    let den = v.op(inv, tosa::RECIPROCAL)?.operands[0];
    let pow = v.op(den, tosa::POW)?;
    if !v.scalar(pow.operands[1]).is_some_and(|e| near(e, 0.5)) {
        return None;
    }
    let (eps_v, var) = v.either(pow.operands[0], tosa::ADD, |o| v.scalar(o).is_some())?;
    let eps = v.scalar(eps_v)?;
    let mean_of = |m: ValueId| -> Option<ValueId> {
        let (inv_n, sum) = v.either(m, tosa::MUL, |o| v.scalar(o).is_some())?;
        let rs = v.op(sum, tosa::REDUCE_SUM)?;
        let x = rs.operands[0];
        let shape = v.f.ty(x).shape()?;
        let axis = rs.int("axis").ok()? as usize;
        (axis + 1 == shape.len() && near(v.scalar(inv_n)?, 1.0 / shape[axis] as f64)).then_some(x)
    };
    let sq = mean_of(var)?;
    let sqop = v.op(sq, tosa::MUL)?;
    if sqop.operands[0] != d || sqop.operands[1] != d {
        return None;
    }
    let sub = v.op(d, tosa::SUB)?;
    let x = sub.operands[0];
    if mean_of(sub.operands[1])? != x {
        return None;
    }
    let c = *v.f.ty(x).shape()?.last()?;
    if v.f.ty(gamma).num_elements() as i64 != c || v.f.ty(beta).num_elements() as i64 != c {
        return None;
    }
    // Every intermediate belongs to this layer alone.
    let inner = [
        scaled,
        y,
        inv,
        den,
        pow.operands[0],
        var,
        sq,
        sub.operands[1],
    ];
    if !inner.iter().all(|&i| v.single_use(i)) || v.uses[d] != 3 {
        return None;
    }
    Some(Found {
        root,
        layer: Layer::LayerNorm(LayerNorm {
            epsilon: eps as f64,
        }),
        operands: vec![x, gamma, beta],
    })
}

/// `clamp(x, 0, +∞) + clamp(x, −∞, 0) · slope`, the slope a constant with one value or one per
/// channel of the last axis.
fn prelu(v: &View, root: ValueId) -> Option<Found> {
    let is_pos = |o: ValueId| {
        v.clamp(o)
            .is_some_and(|(_, lo, hi)| lo == 0.0 && hi >= f32::MAX as f64)
    };
    let (pos, scaled) = v.either(root, tosa::ADD, is_pos)?;
    let (slope, neg) = v.either(scaled, tosa::MUL, |o| v.is_const(o))?;
    let (x, lo, hi) = v.clamp(neg)?;
    let c = *v.f.ty(x).shape()?.last()?;
    let n = v.f.ty(slope).num_elements() as i64;
    let single = [pos, neg, scaled].iter().all(|&i| v.single_use(i));
    (v.clamp(pos)?.0 == x && lo <= f32::MIN as f64 && hi == 0.0 && (n == 1 || n == c) && single)
        .then(|| Found {
            root,
            layer: Layer::Prelu,
            operands: vec![x, slope],
        })
}

/// A 1×1, stride-1, unpadded `tosa.conv2d` reading `input` with constant weights, bias and
/// zero points: (weights, bias).
fn pointwise_conv(v: &View, c: ValueId) -> Option<(ValueId, ValueId, ValueId)> {
    let conv = v.op(c, tosa::CONV2D)?;
    let ws = v.f.ty(conv.operands[1]).shape()?;
    let ok = ws.len() == 4
        && ws[1] == 1
        && ws[2] == 1
        && conv.ints("stride").ok()? == [1, 1]
        && conv.ints("pad").ok()?.iter().all(|&p| p == 0)
        && conv.operands[1..].iter().all(|&o| v.is_const(o))
        && conv.operands[3..].iter().all(|&o| v.scalar(o) == Some(0.0));
    ok.then_some((conv.operands[0], conv.operands[1], conv.operands[2]))
}

/// `x · gate(conv(act(conv(global_avg_pool(x)))))`: the hidden activation a ReLU (`clamp(0,
/// N)`) or SiLU (`a·sigmoid(a)`, EfficientNet), the gate a hard sigmoid (`clamp(α·z + β, 0,
/// 1)`, α·z + β often folded into the conv) or a sigmoid.
fn squeeze_excite(v: &View, root: ValueId) -> Option<Found> {
    let is_gate = |o: ValueId| {
        v.clamp(o).is_some_and(|(_, lo, hi)| lo == 0.0 && hi == 1.0)
            || v.op(o, tosa::SIGMOID).is_some()
    };
    let (gate, x) = v.either(root, tosa::MUL, is_gate)?;
    let (alpha, beta, z, sigmoid) = match (v.op(gate, tosa::SIGMOID), hard_sigmoid_of(v, gate)) {
        (Some(s), _) => (1.0f32, 0.0f32, s.operands[0], true),
        (None, Some((z, a, b))) => (a, b, z, false),
        (None, None) => (1.0, 0.0, v.clamp(gate)?.0, false),
    };
    let (h, w2, b2) = pointwise_conv(v, z)?;
    // The hidden activation: a ReLU(-N), or SiLU a·sigmoid(a) (its sigmoid read once).
    let silu = v
        .either(h, tosa::MUL, |o| v.op(o, tosa::SIGMOID).is_some())
        .filter(|&(s, a)| {
            v.op(s, tosa::SIGMOID).is_some_and(|o| o.operands[0] == a) && v.single_use(s)
        });
    let (a, lo, hidden_max, silu) = match silu {
        Some((_, a)) => (a, 0.0, f64::INFINITY, true),
        None => {
            let (a, lo, hi) = v.clamp(h)?;
            (a, lo, hi, false)
        }
    };
    let (p, w1, b1) = pointwise_conv(v, a)?;
    let pool = v.op(p, tosa::AVG_POOL2D)?;
    let xs = v.f.ty(x).shape()?;
    let global = pool.operands[0] == x
        && xs.len() == 4
        && pool.ints("kernel").ok()? == xs[1..3]
        && pool.ints("pad").ok()?.iter().all(|&p| p == 0)
        && v.f.ty(p).shape()? == [1, 1, 1, xs[3]];
    let inner = [gate, z, h, p];
    let a_reads = if silu { 2 } else { 1 };
    let ok = global && lo == 0.0 && hidden_max > 0.0 && v.uses[a] == a_reads;
    let layer = Layer::SqueezeExcite(SqueezeExcite {
        hidden_max,
        silu,
        alpha: alpha as f64,
        beta: beta as f64,
        sigmoid,
    });
    (ok && inner.iter().all(|&i| v.single_use(i))).then(|| Found {
        root,
        layer,
        operands: vec![x, w1, b1, w2, b2],
    })
}

/// `e · reciprocal(reduce_sum(e))` with `e = exp(x − reduce_max(x))`, both over the last axis.
fn softmax(v: &View, root: ValueId) -> Option<Found> {
    let (inv, e) = v.either(root, tosa::MUL, |o| v.op(o, tosa::RECIPROCAL).is_some())?;
    let sum = v.op(v.op(inv, tosa::RECIPROCAL)?.operands[0], tosa::REDUCE_SUM)?;
    let d = v.op(e, tosa::EXP)?.operands[0];
    let sub = v.op(d, tosa::SUB)?;
    let (x, m) = (sub.operands[0], sub.operands[1]);
    let max = v.op(m, tosa::REDUCE_MAX)?;
    let last = v.f.ty(x).shape()?.len() as i64 - 1;
    let ok = sum.operands[0] == e
        && max.operands[0] == x
        && sum.int("axis").ok()? == last
        && max.int("axis").ok()? == last
        && v.uses[e] == 2
        && [inv, sum.results[0], d, m].iter().all(|&i| v.single_use(i));
    ok.then(|| Found {
        root,
        layer: Layer::Softmax,
        operands: vec![x],
    })
}

#[tracing::instrument(skip_all, name = "nibble-recognize-layers")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let mut f = f.clone();
    let mut counts = std::collections::BTreeMap::new();
    loop {
        let view = View {
            f: &f,
            producers: f.producers(),
            uses: f.use_counts(),
        };
        // Last op first: an outer layer (hard-swish) is matched before the chain inside it
        // (a hard-sigmoid) would be.
        let hit = f
            .ops
            .iter()
            .rev()
            .find_map(|op| op.results.first().and_then(|&r| match_at(&view, r)));
        let Some(hit) = hit else { break };
        let i = view.producers[hit.root].ok_or("a recognised layer has no defining op")?;
        let old = f.ops[i].clone();
        f.ops[i] = hit.layer.op(hit.operands, hit.root, old.loc.clone());
        // A grid the model fixed for the result (QDQ) stays the layer's.
        for k in nibble_graph::attrs::GRID {
            if let Some(a) = old.attrs.get(k) {
                f.ops[i].attrs.insert(k.into(), a.clone());
            }
        }
        *counts.entry(hit.layer.kind().name()).or_insert(0) += 1;
        f.compact();
    }
    tracing::info!(?counts, "layers recognised");
    Ok(f)
}
