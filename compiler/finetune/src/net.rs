//! The graph as a candle computation: one forward function over the nodes, in float (to
//! calibrate activation ranges) or with fake quantization on nibble's grids (to train).
//!
//! Which tensors are fake-quantized follows nibble's quantized program: the model input, the
//! output of every Conv/Gemm (after its ReLU/Clip when that is the only reader: nibble fuses
//! it), and every ReLU/Clip not fused; MaxPool, Flatten, Reshape and Identity keep their input's
//! grid. Weights of Conv/Gemm are fake-quantized per output channel; biases stay float (nibble
//! stores them as 32-bit integers at the accumulator's scale).

use crate::fake_quant::{self, ActGrid, Channels, WeightGrid};
use crate::{Error, Graph, Node, Res};
use candle_core::{Device, Tensor, Var};
use std::collections::BTreeMap;

/// Calibrated real ranges of the fake-quantized tensors, by value name.
pub type Ranges = BTreeMap<String, (f64, f64)>;

/// How [`Net::forward`] treats the tensors nibble quantizes.
pub enum Mode<'a> {
    /// Float, recording each quantized tensor's min and max.
    Observe(&'a mut Ranges),
    /// Fake-quantized weights and activations.
    Quant {
        weights: &'a dyn WeightGrid,
        acts: &'a dyn ActGrid,
        ranges: &'a Ranges,
    },
}

/// The trainable graph: the graph, its weights as candle variables, and the tensors nibble
/// quantizes.
pub struct Net<'g> {
    pub graph: &'g Graph,
    pub vars: BTreeMap<String, Var>,
    quantized: Vec<String>,
}

impl<'g> Net<'g> {
    /// Variables for the trainable weights; refuses unsupported ops.
    pub fn new(graph: &'g Graph) -> Res<Net<'g>> {
        graph.check_ops()?;
        let mut vars = BTreeMap::new();
        for name in graph.trainable() {
            let w = &graph.weights[&name];
            vars.insert(
                name,
                Var::from_vec(w.data.clone(), w.dims.clone(), &Device::Cpu)?,
            );
        }
        Ok(Net {
            graph,
            vars,
            quantized: quantized_values(graph),
        })
    }

    /// The current value of trainable weight `name`.
    pub fn weight(&self, name: &str) -> Res<Vec<f32>> {
        Ok(self.vars[name].as_tensor().flatten_all()?.to_vec1()?)
    }

    /// The graph's output for a batch `x` of shape `[N, …input_shape]`.
    pub fn forward(&self, x: &Tensor, mut mode: Mode) -> Res<Tensor> {
        let mut env: BTreeMap<&str, Tensor> = BTreeMap::new();
        let x = self.grid(&self.graph.input, x.clone(), &mut mode)?;
        env.insert(&self.graph.input, x);
        for n in &self.graph.nodes {
            let y = self.node(n, &env, &mode)?;
            let y = self.grid(&n.outputs[0], y, &mut mode)?;
            env.insert(&n.outputs[0], y);
        }
        env.remove(self.graph.output.as_str()).ok_or_else(|| {
            Error::Input(format!(
                "no node computes the output '{}'",
                self.graph.output
            ))
        })
    }

    /// Observes or fake-quantizes `y` if nibble quantizes the value `name`.
    fn grid(&self, name: &str, y: Tensor, mode: &mut Mode) -> Res<Tensor> {
        if !self.quantized.iter().any(|q| q == name) {
            return Ok(y);
        }
        match mode {
            Mode::Observe(ranges) => {
                let lo = y.flatten_all()?.min(0)?.to_scalar::<f32>()? as f64;
                let hi = y.flatten_all()?.max(0)?.to_scalar::<f32>()? as f64;
                let r = ranges.entry(name.to_string()).or_insert((lo, hi));
                *r = (r.0.min(lo), r.1.max(hi));
                Ok(y)
            }
            Mode::Quant { acts, ranges, .. } => {
                let &(lo, hi) = ranges
                    .get(name)
                    .ok_or_else(|| Error::Input(format!("no calibrated range for '{name}'")))?;
                let (s, zp) = acts.params(lo, hi);
                fake_quant::activation(&y, s, zp, acts.range())
            }
        }
    }

    /// A weight input: the variable (fake-quantized in quant mode) or a constant.
    fn param(&self, n: &Node, k: usize, mode: &Mode) -> Res<Tensor> {
        let name = &n.inputs[k];
        let Some(var) = self.vars.get(name) else {
            let w = self.graph.weights.get(name).ok_or_else(|| {
                Error::Input(format!(
                    "node '{}': input '{name}' must be a float initializer",
                    n.name
                ))
            })?;
            return Ok(Tensor::from_vec(
                w.data.clone(),
                w.dims.clone(),
                &Device::Cpu,
            )?);
        };
        let t = var.as_tensor();
        match mode {
            Mode::Quant { weights, .. } if k == 1 => {
                let dims = t.dims().to_vec();
                let ch = if n.op == "Conv" {
                    Channels::conv(&dims)
                } else {
                    Channels::gemm(&dims, n.int("transB", 0) != 0)
                };
                let (q, mask) = fake_quant::quantize_weights(&self.weight(name)?, &ch, *weights);
                fake_quant::ste(t, q, mask)
            }
            _ => Ok(t.clone()),
        }
    }

    /// One node's output.
    fn node(&self, n: &Node, env: &BTreeMap<&str, Tensor>, mode: &Mode) -> Res<Tensor> {
        let x = env.get(n.inputs[0].as_str()).ok_or_else(|| {
            Error::Input(format!(
                "node '{}': input '{}' is not computed before it",
                n.name, n.inputs[0]
            ))
        })?;
        let bad = |why: &str| Error::Input(format!("node '{}' ({}): {why}", n.name, n.op));
        Ok(match n.op.as_str() {
            "Conv" => {
                let w = self.param(n, 1, mode)?;
                let (pad, stride, dil) = (
                    uniform(n, "pads", 0)?,
                    uniform(n, "strides", 1)?,
                    uniform(n, "dilations", 1)?,
                );
                let y = x.conv2d(&w, pad, stride, dil, n.int("group", 1) as usize)?;
                match n.inputs.get(2) {
                    Some(b) if !b.is_empty() => {
                        let b = self.param(n, 2, mode)?;
                        y.broadcast_add(&b.reshape((1, (), 1, 1))?)?
                    }
                    _ => y,
                }
            }
            "Gemm" => {
                if n.int("transA", 0) != 0
                    || n.floats.get("alpha").is_some_and(|&a| a != 1.0)
                    || n.floats.get("beta").is_some_and(|&b| b != 1.0)
                {
                    return Err(bad("only transA = 0, alpha = beta = 1 are supported"));
                }
                let w = self.param(n, 1, mode)?;
                let w = if n.int("transB", 0) != 0 { w.t()? } else { w };
                let y = x.matmul(&w)?;
                match n.inputs.get(2) {
                    Some(b) if !b.is_empty() => y.broadcast_add(&self.param(n, 2, mode)?)?,
                    _ => y,
                }
            }
            "Relu" => x.relu()?,
            "Clip" => {
                let bound = |k: usize, attr: &str, d: f32| -> Res<f32> {
                    match n.inputs.get(k).filter(|s| !s.is_empty()) {
                        Some(c) => self
                            .graph
                            .weights
                            .get(c)
                            .and_then(|w| w.data.first().copied())
                            .ok_or_else(|| bad("its bounds must be constants")),
                        None => Ok(n.floats.get(attr).copied().unwrap_or(d)),
                    }
                };
                x.clamp(bound(1, "min", f32::MIN)?, bound(2, "max", f32::MAX)?)?
            }
            "MaxPool" => {
                let k = n.ints.get("kernel_shape").cloned().unwrap_or_default();
                let s = n.ints.get("strides").cloned().unwrap_or_else(|| vec![1, 1]);
                if k.len() != 2
                    || s.len() != 2
                    || uniform(n, "pads", 0)? != 0
                    || n.int("ceil_mode", 0) != 0
                {
                    return Err(bad(
                        "only 2-D pooling without padding or ceil mode is supported",
                    ));
                }
                x.max_pool2d_with_stride(
                    (k[0] as usize, k[1] as usize),
                    (s[0] as usize, s[1] as usize),
                )?
            }
            "Flatten" => {
                let axis = n.int("axis", 1);
                if axis != 1 {
                    return Err(bad("only axis = 1 is supported"));
                }
                x.flatten_from(1)?
            }
            "Reshape" => {
                let shape = n
                    .inputs
                    .get(1)
                    .and_then(|s| self.graph.int_consts.get(s))
                    .ok_or_else(|| bad("its shape must be an integer constant"))?;
                let mut dims: Vec<usize> = vec![x.dim(0)?];
                let rest: usize = x.dims()[1..].iter().product();
                let tail = &shape[1..];
                let known: usize = tail
                    .iter()
                    .filter(|&&d| d > 0)
                    .map(|&d| d as usize)
                    .product();
                for (i, &d) in tail.iter().enumerate() {
                    dims.push(match d {
                        0 => x.dim(i + 1)?,
                        -1 => rest / known.max(1),
                        d => d as usize,
                    });
                }
                x.reshape(dims)?
            }
            "Identity" => x.clone(),
            _ => {
                return Err(Error::Unsupported {
                    node: n.name.clone(),
                    op: n.op.clone(),
                })
            }
        })
    }
}

/// One value of a list attribute that must be the same on every axis (pads, strides).
fn uniform(n: &Node, key: &str, default: i64) -> Res<usize> {
    let v = n.ints.get(key).cloned().unwrap_or_default();
    let first = v.first().copied().unwrap_or(default);
    if v.iter().any(|&x| x != first) || first < 0 {
        return Err(Error::Input(format!(
            "node '{}' ({}): {key} {v:?} differ between axes; only equal values are supported",
            n.name, n.op
        )));
    }
    Ok(first as usize)
}

/// The values nibble quantizes (see the module doc).
fn quantized_values(g: &Graph) -> Vec<String> {
    let mut out = vec![g.input.clone()];
    for n in &g.nodes {
        let fused = match g.readers(&n.outputs[0]) {
            (1, Some(r)) => matches!(r.op.as_str(), "Relu" | "Clip"),
            _ => false,
        };
        let q = match n.op.as_str() {
            "Conv" | "Gemm" => !fused,
            "Relu" | "Clip" => true,
            _ => false,
        };
        if q {
            out.push(n.outputs[0].clone());
        }
    }
    out
}
