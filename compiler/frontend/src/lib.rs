//! ONNX → graph level. Reads an ONNX model (protobuf) and builds a [`Func`] of upstream `tosa`
//! ops on float tensors in NHWC layout, weights as constants, one op location per ONNX node
//! (`loc("node_name")`) so every later diagnostic names the layer it came from.
//!
//! The function takes the model input in its ONNX layout (NCHW, batch fixed to 1) and returns
//! the model outputs in their ONNX layout.

use nibble_ir::{Attr, Elem, Func, Type, ValueId};
use std::collections::HashMap;

#[allow(clippy::all)]
pub mod onnx {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

use onnx::{AttributeProto, NodeProto, TensorProto};
use prost::Message;

/// The ONNX ops this importer understands.
/// One supported ONNX op: the opsets it is accepted in, the attributes understood, notes.
pub struct OpSupport {
    pub op: &'static str,
    pub opsets: &'static str,
    pub attributes: &'static str,
    pub notes: &'static str,
}

/// Every ONNX op the importer accepts (docs/onnx-ops.md is generated from this table).
pub const OPS: &[OpSupport] = &[
    OpSupport {
        op: "Add",
        opsets: "7–21",
        attributes: "numpy broadcasting",
        notes: "activation ⊕ constant or activation; constants folded",
    },
    OpSupport {
        op: "AveragePool",
        opsets: "7–21",
        attributes: "kernel_shape, strides, pads, count_include_pad (0, or 1 without pads)",
        notes: "ceil_mode 0",
    },
    OpSupport {
        op: "BatchNormalization",
        opsets: "7–21",
        attributes: "epsilon",
        notes: "inference form: per-channel affine (scale, bias)",
    },
    OpSupport {
        op: "Cast",
        opsets: "6–21",
        attributes: "to",
        notes: "on constants (shape computations), folded at import",
    },
    OpSupport {
        op: "Clip",
        opsets: "6–21",
        attributes: "min/max (attributes before opset 11, inputs after)",
        notes: "constant bounds",
    },
    OpSupport {
        op: "Concat",
        opsets: "4–21",
        attributes: "axis",
        notes: "activations, or constants (folded)",
    },
    OpSupport {
        op: "Constant",
        opsets: "1–21",
        attributes: "value",
        notes: "tensors of float32, int32, int64",
    },
    OpSupport {
        op: "Conv",
        opsets: "1–21",
        attributes: "strides, pads, dilations, group (1, depthwise, or grouped: per-group slices, convs and a concat), auto_pad NOTSET/VALID",
        notes: "2-D; constant weights and bias",
    },
    OpSupport {
        op: "Div",
        opsets: "7–21",
        attributes: "numpy broadcasting",
        notes:
            "by a constant: multiply by its reciprocal; by an activation: reciprocal then multiply",
    },
    OpSupport {
        op: "Flatten",
        opsets: "1–21",
        attributes: "axis",
        notes: "",
    },
    OpSupport {
        op: "Floor",
        opsets: "6–21",
        attributes: "",
        notes: "on constants, folded",
    },
    OpSupport {
        op: "Gather",
        opsets: "1–21",
        attributes: "axis 0",
        notes: "on constants, folded",
    },
    OpSupport {
        op: "Gemm",
        opsets: "7–21",
        attributes: "alpha, beta, transB (transA 0)",
        notes: "constant B and C; C a bias of M elements",
    },
    OpSupport {
        op: "GlobalAveragePool",
        opsets: "1–21",
        attributes: "",
        notes: "as tosa.avg_pool2d over H×W",
    },
    OpSupport {
        op: "HardSigmoid",
        opsets: "6–21",
        attributes: "alpha, beta",
        notes: "clamp(alpha·x + beta, 0, 1)",
    },
    OpSupport {
        op: "Identity",
        opsets: "1–21",
        attributes: "",
        notes: "",
    },
    OpSupport {
        op: "MatMul",
        opsets: "1–21",
        attributes: "",
        notes:
            "activation × constant matrix, or activation × activation with equal batch dimensions",
    },
    OpSupport {
        op: "MaxPool",
        opsets: "1–21",
        attributes: "kernel_shape, strides, pads, ceil_mode",
        notes: "2-D, dilations 1",
    },
    OpSupport {
        op: "Mul",
        opsets: "7–21",
        attributes: "numpy broadcasting",
        notes: "",
    },
    OpSupport {
        op: "Pow",
        opsets: "7–21",
        attributes: "",
        notes: "constant exponent (2 becomes x·x)",
    },
    OpSupport {
        op: "PRelu",
        opsets: "7–21",
        attributes: "",
        notes: "slope scalar or per channel",
    },
    OpSupport {
        op: "ReduceMean",
        opsets: "1–21",
        attributes: "axes, keepdims",
        notes: "as tosa.reduce_sum and a multiplication by 1/n",
    },
    OpSupport {
        op: "Relu",
        opsets: "6–21",
        attributes: "",
        notes: "",
    },
    OpSupport {
        op: "Reshape",
        opsets: "5–21",
        attributes: "0 and −1 in the target",
        notes: "constant target (computed shapes are folded first)",
    },
    OpSupport {
        op: "Shape",
        opsets: "1–21",
        attributes: "",
        notes: "folded to a constant (shapes are static)",
    },
    OpSupport {
        op: "Sigmoid",
        opsets: "6–21",
        attributes: "",
        notes: "",
    },
    OpSupport {
        op: "Slice",
        opsets: "1–21",
        attributes: "starts, ends, axes (steps 1)",
        notes: "constant bounds; data at run time or constant",
    },
    OpSupport {
        op: "Softmax",
        opsets: "1–21",
        attributes: "axis",
        notes: "opset ≥ 13 any axis; before 13 the last axis",
    },
    OpSupport {
        op: "Sqrt",
        opsets: "6–21",
        attributes: "",
        notes: "as pow(x, 0.5)",
    },
    OpSupport {
        op: "Squeeze",
        opsets: "1–21",
        attributes: "axes (attribute before 13, input after)",
        notes: "",
    },
    OpSupport {
        op: "Sub",
        opsets: "7–21",
        attributes: "numpy broadcasting",
        notes: "",
    },
    OpSupport {
        op: "Transpose",
        opsets: "1–21",
        attributes: "perm",
        notes: "",
    },
    OpSupport {
        op: "Unsqueeze",
        opsets: "1–21",
        attributes: "axes (attribute before 13, input after)",
        notes: "",
    },
];

/// The supported-op table as Markdown (the content of docs/onnx-ops.md).
pub fn ops_markdown() -> String {
    let mut s = String::from("# Supported ONNX ops\n\nGenerated from `compiler/frontend/src/lib.rs` (`OPS`); a test keeps this file equal to the table. Models must use opsets 1–21 of the default domain; external data, subgraphs (If/Loop) and sequences are refused.\n\n| op | opsets | attributes | notes |\n|---|---|---|---|\n");
    for o in OPS {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            o.op, o.opsets, o.attributes, o.notes
        ));
    }
    s
}

fn supported_list() -> String {
    OPS.iter().map(|o| o.op).collect::<Vec<_>>().join(", ")
}

/// Import errors; each names the model element at fault.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read '{0}': {1}")]
    Io(String, std::io::Error),
    #[error("'{0}' is not a valid ONNX model: {1}")]
    Decode(String, String),
    #[error(
        "unsupported op '{op}' (node '{node}'); supported ops: {}",
        supported_list()
    )]
    UnsupportedOp { op: String, node: String },
    #[error("node '{node}' ({op}): {msg}")]
    Node {
        op: String,
        node: String,
        msg: String,
    },
    #[error("{0}")]
    Model(String),
}

/// Imports an ONNX file.
/// `input_shape` fixes the input's shape (batch included) where the model leaves dimensions
/// dynamic; without it the batch becomes 1 and every other dimension must be known.
pub fn import_file(
    path: &std::path::Path,
    input_shape: Option<(&str, &[i64])>,
) -> Result<Func, ImportError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ImportError::Io(name.clone(), e))?;
    import_bytes(&bytes, &name, input_shape)
}

/// The largest stride, dilation, kernel size, pad or group an attribute may hold.
const MAX_WINDOW: i64 = 1 << 16;
/// The most elements one tensor of the graph may hold (2^28: 1 GiB of float32).
const MAX_ELEMENTS: i64 = 1 << 28;

/// A float tensor known at import time (an initializer or a Constant).
#[derive(Clone)]
struct Const {
    dims: Vec<i64>,
    data: Vec<f32>,
}

fn tensor_data(t: &TensorProto) -> Result<Const, String> {
    let dims = t.dims.clone();
    if dims.iter().any(|&d| d < 0) {
        return Err(format!("tensor '{}' has a negative dimension", t.name()));
    }
    let n = dims
        .iter()
        .try_fold(1i64, |a, &d| a.checked_mul(d).filter(|&n| n <= 1 << 32))
        .ok_or_else(|| format!("tensor '{}' of shape {dims:?} is too large", t.name()))?;
    if t.data_location == Some(onnx::tensor_proto::DataLocation::External as i32) {
        return Err(format!(
            "tensor '{}' uses external data files, which nibble does not read",
            t.name()
        ));
    }
    let data: Vec<f32> = match t.data_type() {
        1 => {
            if let Some(raw) = t.raw_data.as_ref().filter(|r| !r.is_empty()) {
                if raw.len() as i64 != 4 * n {
                    return Err(format!(
                        "tensor '{}' has {} bytes of data for {} float elements",
                        t.name(),
                        raw.len(),
                        n
                    ));
                }
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            } else {
                t.float_data.clone()
            }
        }
        7 => {
            if let Some(raw) = t.raw_data.as_ref().filter(|r| !r.is_empty()) {
                if raw.len() as i64 != 8 * n {
                    return Err(format!(
                        "tensor '{}' has {} bytes of data for {} int64 elements",
                        t.name(),
                        raw.len(),
                        n
                    ));
                }
                raw.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32)
                    .collect()
            } else {
                t.int64_data.iter().map(|&v| v as f32).collect()
            }
        }
        6 => {
            if let Some(raw) = t.raw_data.as_ref().filter(|r| !r.is_empty()) {
                if raw.len() as i64 != 4 * n {
                    return Err(format!(
                        "tensor '{}' has {} bytes of data for {} int32 elements",
                        t.name(),
                        raw.len(),
                        n
                    ));
                }
                raw.chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
                    .collect()
            } else {
                t.int32_data.iter().map(|&v| v as f32).collect()
            }
        }
        other => {
            return Err(format!(
                "tensor '{}' has data type {other}; supported: 1 (float32), 6 (int32), 7 (int64)",
                t.name()
            ))
        }
    };
    if data.len() as i64 != n {
        return Err(format!(
            "tensor '{}' has {} elements, its shape {:?} needs {}",
            t.name(),
            data.len(),
            dims,
            n
        ));
    }
    Ok(Const { dims, data })
}

/// A value of the graph being built, with its layout.
#[derive(Clone, Copy)]
struct Val {
    id: ValueId,
    /// True when the ONNX tensor is NCHW but is stored NHWC at the graph level.
    nhwc: bool,
}

struct Importer<'a> {
    f: Func,
    vals: HashMap<String, Val>,
    consts: HashMap<String, Const>,
    node: &'a NodeProto,
    zero: Option<ValueId>,
    opset: i64,
}

fn f32t(shape: &[i64]) -> Type {
    Type::tensor(shape, Elem::F32)
}

impl<'a> Importer<'a> {
    /// The node's name, or its first output where the exporter left the name empty.
    fn label(&self) -> String {
        if self.node.name().is_empty() {
            self.node.output.first().cloned().unwrap_or_default()
        } else {
            self.node.name().to_string()
        }
    }
    fn err(&self, msg: impl Into<String>) -> ImportError {
        ImportError::Node {
            op: self.node.op_type().to_string(),
            node: self.label(),
            msg: msg.into(),
        }
    }
    fn attr(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name() == name)
    }
    fn ints(&self, name: &str, default: &[i64]) -> Vec<i64> {
        self.attr(name)
            .map(|a| a.ints.clone())
            .unwrap_or_else(|| default.to_vec())
    }
    fn int(&self, name: &str, default: i64) -> i64 {
        self.attr(name).and_then(|a| a.i).unwrap_or(default)
    }
    fn float(&self, name: &str, default: f32) -> f32 {
        self.attr(name).and_then(|a| a.f).unwrap_or(default)
    }
    fn string(&self, name: &str) -> Option<String> {
        self.attr(name)
            .and_then(|a| a.s.as_ref())
            .map(|s| String::from_utf8_lossy(s).into_owned())
    }
    fn input(&self, i: usize) -> Result<Val, ImportError> {
        let name = self
            .node
            .input
            .get(i)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.err(format!("input {i} is missing")))?;
        self.vals.get(name).copied().ok_or_else(|| self.err(format!("input '{name}' is not defined before this node (missing initializer, or the graph is cyclic or not topologically sorted)")))
    }
    fn konst(&self, i: usize) -> Result<Const, ImportError> {
        let name = self
            .node
            .input
            .get(i)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.err(format!("input {i} is missing")))?;
        self.consts.get(name).cloned().ok_or_else(|| {
            self.err(format!(
                "input '{name}' must be a constant (an initializer)"
            ))
        })
    }
    fn shape(&self, v: ValueId) -> Vec<i64> {
        self.f.ty(v).shape().unwrap_or(&[]).to_vec()
    }
    fn push(
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
    fn constant(&mut self, shape: &[i64], data: &[f32]) -> ValueId {
        self.push(
            "tosa.const",
            &[],
            f32t(shape),
            vec![("values", Attr::dense_f32(f32t(shape), data))],
        )
    }
    fn zero_point(&mut self) -> ValueId {
        if let Some(z) = self.zero {
            return z;
        }
        let z = self.constant(&[1], &[0.0]);
        self.zero = Some(z);
        z
    }
    /// An elementwise binary tosa op with numpy-style broadcasting of equal-rank operands.
    fn binary(&mut self, name: &str, a: ValueId, b: ValueId) -> Result<ValueId, ImportError> {
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
        if name == "tosa.mul" {
            let shift = self.push(
                "tosa.const",
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
    fn unary(&mut self, name: &str, x: ValueId) -> ValueId {
        let ty = self.f.ty(x).clone();
        self.push(name, &[x], ty, vec![])
    }
    fn reduce(&mut self, name: &str, x: ValueId, axis: usize) -> ValueId {
        let mut s = self.shape(x);
        s[axis] = 1;
        self.push(name, &[x], f32t(&s), vec![("axis", Attr::i32(axis as i64))])
    }
    fn clamp(&mut self, x: ValueId, lo: f32, hi: f32) -> ValueId {
        let ty = self.f.ty(x).clone();
        self.push(
            "tosa.clamp",
            &[x],
            ty,
            vec![
                ("min_val", Attr::Float(lo as f64, "f32".into())),
                ("max_val", Attr::Float(hi as f64, "f32".into())),
            ],
        )
    }
    fn const_shape(&mut self, shape: &[i64]) -> ValueId {
        let n = shape.len() as i64;
        let ty = Type::tensor(&[n], Elem::Index);
        self.push(
            "tosa.const_shape",
            &[],
            Type::Other(format!("!tosa.shape<{n}>")),
            vec![("values", Attr::dense_i64(ty, shape))],
        )
    }
    fn reshape(&mut self, x: ValueId, shape: &[i64]) -> ValueId {
        let s = self.const_shape(shape);
        self.push("tosa.reshape", &[x, s], f32t(shape), vec![])
    }
    fn transpose(&mut self, x: ValueId, perms: &[i32]) -> ValueId {
        let s = self.shape(x);
        let out: Vec<i64> = perms.iter().map(|&p| s[p as usize]).collect();
        self.push(
            "tosa.transpose",
            &[x],
            f32t(&out),
            vec![("perms", Attr::I32s(perms.to_vec()))],
        )
    }
    /// The value in ONNX (NCHW) layout.
    fn plain(&mut self, v: Val) -> ValueId {
        if v.nhwc {
            self.transpose(v.id, &[0, 3, 1, 2])
        } else {
            v.id
        }
    }
    /// A 4-D value in NHWC layout.
    fn nhwc(&mut self, v: Val) -> Result<ValueId, ImportError> {
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

    /// Range checks of the attributes every windowed or flagged op reads, before any of them is
    /// used in arithmetic: strides, dilations and kernel sizes in [1, MAX_WINDOW], pads in
    /// [0, MAX_WINDOW], flags 0 or 1, group at least 1, float parameters finite.
    fn check_attributes(&self) -> Result<(), ImportError> {
        for a in &self.node.attribute {
            let name = a.name();
            let bad = |what: &str| {
                self.err(format!(
                    "attribute {name} = {:?}{:?} must be {what}",
                    a.ints,
                    a.i.into_iter().collect::<Vec<_>>()
                ))
            };
            match name {
                "strides" | "dilations" | "kernel_shape" => {
                    if a.ints.iter().any(|&v| !(1..=MAX_WINDOW).contains(&v)) {
                        return Err(bad(&format!("from 1 to {MAX_WINDOW}")));
                    }
                }
                "pads" | "output_padding" => {
                    if a.ints.iter().any(|&v| !(0..=MAX_WINDOW).contains(&v)) {
                        return Err(bad(&format!("from 0 to {MAX_WINDOW}")));
                    }
                }
                "ceil_mode"
                | "count_include_pad"
                | "transA"
                | "transB"
                | "keepdims"
                | "noop_with_empty_axes" => {
                    if !matches!(a.i, None | Some(0) | Some(1)) {
                        return Err(bad("0 or 1"));
                    }
                }
                "group" => {
                    if !matches!(a.i, Some(g) if (1..=MAX_WINDOW).contains(&g)) {
                        return Err(bad(&format!("from 1 to {MAX_WINDOW}")));
                    }
                }
                _ => {
                    if a.f.is_some_and(|f| !f.is_finite()) {
                        return Err(self.err(format!(
                            "attribute {name} = {} must be finite",
                            a.f.unwrap_or(0.0)
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Every value the node added has a static shape of at most MAX_ELEMENTS elements.
    fn check_sizes(&self, first_op: usize) -> Result<(), ImportError> {
        for op in &self.f.ops[first_op..] {
            for &r in &op.results {
                let Some(shape) = self.f.ty(r).shape() else {
                    continue;
                };
                let n = shape
                    .iter()
                    .try_fold(1i64, |n, &d| n.checked_mul(d.max(0)))
                    .filter(|&n| n <= MAX_ELEMENTS);
                if n.is_none() {
                    return Err(self.err(format!(
                        "its result of shape {shape:?} would hold more than {MAX_ELEMENTS} elements"
                    )));
                }
            }
        }
        Ok(())
    }

    fn node(&mut self) -> Result<Vec<Val>, ImportError> {
        self.check_attributes()?;
        let op = self.node.op_type();
        Ok(match op {
            "Identity" => vec![self.input(0)?],
            "Relu" => {
                let x = self.input(0)?;
                let r = self.clamp(x.id, 0.0, f32::MAX);
                vec![Val {
                    id: r,
                    nhwc: x.nhwc,
                }]
            }
            "PRelu" => {
                // max(x, 0) + slope · min(x, 0), slope per channel (ONNX dimension 1) or scalar.
                let x = self.input(0)?;
                let slope = self.konst(1)?;
                let xs = self.shape(x.id);
                let channels = if x.nhwc {
                    xs[3]
                } else {
                    xs.get(1).copied().unwrap_or(1)
                };
                let n = slope.data.len() as i64;
                if n != 1 && n != channels {
                    return Err(self.err(format!(
                        "slope has {n} elements; supported: 1 or one per channel ({channels})"
                    )));
                }
                let mut shape = vec![1i64; xs.len()];
                if n > 1 {
                    shape[if x.nhwc { 3 } else { 1 }] = n;
                }
                let sv = self.constant(&shape, &slope.data);
                let pos = self.clamp(x.id, 0.0, f32::MAX);
                let neg = self.clamp(x.id, f32::MIN, 0.0);
                let scaled = self.binary("tosa.mul", neg, sv)?;
                let r = self.binary("tosa.add", pos, scaled)?;
                vec![Val {
                    id: r,
                    nhwc: x.nhwc,
                }]
            }
            "Transpose" => {
                let x = self.input(0)?;
                let x = self.plain(x);
                let rank = self.shape(x).len();
                let default: Vec<i64> = (0..rank as i64).rev().collect();
                let perm = self.ints("perm", &default);
                let mut seen = vec![false; rank];
                if perm.len() != rank
                    || perm.iter().any(|&p| {
                        p < 0
                            || p as usize >= rank
                            || std::mem::replace(&mut seen[p as usize], true)
                    })
                {
                    return Err(self.err(format!(
                        "perm {perm:?} is not a permutation of {rank} dimensions"
                    )));
                }
                let r = self.transpose(x, &perm.iter().map(|&p| p as i32).collect::<Vec<_>>());
                vec![Val { id: r, nhwc: false }]
            }
            "Softmax" => {
                // exp(x − max) / Σ exp(x − max) along `axis` (opset ≥ 13 semantics; older
                // opsets flatten from `axis`, identical when `axis` is the last dimension).
                let x = self.input(0)?;
                let x = self.plain(x);
                let rank = self.shape(x).len() as i64;
                let axis = self.int("axis", if self.opset >= 13 { -1 } else { 1 });
                let axis = if axis < 0 { axis + rank } else { axis };
                if axis < 0 || axis >= rank {
                    return Err(self.err(format!("axis {axis} is out of range for rank {rank}")));
                }
                if axis != rank - 1 && self.opset < 13 {
                    return Err(
                        self.err("Softmax before opset 13 is supported on the last axis only")
                    );
                }
                let m = self.reduce("tosa.reduce_max", x, axis as usize);
                let d = self.binary("tosa.sub", x, m)?;
                let e = self.unary("tosa.exp", d);
                let sum = self.reduce("tosa.reduce_sum", e, axis as usize);
                let inv = self.unary("tosa.reciprocal", sum);
                let r = self.binary("tosa.mul", e, inv)?;
                vec![Val { id: r, nhwc: false }]
            }
            "Conv" => {
                let x = self.input(0)?;
                let x = self.nhwc(x)?;
                let w = self.konst(1)?;
                if w.dims.len() != 4 {
                    return Err(self.err(format!(
                        "only 2-D convolution is supported (weight shape {:?})",
                        w.dims
                    )));
                }
                let k = self.ints("kernel_shape", &w.dims[2..]);
                if k != w.dims[2..] {
                    return Err(self.err(format!(
                        "kernel_shape {k:?} contradicts the weights' {:?}",
                        &w.dims[2..]
                    )));
                }
                let group = self.int("group", 1);
                let bias = if self.node.input.len() > 2 && !self.node.input[2].is_empty() {
                    self.konst(2)?.data
                } else {
                    vec![0.0; w.dims[0].max(0) as usize]
                };
                let xs = self.shape(x);
                if group != 1 && !(group == xs[3] && w.dims[1] == 1) {
                    // Grouped: one conv per group on its slice of the channels, concatenated.
                    let r = self.grouped_conv(x, &w, &bias, group)?;
                    return Ok(vec![Val { id: r, nhwc: true }]);
                }
                if group != 1 {
                    return self.depthwise_conv(x, &w, group);
                }
                let r = self.conv2d(x, &w, &bias)?;
                vec![Val { id: r, nhwc: true }]
            }
            "MaxPool" => {
                let x = self.input(0)?;
                let x = self.nhwc(x)?;
                let k = self.ints("kernel_shape", &[]);
                let s = self.ints("strides", &[1, 1]);
                let p = self.ints("pads", &[0, 0, 0, 0]);
                if k.len() != 2 || s.len() != 2 || p.len() != 4 {
                    return Err(self
                        .err("kernel_shape, strides and pads must describe 2 spatial dimensions"));
                }
                if self.ints("dilations", &[1, 1]) != [1, 1] {
                    return Err(self.err("dilations other than 1 are not supported"));
                }
                let mut x = x;
                let mut xs = self.shape(x);
                let ceil = self.int("ceil_mode", 0) != 0;
                let out_dim = |len: i64, pb: i64, pe: i64, k: i64, s: i64| {
                    let span = len + pb + pe - k;
                    let mut o = if ceil {
                        (span + s - 1) / s + 1
                    } else {
                        span / s + 1
                    };
                    // In ceil mode the last window must start inside the input or the leading pad.
                    if ceil && (o - 1) * s >= len + pb {
                        o -= 1;
                    }
                    o
                };
                let oh = out_dim(xs[1], p[0], p[2], k[0], s[0]);
                let ow = out_dim(xs[2], p[1], p[3], k[1], s[1]);
                // Extra end padding (ceil mode) so the windows tile the padded input exactly;
                // padding never wins a max.
                let mut p = p;
                p[2] += ((oh - 1) * s[0] + k[0] - (xs[1] + p[0] + p[2])).max(0);
                p[3] += ((ow - 1) * s[1] + k[1] - (xs[2] + p[1] + p[3])).max(0);
                // tosa.max_pool2d needs the window to tile the input exactly; floor mode drops
                // the trailing rows/columns no window reads, so slice them off.
                let (need_h, need_w) = (
                    (oh - 1) * s[0] + k[0] - p[0] - p[2],
                    (ow - 1) * s[1] + k[1] - p[1] - p[3],
                );
                if need_h != xs[1] || need_w != xs[2] {
                    let start = self.const_shape(&[0, 0, 0, 0]);
                    let size = self.const_shape(&[xs[0], need_h, need_w, xs[3]]);
                    x = self.push(
                        "tosa.slice",
                        &[x, start, size],
                        f32t(&[xs[0], need_h, need_w, xs[3]]),
                        vec![],
                    );
                    xs = self.shape(x);
                }
                let attrs = vec![
                    ("kernel", Attr::I64s(k)),
                    ("stride", Attr::I64s(s)),
                    ("pad", Attr::I64s(vec![p[0], p[2], p[1], p[3]])),
                ];
                let r = self.push(
                    "tosa.max_pool2d",
                    &[x],
                    f32t(&[xs[0], oh, ow, xs[3]]),
                    attrs,
                );
                vec![Val { id: r, nhwc: true }]
            }
            "Flatten" => {
                let x = self.input(0)?;
                let x = self.plain(x);
                let s = self.shape(x);
                let axis = self.int("axis", 1);
                let axis = if axis < 0 {
                    axis + s.len() as i64
                } else {
                    axis
                };
                if axis < 0 || axis > s.len() as i64 {
                    return Err(
                        self.err(format!("axis {axis} is out of range for rank {}", s.len()))
                    );
                }
                let outer: i64 = s[..axis as usize].iter().product();
                let inner: i64 = s[axis as usize..].iter().product();
                let r = self.reshape(x, &[outer, inner]);
                vec![Val { id: r, nhwc: false }]
            }
            "Gemm" => {
                let a = self.input(0)?;
                let a = self.plain(a);
                let mut b = self.konst(1)?;
                let sa = self.shape(a);
                if sa.len() != 2 || b.dims.len() != 2 {
                    return Err(self.err("Gemm needs 2-D A and B"));
                }
                if self.int("transA", 0) != 0 {
                    return Err(self.err("transA = 1 is not supported"));
                }
                let (alpha, beta) = (self.float("alpha", 1.0), self.float("beta", 1.0));
                // B as [K, M]
                if self.int("transB", 0) != 0 {
                    let (m, k) = (b.dims[0] as usize, b.dims[1] as usize);
                    let mut t = vec![0.0; m * k];
                    for i in 0..m {
                        for j in 0..k {
                            t[j * m + i] = b.data[i * k + j];
                        }
                    }
                    b = Const {
                        dims: vec![k as i64, m as i64],
                        data: t,
                    };
                }
                let (k, m) = (b.dims[0], b.dims[1]);
                if sa[1] != k {
                    return Err(self.err(format!("A has {} columns, B has {k} rows", sa[1])));
                }
                let bdata: Vec<f32> = b.data.iter().map(|v| v * alpha).collect();
                let c = if self.node.input.len() > 2 && !self.node.input[2].is_empty() {
                    self.konst(2)?.data
                } else {
                    vec![0.0; m as usize]
                };
                if c.len() as i64 != m {
                    return Err(self.err(format!(
                        "C has {} elements; only a bias of {m} elements is supported",
                        c.len()
                    )));
                }
                let c: Vec<f32> = c.iter().map(|v| v * beta).collect();
                let r = self.matmul_const(
                    a,
                    &Const {
                        dims: vec![k, m],
                        data: bdata,
                    },
                    Some(&c),
                )?;
                vec![Val { id: r, nhwc: false }]
            }
            "MatMul" => {
                let r = self.matmul()?;
                vec![Val { id: r, nhwc: false }]
            }
            "ReduceMean" => vec![self.reduction("tosa.reduce_sum", true)?],
            "Pow" => {
                let x = self.input(0)?;
                let e = self
                    .konst(1)
                    .map_err(|_| self.err("only constant exponents are supported"))?;
                let r = if e.data.len() == 1 && e.data[0] == 2.0 {
                    self.binary("tosa.mul", x.id, x.id)?
                } else {
                    return Ok(vec![self.apply_const("tosa.pow", x, &e, false)?]);
                };
                vec![Val {
                    id: r,
                    nhwc: x.nhwc,
                }]
            }
            "Sqrt" => {
                let x = self.input(0)?;
                let half = Const {
                    dims: vec![],
                    data: vec![0.5],
                };
                vec![self.apply_const("tosa.pow", x, &half, false)?]
            }
            "Squeeze" | "Unsqueeze" => {
                let x = self.input(0)?;
                let x = self.plain(x);
                let shape = self.shape(x);
                let axes: Vec<i64> = if self.opset >= 13 && self.node.input.len() > 1 {
                    self.konst(1)?.data.iter().map(|&v| v as i64).collect()
                } else {
                    self.ints("axes", &[])
                };
                let target: Vec<i64> = if op == "Squeeze" {
                    let rank = shape.len() as i64;
                    let axes: Vec<i64> = axes
                        .iter()
                        .map(|&a| if a < 0 { a + rank } else { a })
                        .collect();
                    shape
                        .iter()
                        .enumerate()
                        .filter(|(i, &d)| {
                            !(d == 1 && (axes.is_empty() || axes.contains(&(*i as i64))))
                        })
                        .map(|(_, &d)| d)
                        .collect()
                } else {
                    let rank = (shape.len() + axes.len()) as i64;
                    let mut axes: Vec<i64> = axes
                        .iter()
                        .map(|&a| if a < 0 { a + rank } else { a })
                        .collect();
                    axes.sort();
                    let mut t = shape.clone();
                    for a in axes {
                        t.insert((a as usize).min(t.len()), 1);
                    }
                    t
                };
                let r = self.reshape(x, &target);
                vec![Val { id: r, nhwc: false }]
            }
            "Slice" => {
                // Run-time data sliced by constant starts/ends (step 1).
                let x = self.input(0)?;
                let x = self.plain(x);
                let shape = self.shape(x);
                let rank = shape.len();
                let k = |imp: &Self, i: usize| -> Result<Option<Vec<i64>>, ImportError> {
                    match imp.node.input.get(i).filter(|n| !n.is_empty()) {
                        Some(_) => Ok(Some(imp.konst(i)?.data.iter().map(|&v| v as i64).collect())),
                        None => Ok(None),
                    }
                };
                let (starts, ends, axes, steps) = if self.opset >= 10 {
                    (
                        k(self, 1)?.unwrap_or_default(),
                        k(self, 2)?.unwrap_or_default(),
                        k(self, 3)?,
                        k(self, 4)?,
                    )
                } else {
                    (
                        self.ints("starts", &[]),
                        self.ints("ends", &[]),
                        Some(self.ints("axes", &[])).filter(|a| !a.is_empty()),
                        None,
                    )
                };
                let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
                if steps.is_some_and(|s| s.iter().any(|&v| v != 1)) {
                    return Err(self.err("Slice with steps other than 1 is not supported"));
                }
                let mut lo = vec![0i64; rank];
                let mut size = shape.clone();
                for (i, &a) in axes.iter().enumerate() {
                    let a = (if a < 0 { a + rank as i64 } else { a }) as usize;
                    if a >= rank {
                        return Err(self.err(format!("axis {a} is out of range for rank {rank}")));
                    }
                    let d = shape[a];
                    let clampi = |v: i64| (if v < 0 { v + d } else { v }).clamp(0, d);
                    lo[a] = clampi(starts[i]);
                    size[a] = (clampi(ends[i]) - lo[a]).max(0);
                }
                let st = self.const_shape(&lo);
                let sz = self.const_shape(&size);
                let r = self.push("tosa.slice", &[x, st, sz], f32t(&size), vec![]);
                vec![Val { id: r, nhwc: false }]
            }
            "Concat" => {
                let vals: Vec<Val> = (0..self.node.input.len())
                    .map(|i| self.input(i))
                    .collect::<Result<_, _>>()?;
                let rank = self.onnx_shape(vals[0]).len() as i64;
                let axis = self.int("axis", 0);
                let axis = if axis < 0 { axis + rank } else { axis };
                let nhwc = rank == 4 && vals.iter().any(|v| v.nhwc);
                let mut ids = Vec::new();
                for v in vals {
                    ids.push(if nhwc { self.nhwc(v)? } else { self.plain(v) });
                }
                let axis = if nhwc {
                    [0, 3, 1, 2][axis as usize]
                } else {
                    axis as usize
                };
                let mut out = self.shape(ids[0]);
                out[axis] = ids.iter().map(|&i| self.shape(i)[axis]).sum();
                for &i in &ids {
                    let s = self.shape(i);
                    if s.len() != out.len()
                        || s.iter()
                            .zip(&out)
                            .enumerate()
                            .any(|(k, (a, b))| k != axis && a != b)
                    {
                        return Err(self.err("inputs must match in every dimension but the axis"));
                    }
                }
                let r = self.push(
                    "tosa.concat",
                    &ids,
                    f32t(&out),
                    vec![("axis", Attr::i32(axis as i64))],
                );
                vec![Val { id: r, nhwc }]
            }
            "AveragePool" => {
                let x = self.input(0)?;
                let x = self.nhwc(x)?;
                let k = self.ints("kernel_shape", &[]);
                let s = self.ints("strides", &[1, 1]);
                let p = self.ints("pads", &[0, 0, 0, 0]);
                if k.len() != 2 || s.len() != 2 || p.len() != 4 {
                    return Err(self
                        .err("kernel_shape, strides and pads must describe 2 spatial dimensions"));
                }
                if self.int("ceil_mode", 0) != 0 {
                    return Err(self.err("ceil_mode = 1 is not supported for AveragePool"));
                }
                if self.int("count_include_pad", 0) != 0 && p.iter().any(|&v| v != 0) {
                    return Err(self.err("count_include_pad = 1 with padding is not supported"));
                }
                let mut p = p;
                let (x, xs) = self.fit_window(x, &mut p, [k[0], k[1]], &s)?;
                let oh = (xs[1] + p[0] + p[2] - k[0]) / s[0] + 1;
                let ow = (xs[2] + p[1] + p[3] - k[1]) / s[1] + 1;
                let z = self.zero_point();
                let attrs = vec![
                    ("acc_type", Attr::Raw("f32".into())),
                    ("kernel", Attr::I64s(k)),
                    ("stride", Attr::I64s(s)),
                    ("pad", Attr::I64s(vec![p[0], p[2], p[1], p[3]])),
                ];
                let r = self.push(
                    "tosa.avg_pool2d",
                    &[x, z, z],
                    f32t(&[xs[0], oh, ow, xs[3]]),
                    attrs,
                );
                vec![Val { id: r, nhwc: true }]
            }
            "Add" | "Sub" | "Mul" | "Div" => {
                let r = self.elementwise(op)?;
                vec![r]
            }
            "Tanh" | "Erf" => {
                let x = self.input(0)?;
                let r = self.unary(
                    if op == "Tanh" {
                        "tosa.tanh"
                    } else {
                        "tosa.erf"
                    },
                    x.id,
                );
                vec![Val {
                    id: r,
                    nhwc: x.nhwc,
                }]
            }
            "LeakyRelu" => {
                // max(x, 0) + alpha · min(x, 0)
                let x = self.input(0)?;
                let alpha = self.float("alpha", 0.01);
                let rank = self.shape(x.id).len();
                let a = self.constant(&vec![1; rank], &[alpha]);
                let pos = self.clamp(x.id, 0.0, f32::MAX);
                let neg = self.clamp(x.id, f32::MIN, 0.0);
                let scaled = self.binary("tosa.mul", neg, a)?;
                let r = self.binary("tosa.add", pos, scaled)?;
                vec![Val {
                    id: r,
                    nhwc: x.nhwc,
                }]
            }
            "Sum" => {
                let vals: Vec<Val> = (0..self.node.input.len())
                    .map(|i| self.input(i))
                    .collect::<Result<_, _>>()?;
                let nhwc = vals.iter().any(|v| v.nhwc)
                    && vals.iter().all(|v| self.onnx_shape(*v).len() == 4);
                let mut ids = Vec::new();
                for v in &vals {
                    ids.push(if nhwc { self.nhwc(*v)? } else { self.plain(*v) });
                }
                let mut acc = ids[0];
                for &i in &ids[1..] {
                    acc = self.binary("tosa.add", acc, i)?;
                }
                vec![Val { id: acc, nhwc }]
            }
            "ReduceMax" => vec![self.reduction("tosa.reduce_max", false)?],
            "Pad" => {
                let x = self.input(0)?;
                let x = self.plain(x);
                let shape = self.shape(x);
                let rank = shape.len();
                let mode = self.string("mode").unwrap_or_else(|| "constant".into());
                if mode != "constant" {
                    return Err(self.err(format!("mode '{mode}' is not supported (constant)")));
                }
                let (pads, value) = if self.opset >= 11 {
                    let pads: Vec<i64> = self.konst(1)?.data.iter().map(|&v| v as i64).collect();
                    let value = match self.node.input.get(2).filter(|n| !n.is_empty()) {
                        Some(_) => self.konst(2)?.data.first().copied().unwrap_or(0.0),
                        None => 0.0,
                    };
                    (pads, value)
                } else {
                    (self.ints("pads", &[]), self.float("value", 0.0))
                };
                if self.node.input.get(3).is_some_and(|n| !n.is_empty()) {
                    return Err(self.err("Pad with explicit axes is not supported"));
                }
                if pads.len() != 2 * rank || pads.iter().any(|&p| p < 0) {
                    return Err(self.err(format!(
                        "pads {pads:?} must hold {} non-negative values",
                        2 * rank
                    )));
                }
                // tosa: [begin0, end0, begin1, end1, …]
                let tosa_pads: Vec<i64> =
                    (0..rank).flat_map(|k| [pads[k], pads[rank + k]]).collect();
                let out: Vec<i64> = (0..rank)
                    .map(|k| shape[k] + pads[k] + pads[rank + k])
                    .collect();
                let ps = self.const_shape(&tosa_pads);
                let pv = self.constant(&[1], &[value]);
                let r = self.push("tosa.pad", &[x, ps, pv], f32t(&out), vec![]);
                vec![Val { id: r, nhwc: false }]
            }
            "Split" => {
                let x = self.input(0)?;
                let x = self.plain(x);
                let shape = self.shape(x);
                let rank = shape.len() as i64;
                let axis = self.int("axis", 0);
                let axis = (if axis < 0 { axis + rank } else { axis }) as usize;
                if axis >= shape.len() {
                    return Err(self.err(format!("axis {axis} is out of range for rank {rank}")));
                }
                let n = self.node.output.len() as i64;
                let sizes: Vec<i64> = if self.opset >= 13
                    && self.node.input.len() > 1
                    && !self.node.input[1].is_empty()
                {
                    self.konst(1)?.data.iter().map(|&v| v as i64).collect()
                } else if self.opset < 13 && self.attr("split").is_some() {
                    self.ints("split", &[])
                } else {
                    if shape[axis] % n != 0 {
                        return Err(
                            self.err(format!("{} does not split evenly into {n}", shape[axis]))
                        );
                    }
                    vec![shape[axis] / n; n as usize]
                };
                if sizes.len() as i64 != n || sizes.iter().sum::<i64>() != shape[axis] {
                    return Err(self.err(format!(
                        "split sizes {sizes:?} do not cover dimension {} into {n} outputs",
                        shape[axis]
                    )));
                }
                let mut outs = Vec::new();
                let mut start = 0;
                for size in sizes {
                    let mut lo = vec![0i64; shape.len()];
                    lo[axis] = start;
                    let mut sz = shape.clone();
                    sz[axis] = size;
                    let st = self.const_shape(&lo);
                    let szv = self.const_shape(&sz);
                    let r = self.push("tosa.slice", &[x, st, szv], f32t(&sz), vec![]);
                    outs.push(Val { id: r, nhwc: false });
                    start += size;
                }
                outs
            }
            "ConvTranspose" => {
                let x = self.input(0)?;
                let x = self.nhwc(x)?;
                let w = self.konst(1)?;
                if w.dims.len() != 4 {
                    return Err(self.err("only 2-D ConvTranspose is supported"));
                }
                if self.ints("kernel_shape", &w.dims[2..]) != w.dims[2..] {
                    return Err(self.err("kernel_shape contradicts the weights"));
                }
                if self.int("group", 1) != 1 || self.ints("dilations", &[1, 1]) != [1, 1] {
                    return Err(self.err("only group 1 and dilation 1 are supported"));
                }
                if self.attr("output_shape").is_some()
                    || !matches!(self.string("auto_pad").as_deref(), None | Some("NOTSET"))
                {
                    return Err(self.err("output_shape and auto_pad are not supported (give pads and output_padding)"));
                }
                let [ic, oc, kh, kw] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
                let xs = self.shape(x);
                if xs[3] != ic {
                    return Err(
                        self.err(format!("input has {} channels, weights expect {ic}", xs[3]))
                    );
                }
                let s = self.ints("strides", &[1, 1]);
                let p = self.ints("pads", &[0, 0, 0, 0]);
                let op_ = self.ints("output_padding", &[0, 0]);
                let ohwi = to_ohwi(&w.data, [oc, ic, kh, kw], true);
                let bias = if self.node.input.len() > 2 && !self.node.input[2].is_empty() {
                    self.konst(2)?.data
                } else {
                    vec![0.0; oc as usize]
                };
                // tosa: out = (in − 1)·stride + out_pad_before + out_pad_after + k
                let out_pad = vec![-p[0], -p[2] + op_[0], -p[1], -p[3] + op_[1]];
                let oh = (xs[1] - 1) * s[0] + out_pad[0] + out_pad[1] + kh;
                let ow = (xs[2] - 1) * s[1] + out_pad[2] + out_pad[3] + kw;
                let wv = self.constant(&[oc, kh, kw, ic], &ohwi);
                let bv = self.constant(&[oc], &bias);
                let z = self.zero_point();
                let attrs = vec![
                    ("acc_type", Attr::Raw("f32".into())),
                    ("out_pad", Attr::I64s(out_pad)),
                    ("stride", Attr::I64s(s)),
                ];
                let r = self.push(
                    "tosa.transpose_conv2d",
                    &[x, wv, bv, z, z],
                    f32t(&[xs[0], oh, ow, oc]),
                    attrs,
                );
                vec![Val { id: r, nhwc: true }]
            }
            "Resize" => {
                let x = self.input(0)?;
                let x = self.nhwc(x)?;
                let xs = self.shape(x);
                if self.opset < 11 {
                    return Err(self.err("Resize before opset 11 is not supported"));
                }
                let mode = self.string("mode").unwrap_or_else(|| "nearest".into());
                let ctm = self
                    .string("coordinate_transformation_mode")
                    .unwrap_or_else(|| "half_pixel".into());
                let nearest = self
                    .string("nearest_mode")
                    .unwrap_or_else(|| "round_prefer_floor".into());
                let has = |i: usize| self.node.input.get(i).is_some_and(|n| !n.is_empty());
                // Per spatial dimension: (input, output, scale numerator, denominator).
                let (onnx_in, mut dims) = (self.onnx_shape(Val { id: x, nhwc: true }), Vec::new());
                if has(3) {
                    let sizes: Vec<i64> = self.konst(3)?.data.iter().map(|&v| v as i64).collect();
                    if sizes.len() != 4 || sizes[0] != onnx_in[0] || sizes[1] != onnx_in[1] {
                        return Err(
                            self.err(format!("sizes {sizes:?} must keep N and C of {onnx_in:?}"))
                        );
                    }
                    for k in 2..4 {
                        dims.push((onnx_in[k], sizes[k], sizes[k], onnx_in[k]));
                    }
                } else if has(2) {
                    let scales = self.konst(2)?.data;
                    if scales.len() != 4 || scales[0] != 1.0 || scales[1] != 1.0 {
                        return Err(self.err(format!("scales {scales:?} must be 1 for N and C")));
                    }
                    for k in 2..4 {
                        let (n, d) = (1..=64)
                            .find_map(|d| {
                                let n = (scales[k] as f64 * d as f64).round() as i64;
                                (n > 0 && (n as f32 / d as f32) == scales[k]).then_some((n, d))
                            })
                            .ok_or_else(|| {
                                self.err(format!(
                                    "scale {} is not a ratio of small integers",
                                    scales[k]
                                ))
                            })?;
                        dims.push((
                            onnx_in[k],
                            (onnx_in[k] as f64 * scales[k] as f64).floor() as i64,
                            n,
                            d,
                        ));
                    }
                } else {
                    return Err(self.err("Resize needs scales or sizes"));
                }
                let tosa_mode = match mode.as_str() {
                    "nearest" => "NEAREST_NEIGHBOR",
                    "linear" => "BILINEAR",
                    m => {
                        return Err(
                            self.err(format!("mode '{m}' is not supported (nearest, linear)"))
                        )
                    }
                };
                let (mut scale, mut offset, mut border) = (Vec::new(), Vec::new(), Vec::new());
                for &(i, o, n, d) in &dims {
                    // Doubled so half-pixel offsets and nearest-mode shifts are integers.
                    let (n2, d2) = (2 * n, 2 * d);
                    let (n2, d2, off) = match ctm.as_str() {
                        "asymmetric" => (n2, d2, 0),
                        "half_pixel" | "pytorch_half_pixel" if o > 1 || ctm == "half_pixel" => (n2, d2, d - n),
                        "pytorch_half_pixel" => (2, 2, 0),
                        "align_corners" if o > 1 && i > 1 => (2 * (o - 1), 2 * (i - 1), 0),
                        "align_corners" => (2, 2, 0),
                        m => return Err(self.err(format!("coordinate_transformation_mode '{m}' is not supported (asymmetric, half_pixel, pytorch_half_pixel, align_corners)"))),
                    };
                    // tosa nearest rounds half up; shift the offset for the other ONNX roundings.
                    let off = if mode == "nearest" {
                        match nearest.as_str() {
                            "round_prefer_ceil" => off,
                            "round_prefer_floor" => off - 1,
                            "floor" => off - n2 / 2,
                            "ceil" => off + n2 / 2 - 1,
                            m => {
                                return Err(self.err(format!("nearest_mode '{m}' is not supported")))
                            }
                        }
                    } else {
                        off
                    };
                    scale.extend([n2, d2]);
                    offset.push(off);
                    border.push((o - 1) * d2 - (i - 1) * n2 + off);
                }
                let (sv, ov, bv) = (
                    self.const_shape(&scale),
                    self.const_shape(&offset),
                    self.const_shape(&border),
                );
                let out = [xs[0], dims[0].1, dims[1].1, xs[3]];
                let r = self.push(
                    "tosa.resize",
                    &[x, sv, ov, bv],
                    f32t(&out),
                    vec![("mode", Attr::Raw(format!("#tosa.resize_mode<{tosa_mode}>")))],
                );
                vec![Val { id: r, nhwc: true }]
            }
            "Sigmoid" => {
                let x = self.input(0)?;
                let r = self.unary("tosa.sigmoid", x.id);
                vec![Val {
                    id: r,
                    nhwc: x.nhwc,
                }]
            }
            "Clip" => {
                let x = self.input(0)?;
                let bound =
                    |imp: &Self, i: usize, attr: &str, default: f32| -> Result<f32, ImportError> {
                        if imp.opset >= 11 {
                            match imp.node.input.get(i).filter(|n| !n.is_empty()) {
                                Some(_) => imp
                                    .konst(i)?
                                    .data
                                    .first()
                                    .copied()
                                    .ok_or_else(|| imp.err("empty Clip bound")),
                                None => Ok(default),
                            }
                        } else {
                            Ok(imp.float(attr, default))
                        }
                    };
                let (lo, hi) = (
                    bound(self, 1, "min", f32::MIN)?,
                    bound(self, 2, "max", f32::MAX)?,
                );
                let r = self.clamp(x.id, lo, hi);
                vec![Val {
                    id: r,
                    nhwc: x.nhwc,
                }]
            }
            "HardSigmoid" => {
                // clamp(alpha·x + beta, 0, 1)
                let x = self.input(0)?;
                let (alpha, beta) = (self.float("alpha", 0.2), self.float("beta", 0.5));
                let rank = self.shape(x.id).len();
                let a = self.constant(&vec![1; rank], &[alpha]);
                let b = self.constant(&vec![1; rank], &[beta]);
                let ax = self.binary("tosa.mul", x.id, a)?;
                let axb = self.binary("tosa.add", ax, b)?;
                let r = self.clamp(axb, 0.0, 1.0);
                vec![Val {
                    id: r,
                    nhwc: x.nhwc,
                }]
            }
            "BatchNormalization" => {
                // Inference form: y = x·a + b, a = scale/√(var+ε), b = bias − mean·a, per channel.
                let x = self.input(0)?;
                let (scale, bias, mean, var) = (
                    self.konst(1)?,
                    self.konst(2)?,
                    self.konst(3)?,
                    self.konst(4)?,
                );
                let eps = self.float("epsilon", 1e-5);
                let c = scale.data.len();
                if [&bias, &mean, &var].iter().any(|t| t.data.len() != c) {
                    return Err(
                        self.err("scale, bias, mean and var must have one value per channel")
                    );
                }
                let a: Vec<f32> = (0..c)
                    .map(|i| scale.data[i] / (var.data[i] + eps).sqrt())
                    .collect();
                let b: Vec<f32> = (0..c).map(|i| bias.data[i] - mean.data[i] * a[i]).collect();
                let rank = self.onnx_shape(x).len();
                let mut dims = vec![1i64; rank];
                if rank > 1 {
                    dims[1] = c as i64;
                }
                let ac = Const {
                    dims: dims.clone(),
                    data: a,
                };
                let bc = Const { dims, data: b };
                let y = self.apply_const("tosa.mul", x, &ac, false)?;
                let r = self.apply_const("tosa.add", y, &bc, false)?;
                // The normalised output's statistics (mean β, standard deviation |γ| per
                // channel), which data-free ranges start from.
                let stats = |v: Vec<f32>| Attr::dense_f32(f32t(&[c as i64]), &v);
                if let Some(op) = self.f.ops.iter_mut().rev().find(|o| o.results[0] == r.id) {
                    op.attrs
                        .insert("nibble.bn_mean".into(), stats(bias.data.clone()));
                    op.attrs.insert(
                        "nibble.bn_std".into(),
                        stats(scale.data.iter().map(|g| g.abs()).collect()),
                    );
                }
                vec![r]
            }
            "GlobalAveragePool" => {
                let x = self.input(0)?;
                let x = self.nhwc(x)?;
                let xs = self.shape(x);
                let z = self.zero_point();
                let attrs = vec![
                    ("acc_type", Attr::Raw("f32".into())),
                    ("kernel", Attr::I64s(vec![xs[1], xs[2]])),
                    ("stride", Attr::I64s(vec![1, 1])),
                    ("pad", Attr::I64s(vec![0, 0, 0, 0])),
                ];
                let r = self.push(
                    "tosa.avg_pool2d",
                    &[x, z, z],
                    f32t(&[xs[0], 1, 1, xs[3]]),
                    attrs,
                );
                vec![Val { id: r, nhwc: true }]
            }
            "Reshape" => {
                let x = self.input(0)?;
                let x = self.plain(x);
                let shape: Vec<i64> = self.konst(1)?.data.iter().map(|&v| v as i64).collect();
                let target = self.reshape_target(&self.shape(x), &shape)?;
                let r = self.reshape(x, &target);
                vec![Val { id: r, nhwc: false }]
            }
            "If" | "Loop" | "Scan" => {
                return Err(self.err(
                    "control flow with subgraphs is not supported (nibble compiles static graphs)",
                ));
            }
            o if o.starts_with("Sequence")
                || o == "SplitToSequence"
                || o == "ConcatFromSequence" =>
            {
                return Err(self.err("sequence types are not supported"));
            }
            "Shape" | "Cast" | "Gather" | "Floor" => {
                return Err(self.err("only shape computations on constants are supported (they are folded at import); this one depends on run-time values"));
            }
            _ => {
                return Err(ImportError::UnsupportedOp {
                    op: op.to_string(),
                    node: self.label(),
                })
            }
        })
    }
}

impl<'a> Importer<'a> {
    /// `a[N,K] · b[K,M] (+ bias[M])` as tosa.matmul on rank 3 plus tosa.add.
    fn matmul_const(
        &mut self,
        a: ValueId,
        b: &Const,
        bias: Option<&[f32]>,
    ) -> Result<ValueId, ImportError> {
        let sa = self.shape(a);
        let (k, m) = (b.dims[0], b.dims[1]);
        if sa[1] != k {
            return Err(self.err(format!("A has {} columns, B has {k} rows", sa[1])));
        }
        let a3 = self.reshape(a, &[1, sa[0], k]);
        let bv = self.constant(&[1, k, m], &b.data);
        let z = self.zero_point();
        let mm = self.push("tosa.matmul", &[a3, bv, z, z], f32t(&[1, sa[0], m]), vec![]);
        let mm2 = self.reshape(mm, &[sa[0], m]);
        Ok(match bias {
            Some(c) => {
                let cv = self.constant(&[1, m], c);
                self.push("tosa.add", &[mm2, cv], f32t(&[sa[0], m]), vec![])
            }
            None => mm2,
        })
    }

    /// ReduceMean (`mean`: a sum times 1/n) or ReduceMax over `axes` (attribute, or input from
    /// opset 18), one tosa reduction per axis, then `keepdims = 0` as a reshape.
    fn reduction(&mut self, name: &str, mean: bool) -> Result<Val, ImportError> {
        let x = self.input(0)?;
        let x = self.plain(x);
        let shape = self.shape(x);
        let rank = shape.len() as i64;
        let axes = if self.opset >= 18 && self.node.input.len() > 1 {
            self.konst(1)?.data.iter().map(|&v| v as i64).collect()
        } else {
            self.ints("axes", &(0..rank).collect::<Vec<_>>())
        };
        let mut axes: Vec<usize> = axes
            .iter()
            .map(|&a| (if a < 0 { a + rank } else { a }) as usize)
            .collect();
        axes.sort();
        axes.dedup();
        let (mut r, mut count) = (x, 1);
        for &a in &axes {
            if a >= shape.len() {
                return Err(self.err(format!("axis {a} is out of range for rank {rank}")));
            }
            count *= shape[a];
            r = self.reduce(name, r, a);
        }
        if mean {
            let inv = self.constant(&vec![1; shape.len()], &[1.0 / count as f32]);
            r = self.binary("tosa.mul", r, inv)?;
        }
        if self.int("keepdims", 1) == 0 {
            let kept: Vec<i64> = self
                .shape(r)
                .iter()
                .enumerate()
                .filter(|(i, _)| !axes.contains(i))
                .map(|(_, &d)| d)
                .collect();
            r = self.reshape(r, &kept);
        }
        Ok(Val { id: r, nhwc: false })
    }

    /// MatMul: activation × constant matrix (leading dimensions flattened), or activation ×
    /// activation with equal batch dimensions (as one batched tosa.matmul).
    fn matmul(&mut self) -> Result<ValueId, ImportError> {
        let a = self.input(0)?;
        let a = self.plain(a);
        let sa = self.shape(a);
        if sa.len() < 2 {
            return Err(self.err("MatMul needs operands of rank 2 or more"));
        }
        let bname = self.node.input.get(1).cloned().unwrap_or_default();
        if let Some(b) = self.consts.get(&bname).cloned() {
            if b.dims.len() != 2 {
                return Err(self.err(format!(
                    "a constant MatMul operand must be 2-D, got {:?}",
                    b.dims
                )));
            }
            let k = *sa.last().unwrap_or(&0);
            let n: i64 = sa[..sa.len() - 1].iter().product();
            let a2 = if sa.len() == 2 {
                a
            } else {
                self.reshape(a, &[n, k])
            };
            let r = self.matmul_const(a2, &b, None)?;
            let mut out = sa.clone();
            *out.last_mut().unwrap_or(&mut 0) = b.dims[1];
            return Ok(if sa.len() == 2 {
                r
            } else {
                self.reshape(r, &out)
            });
        }
        let b = self.input(1)?;
        let b = self.plain(b);
        let sb = self.shape(b);
        let r = sa.len();
        if sb.len() != r || sa[..r - 2] != sb[..r - 2] || sa[r - 1] != sb[r - 2] {
            return Err(self.err(format!(
                "MatMul shapes {sa:?} x {sb:?} are not supported (equal batch dimensions needed)"
            )));
        }
        let batch: i64 = sa[..r - 2].iter().product();
        let (m, k, n) = (sa[r - 2], sa[r - 1], sb[r - 1]);
        let a3 = self.reshape(a, &[batch, m, k]);
        let b3 = self.reshape(b, &[batch, k, n]);
        let z = self.zero_point();
        let mm = self.push("tosa.matmul", &[a3, b3, z, z], f32t(&[batch, m, n]), vec![]);
        let mut out = sa[..r - 2].to_vec();
        out.extend([m, n]);
        Ok(self.reshape(mm, &out))
    }

    /// A constant in the layout of `like`: broadcast to its rank (ONNX rules), then NHWC if it is.
    fn const_like(&mut self, c: &Const, like: Val) -> Result<ValueId, ImportError> {
        let rank = self.onnx_shape(like).len();
        if c.dims.len() > rank {
            return Err(self.err(format!(
                "constant of shape {:?} has a higher rank than the activation",
                c.dims
            )));
        }
        let mut dims: Vec<i64> = std::iter::repeat_n(1, rank - c.dims.len())
            .chain(c.dims.iter().copied())
            .collect();
        let mut data = c.data.clone();
        if like.nhwc {
            // NCHW -> NHWC
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
                            t[((a * h + y) * w + x) * ch + b] =
                                data[((a * ch + b) * h + y) * w + x];
                        }
                    }
                }
            }
            data = t;
            dims = vec![dims[0], dims[2], dims[3], dims[1]];
        }
        Ok(self.constant(&dims, &data))
    }

    /// `x op c` (or `c op x` when `const_first`) for an activation and a constant.
    fn apply_const(
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

    /// Add/Sub/Mul/Div with numpy broadcasting; division by a constant becomes multiplication
    /// by its reciprocal, division by an activation a reciprocal and a multiplication.
    fn elementwise(&mut self, op: &str) -> Result<Val, ImportError> {
        let name = match op {
            "Add" => "tosa.add",
            "Sub" => "tosa.sub",
            _ => "tosa.mul",
        };
        let input_name = |i: usize| self.node.input.get(i).cloned().unwrap_or_default();
        let (na, nb) = (input_name(0), input_name(1));
        let (ca, cb) = (self.consts.get(&na).cloned(), self.consts.get(&nb).cloned());
        match (ca, cb) {
            (None, Some(mut c)) => {
                let x = self.input(0)?;
                if op == "Div" {
                    c.data.iter_mut().for_each(|v| *v = 1.0 / *v);
                }
                self.apply_const(name, x, &c, false)
            }
            (Some(c), None) => {
                let x = self.input(1)?;
                if op == "Div" {
                    let inv = self.unary("tosa.reciprocal", x.id);
                    return self.apply_const(
                        name,
                        Val {
                            id: inv,
                            nhwc: x.nhwc,
                        },
                        &c,
                        true,
                    );
                }
                self.apply_const(name, x, &c, true)
            }
            _ => {
                let (a, b) = (self.input(0)?, self.input(1)?);
                let (mut ra, mut rb) = (self.onnx_shape(a).len(), self.onnx_shape(b).len());
                let (a, b) = if a.nhwc || b.nhwc {
                    if ra != 4 || rb != 4 {
                        return Err(
                            self.err("mixing 4-D and lower-rank activations is not supported")
                        );
                    }
                    (
                        Val {
                            id: self.nhwc(a)?,
                            nhwc: true,
                        },
                        Val {
                            id: self.nhwc(b)?,
                            nhwc: true,
                        },
                    )
                } else {
                    (a, b)
                };
                let (mut ia, mut ib) = (a.id, b.id);
                // Equal ranks for tosa: prepend size-1 dimensions.
                while ra < rb {
                    let mut s = self.shape(ia);
                    s.insert(0, 1);
                    ia = self.reshape(ia, &s);
                    ra += 1;
                }
                while rb < ra {
                    let mut s = self.shape(ib);
                    s.insert(0, 1);
                    ib = self.reshape(ib, &s);
                    rb += 1;
                }
                if op == "Div" {
                    ib = self.unary("tosa.reciprocal", ib);
                }
                let r = self.binary(name, ia, ib)?;
                Ok(Val {
                    id: r,
                    nhwc: a.nhwc,
                })
            }
        }
    }

    /// tosa needs windows to tile the padded input exactly; ONNX floors. Trailing rows/columns
    /// no window reads are dropped: first from the end padding (`pads` in ONNX order
    /// [top, left, bottom, right]), then by slicing the input. Returns the input and its shape.
    fn fit_window(
        &mut self,
        x: ValueId,
        pads: &mut [i64],
        window: [i64; 2],
        strides: &[i64],
    ) -> Result<(ValueId, Vec<i64>), ImportError> {
        let xs = self.shape(x);
        let mut keep = [xs[1], xs[2]];
        for d in 0..2 {
            let span = xs[1 + d] + pads[d] + pads[2 + d] - window[d];
            if span < 0 {
                return Err(self.err("the window is larger than the padded input"));
            }
            let mut excess = span % strides[d];
            let cut = excess.min(pads[2 + d]);
            pads[2 + d] -= cut;
            excess -= cut;
            keep[d] -= excess;
        }
        if keep == [xs[1], xs[2]] {
            return Ok((x, xs));
        }
        let start = self.const_shape(&[0, 0, 0, 0]);
        let size = self.const_shape(&[xs[0], keep[0], keep[1], xs[3]]);
        let sliced = self.push(
            "tosa.slice",
            &[x, start, size],
            f32t(&[xs[0], keep[0], keep[1], xs[3]]),
            vec![],
        );
        Ok((sliced, self.shape(sliced)))
    }

    /// A 2-D convolution (group 1) of NHWC `x` with OIHW weights `w` and `bias`, the node's
    /// strides, pads, dilations and auto_pad.
    fn conv2d(&mut self, x: ValueId, w: &Const, bias: &[f32]) -> Result<ValueId, ImportError> {
        let [oc, ic, kh, kw] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
        let xs = self.shape(x);
        if xs[3] != ic {
            return Err(self.err(format!("input has {} channels, weights expect {ic}", xs[3])));
        }
        if bias.len() as i64 != oc {
            return Err(self.err(format!("bias has {} elements, expected {oc}", bias.len())));
        }
        let strides = self.ints("strides", &[1, 1]);
        let dil = self.ints("dilations", &[1, 1]);
        let mut pads = self.ints("pads", &[0, 0, 0, 0]);
        match self.string("auto_pad").as_deref() {
            None | Some("NOTSET") | Some("VALID") => {}
            Some(p) => {
                return Err(self.err(format!("auto_pad = {p} is not supported (NOTSET, VALID)")))
            }
        }
        if self.string("auto_pad").as_deref() == Some("VALID") {
            pads = vec![0, 0, 0, 0];
        }
        if strides.len() != 2 || dil.len() != 2 || pads.len() != 4 {
            return Err(self.err("strides, dilations and pads must describe 2 spatial dimensions"));
        }
        let ohwi = to_ohwi(&w.data, [oc, ic, kh, kw], false);
        let (x, xs, oh, ow) = self.conv_window(x, &mut pads, [kh, kw], &dil, &strides)?;
        let wv = self.constant(&[oc, kh, kw, ic], &ohwi);
        let bv = self.constant(&[oc], bias);
        let z = self.zero_point();
        let attrs = vec![
            ("acc_type", Attr::Raw("f32".into())),
            ("pad", Attr::I64s(vec![pads[0], pads[2], pads[1], pads[3]])),
            ("stride", Attr::I64s(strides)),
            ("dilation", Attr::I64s(dil)),
        ];
        Ok(self.push(
            "tosa.conv2d",
            &[x, wv, bv, z, z],
            f32t(&[xs[0], oh, ow, oc]),
            attrs,
        ))
    }

    /// The input a convolution window of `kernel` taps (dilated) reads after `fit_window`, and
    /// the output height and width; an empty output is an error.
    fn conv_window(
        &mut self,
        x: ValueId,
        pads: &mut [i64],
        kernel: [i64; 2],
        dil: &[i64],
        strides: &[i64],
    ) -> Result<(ValueId, Vec<i64>, i64, i64), ImportError> {
        let span = [dil[0] * (kernel[0] - 1) + 1, dil[1] * (kernel[1] - 1) + 1];
        let (x, xs) = self.fit_window(x, pads, span, strides)?;
        let oh = (xs[1] + pads[0] + pads[2] - span[0]) / strides[0] + 1;
        let ow = (xs[2] + pads[1] + pads[3] - span[1]) / strides[1] + 1;
        if oh <= 0 || ow <= 0 {
            return Err(self.err("the output would be empty"));
        }
        Ok((x, xs, oh, ow))
    }

    /// A grouped convolution as `group` convolutions over channel slices, concatenated.
    fn grouped_conv(
        &mut self,
        x: ValueId,
        w: &Const,
        bias: &[f32],
        group: i64,
    ) -> Result<ValueId, ImportError> {
        let xs = self.shape(x);
        let [oc, icg] = [w.dims[0], w.dims[1]];
        if group <= 0 || xs[3] != icg * group || oc % group != 0 || bias.len() as i64 != oc {
            return Err(self.err(format!(
                "group = {group}: input channels {} must be group × {icg} and output channels {oc} a multiple of group",
                xs[3]
            )));
        }
        let ocg = oc / group;
        let per = (w.data.len() as i64 / oc) as usize;
        let mut parts = Vec::new();
        for g in 0..group {
            let start = self.const_shape(&[0, 0, 0, g * icg]);
            let size = self.const_shape(&[xs[0], xs[1], xs[2], icg]);
            let xg = self.push(
                "tosa.slice",
                &[x, start, size],
                f32t(&[xs[0], xs[1], xs[2], icg]),
                vec![],
            );
            let (o0, o1) = ((g * ocg) as usize, ((g + 1) * ocg) as usize);
            let wg = Const {
                dims: vec![ocg, icg, w.dims[2], w.dims[3]],
                data: w.data[o0 * per..o1 * per].to_vec(),
            };
            parts.push(self.conv2d(xg, &wg, &bias[o0..o1])?);
        }
        let mut out = self.shape(parts[0]);
        out[3] = oc;
        Ok(self.push(
            "tosa.concat",
            &parts,
            f32t(&out),
            vec![("axis", Attr::i32(3))],
        ))
    }

    /// Depthwise convolution (group = input channels), as tosa.depthwise_conv2d.
    fn depthwise_conv(
        &mut self,
        x: ValueId,
        w: &Const,
        group: i64,
    ) -> Result<Vec<Val>, ImportError> {
        let xs = self.shape(x);
        let [oc, icg, kh, kw] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
        if group != xs[3] || icg != 1 || oc % group != 0 {
            return Err(self.err(format!("group = {group} is supported only as a depthwise convolution (group = input channels = {})", xs[3])));
        }
        let mult = oc / group;
        // [OC, 1, KH, KW] -> [KH, KW, C, M] with oc = c·M + m.
        let mut hwcm = vec![0.0f32; w.data.len()];
        for c in 0..group {
            for m in 0..mult {
                for y in 0..kh {
                    for xk in 0..kw {
                        hwcm[(((y * kw + xk) * group + c) * mult + m) as usize] =
                            w.data[((((c * mult + m) * kh) + y) * kw + xk) as usize];
                    }
                }
            }
        }
        let bias = if self.node.input.len() > 2 && !self.node.input[2].is_empty() {
            self.konst(2)?.data
        } else {
            vec![0.0; oc as usize]
        };
        let strides = self.ints("strides", &[1, 1]);
        let dil = self.ints("dilations", &[1, 1]);
        let mut pads = self.ints("pads", &[0, 0, 0, 0]);
        if !matches!(self.string("auto_pad").as_deref(), None | Some("NOTSET")) {
            return Err(self.err("auto_pad is not supported on depthwise convolutions"));
        }
        if strides.len() != 2 || dil.len() != 2 || pads.len() != 4 {
            return Err(self.err("strides, dilations and pads must describe 2 spatial dimensions"));
        }
        let (x, xs, oh, ow) = self.conv_window(x, &mut pads, [kh, kw], &dil, &strides)?;
        let wv = self.constant(&[kh, kw, group, mult], &hwcm);
        let bv = self.constant(&[oc], &bias);
        let z = self.zero_point();
        let attrs = vec![
            ("acc_type", Attr::Raw("f32".into())),
            ("pad", Attr::I64s(vec![pads[0], pads[2], pads[1], pads[3]])),
            ("stride", Attr::I64s(strides)),
            ("dilation", Attr::I64s(dil)),
        ];
        let r = self.push(
            "tosa.depthwise_conv2d",
            &[x, wv, bv, z, z],
            f32t(&[xs[0], oh, ow, oc]),
            attrs,
        );
        Ok(vec![Val { id: r, nhwc: true }])
    }
}

/// numpy broadcasting of two constants with `op`.
fn broadcast_const(a: &Const, b: &Const, op: impl Fn(f32, f32) -> f32) -> Result<Const, String> {
    let rank = a.dims.len().max(b.dims.len());
    let pad = |d: &[i64]| -> Vec<i64> {
        std::iter::repeat_n(1, rank - d.len())
            .chain(d.iter().copied())
            .collect()
    };
    let (da, db) = (pad(&a.dims), pad(&b.dims));
    let mut out = Vec::with_capacity(rank);
    for (&x, &y) in da.iter().zip(&db) {
        if x != y && x != 1 && y != 1 {
            return Err(format!(
                "shapes {:?} and {:?} do not broadcast",
                a.dims, b.dims
            ));
        }
        out.push(x.max(y));
    }
    let strides = |d: &[i64]| {
        let mut st = vec![0i64; rank];
        let mut acc = 1;
        for k in (0..rank).rev() {
            st[k] = if d[k] == 1 { 0 } else { acc };
            acc *= d[k];
        }
        st
    };
    let (sa, sb) = (strides(&da), strides(&db));
    let n: i64 = out.iter().product();
    let mut data = Vec::with_capacity(n as usize);
    let mut idx = vec![0i64; rank];
    for _ in 0..n {
        let ia: i64 = idx.iter().zip(&sa).map(|(i, s)| i * s).sum();
        let ib: i64 = idx.iter().zip(&sb).map(|(i, s)| i * s).sum();
        data.push(op(a.data[ia as usize], b.data[ib as usize]));
        for k in (0..rank).rev() {
            idx[k] += 1;
            if idx[k] < out[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    Ok(Const { dims: out, data })
}

impl<'a> Importer<'a> {
    /// The ONNX-layout shape of a value.
    fn onnx_shape(&self, v: Val) -> Vec<i64> {
        let s = self.shape(v.id);
        if v.nhwc {
            vec![s[0], s[3], s[1], s[2]]
        } else {
            s
        }
    }

    /// Constant inputs of the node, or None if any input is computed at run time.
    fn const_inputs(&self) -> Option<Vec<Option<Const>>> {
        self.node
            .input
            .iter()
            .map(|n| {
                if n.is_empty() {
                    Some(None)
                } else {
                    self.consts.get(n).cloned().map(Some)
                }
            })
            .collect()
    }

    /// Folds shape computations whose inputs are all known; None if the node must run.
    fn fold(&self) -> Result<Option<Vec<Const>>, ImportError> {
        let op = self.node.op_type();
        if op == "Shape" {
            let name = self
                .node
                .input
                .first()
                .ok_or_else(|| self.err("Shape needs an input"))?;
            let dims = match (self.vals.get(name), self.consts.get(name)) {
                (Some(&v), _) => self.onnx_shape(v),
                (None, Some(c)) => c.dims.clone(),
                _ => {
                    return Err(self.err(format!("input '{name}' is not defined before this node")))
                }
            };
            let data: Vec<f32> = dims.iter().map(|&d| d as f32).collect();
            return Ok(Some(vec![Const {
                dims: vec![data.len() as i64],
                data,
            }]));
        }
        const FOLDABLE: &[&str] = &[
            "Cast",
            "Slice",
            "Concat",
            "Gather",
            "Unsqueeze",
            "Squeeze",
            "Reshape",
            "Add",
            "Sub",
            "Mul",
            "Div",
            "Identity",
            "Floor",
        ];
        if !FOLDABLE.contains(&op) {
            return Ok(None);
        }
        let Some(inputs) = self.const_inputs() else {
            return Ok(None);
        };
        let get = |i: usize| {
            inputs
                .get(i)
                .cloned()
                .flatten()
                .ok_or_else(|| self.err(format!("input {i} is missing")))
        };
        let ints = |c: &Const| -> Vec<i64> { c.data.iter().map(|&v| v as i64).collect() };
        let axes_of = |i: usize, attr: &str| -> Result<Vec<i64>, ImportError> {
            if self.opset >= 13 {
                Ok(inputs
                    .get(i)
                    .cloned()
                    .flatten()
                    .map(|c| ints(&c))
                    .unwrap_or_default())
            } else {
                Ok(self.ints(attr, &[]))
            }
        };
        let out = match op {
            "Identity" => get(0)?,
            "Cast" => {
                let x = get(0)?;
                let to = self.int("to", 1);
                // Integer targets truncate toward zero; float targets keep the values.
                let data = if matches!(to, 2..=7 | 12 | 13) {
                    x.data.iter().map(|v| v.trunc()).collect()
                } else {
                    x.data
                };
                Const { dims: x.dims, data }
            }
            "Floor" => {
                let x = get(0)?;
                Const {
                    dims: x.dims,
                    data: x.data.iter().map(|v| v.floor()).collect(),
                }
            }
            "Add" | "Sub" | "Mul" | "Div" => {
                let (a, b) = (get(0)?, get(1)?);
                let f: fn(f32, f32) -> f32 = match op {
                    "Add" => |x, y| x + y,
                    "Sub" => |x, y| x - y,
                    "Mul" => |x, y| x * y,
                    _ => |x, y| x / y,
                };
                broadcast_const(&a, &b, f).map_err(|m| self.err(m))?
            }
            "Reshape" => {
                let (x, shape) = (get(0)?, get(1)?);
                let target = self.reshape_target(&x.dims, &ints(&shape))?;
                Const {
                    dims: target,
                    data: x.data,
                }
            }
            "Unsqueeze" => {
                let x = get(0)?;
                let rank = x.dims.len() as i64 + axes_of(1, "axes")?.len() as i64;
                let mut axes: Vec<i64> = axes_of(1, "axes")?
                    .iter()
                    .map(|&a| if a < 0 { a + rank } else { a })
                    .collect();
                axes.sort();
                let mut dims = x.dims.clone();
                for a in axes {
                    if a < 0 || a as usize > dims.len() {
                        return Err(self.err(format!("axis {a} is out of range")));
                    }
                    dims.insert(a as usize, 1);
                }
                Const { dims, data: x.data }
            }
            "Squeeze" => {
                let x = get(0)?;
                let rank = x.dims.len() as i64;
                let axes: Vec<i64> = axes_of(1, "axes")?
                    .iter()
                    .map(|&a| if a < 0 { a + rank } else { a })
                    .collect();
                let dims = x
                    .dims
                    .iter()
                    .enumerate()
                    .filter(|(i, &d)| !(d == 1 && (axes.is_empty() || axes.contains(&(*i as i64)))))
                    .map(|(_, &d)| d)
                    .collect();
                Const { dims, data: x.data }
            }
            "Concat" => {
                let parts: Vec<Const> = inputs.iter().flatten().cloned().collect();
                let rank = parts.first().map(|p| p.dims.len()).unwrap_or(0) as i64;
                let axis = self.int("axis", 0);
                let axis = (if axis < 0 { axis + rank } else { axis }) as usize;
                if parts.iter().any(|p| p.dims.len() as i64 != rank) || axis as i64 >= rank {
                    return Err(
                        self.err("inputs must share the rank, and the axis must be within it")
                    );
                }
                let outer: i64 = parts[0].dims[..axis].iter().product();
                let mut dims = parts[0].dims.clone();
                dims[axis] = parts.iter().map(|p| p.dims[axis]).sum();
                let mut data = Vec::new();
                for o in 0..outer as usize {
                    for p in &parts {
                        let chunk: i64 = p.dims[axis..].iter().product();
                        data.extend_from_slice(&p.data[o * chunk as usize..][..chunk as usize]);
                    }
                }
                Const { dims, data }
            }
            "Gather" => {
                let (x, idx) = (get(0)?, get(1)?);
                let axis = self.int("axis", 0);
                if axis != 0 {
                    return Err(self.err("constant Gather is supported on axis 0"));
                }
                let rows = x.dims.first().copied().unwrap_or(1);
                let row: i64 = x.dims.iter().skip(1).product();
                let mut data = Vec::new();
                for i in ints(&idx) {
                    let i = if i < 0 { i + rows } else { i };
                    if i < 0 || i >= rows {
                        return Err(self.err(format!("index {i} is out of range for {rows} rows")));
                    }
                    data.extend_from_slice(&x.data[(i * row) as usize..][..row as usize]);
                }
                let dims = idx
                    .dims
                    .iter()
                    .chain(x.dims.iter().skip(1))
                    .copied()
                    .collect();
                Const { dims, data }
            }
            "Slice" => {
                let x = get(0)?;
                let (starts, ends, axes, steps) = if self.opset >= 10 {
                    let opt = |i: usize| inputs.get(i).cloned().flatten().map(|c| ints(&c));
                    (ints(&get(1)?), ints(&get(2)?), opt(3), opt(4))
                } else {
                    (
                        self.ints("starts", &[]),
                        self.ints("ends", &[]),
                        Some(self.ints("axes", &[])).filter(|a| !a.is_empty()),
                        None,
                    )
                };
                let rank = x.dims.len();
                let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
                let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
                let (mut lo, mut hi, mut st): (Vec<i64>, Vec<i64>, Vec<i64>) =
                    (vec![0; rank], x.dims.clone(), vec![1; rank]);
                for (k, &a) in axes.iter().enumerate() {
                    let a = (if a < 0 { a + rank as i64 } else { a }) as usize;
                    let d = x.dims[a];
                    let clampi = |v: i64| (if v < 0 { v + d } else { v }).clamp(0, d);
                    if steps[k] != 1 {
                        return Err(self.err("constant Slice supports step 1 only"));
                    }
                    lo[a] = clampi(starts[k]);
                    hi[a] = clampi(ends[k]).max(lo[a]);
                    st[a] = 1;
                }
                let dims: Vec<i64> = (0..rank).map(|k| hi[k] - lo[k]).collect();
                let n: i64 = dims.iter().product();
                let mut data = Vec::with_capacity(n as usize);
                let mut idx = vec![0i64; rank];
                for _ in 0..n {
                    let mut off = 0;
                    for k in 0..rank {
                        off = off * x.dims[k] + lo[k] + idx[k];
                    }
                    data.push(x.data[off as usize]);
                    for k in (0..rank).rev() {
                        idx[k] += 1;
                        if idx[k] < dims[k] {
                            break;
                        }
                        idx[k] = 0;
                    }
                }
                Const { dims, data }
            }
            _ => return Ok(None),
        };
        Ok(Some(vec![out]))
    }

    /// ONNX Reshape target: 0 copies the input dimension, one −1 is inferred.
    fn reshape_target(&self, input: &[i64], shape: &[i64]) -> Result<Vec<i64>, ImportError> {
        let total: i64 = input.iter().product();
        let mut out: Vec<i64> = shape
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                if d == 0 {
                    input.get(i).copied().unwrap_or(0)
                } else {
                    d
                }
            })
            .collect();
        let known: i64 = out.iter().filter(|&&d| d != -1).product();
        match out.iter().filter(|&&d| d == -1).count() {
            0 => {}
            1 if known > 0 && total % known == 0 => {
                let inferred = total / known;
                out.iter_mut()
                    .filter(|d| **d == -1)
                    .for_each(|d| *d = inferred);
            }
            _ => return Err(self.err(format!("cannot reshape {input:?} to {shape:?}"))),
        }
        if out.iter().product::<i64>() != total || out.iter().any(|&d| d < 0) {
            return Err(self.err(format!(
                "cannot reshape {input:?} ({total} elements) to {shape:?}"
            )));
        }
        Ok(out)
    }
}

/// Imports an ONNX model from bytes; `name` is used in messages.
pub fn import_bytes(
    bytes: &[u8],
    name: &str,
    input_shape: Option<(&str, &[i64])>,
) -> Result<Func, ImportError> {
    let model = onnx::ModelProto::decode(bytes)
        .map_err(|e| ImportError::Decode(name.into(), e.to_string()))?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| ImportError::Decode(name.into(), "the model has no graph".into()))?;
    if graph.node.is_empty() {
        return Err(ImportError::Decode(
            name.into(),
            "the graph has no nodes".into(),
        ));
    }
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain().is_empty() || o.domain() == "ai.onnx")
        .and_then(|o| o.version)
        .unwrap_or(13);
    if !(1..=21).contains(&opset) {
        return Err(ImportError::Model(format!(
            "opset {opset} is not supported (1–21)"
        )));
    }
    if let Some(n) = graph
        .node
        .iter()
        .find(|n| !n.domain().is_empty() && n.domain() != "ai.onnx")
    {
        return Err(ImportError::Node {
            op: n.op_type().to_string(),
            node: n.name().to_string(),
            msg: format!(
                "ops of domain '{}' are not supported (only the default ONNX domain)",
                n.domain()
            ),
        });
    }
    let mut consts = HashMap::new();
    for t in &graph.initializer {
        consts.insert(
            t.name().to_string(),
            tensor_data(t).map_err(ImportError::Model)?,
        );
    }
    let inputs: Vec<_> = graph
        .input
        .iter()
        .filter(|i| !consts.contains_key(i.name()))
        .collect();
    if inputs.len() != 1 {
        return Err(ImportError::Model(format!(
            "models with {} inputs are not supported (exactly one)",
            inputs.len()
        )));
    }
    let input = inputs[0];
    let dims = input
        .r#type
        .as_ref()
        .and_then(|t| match &t.value {
            Some(onnx::type_proto::Value::TensorType(tt)) => {
                if tt.elem_type != Some(1) {
                    return None;
                }
                tt.shape.as_ref().map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match d.value {
                            Some(onnx::tensor_shape_proto::dimension::Value::DimValue(v)) => v,
                            _ => -1,
                        })
                        .collect::<Vec<i64>>()
                })
            }
            _ => None,
        })
        .ok_or_else(|| {
            ImportError::Model(format!(
                "input '{}' must be a float32 tensor with a known rank",
                input.name()
            ))
        })?;
    // The batch dimension is fixed to 1 (or the shape given); every dimension must be known.
    let shape = match input_shape {
        Some((given_name, given)) => {
            if given_name != input.name() {
                return Err(ImportError::Model(format!(
                    "--input-shape names '{given_name}', but the model's input is '{}'",
                    input.name()
                )));
            }
            let fits = given.len() == dims.len()
                && given
                    .iter()
                    .zip(&dims)
                    .all(|(&g, &d)| g > 0 && (d <= 0 || d == g));
            if !fits || given.first() != Some(&1) {
                return Err(ImportError::Model(format!(
                    "--input-shape {given:?} does not fit input '{}' of shape {dims:?} (dynamic dimensions are -1; the batch must be 1)",
                    input.name()
                )));
            }
            given.to_vec()
        }
        None => {
            let mut shape = dims.clone();
            if let Some(d) = shape.first_mut() {
                *d = 1;
            }
            if shape.iter().any(|&d| d <= 0) {
                return Err(ImportError::Model(format!(
                    "input '{}' has dynamic dimensions {:?}; fix them with --input-shape {}=1,…",
                    input.name(),
                    dims,
                    input.name()
                )));
            }
            shape
        }
    };
    let mut f = Func::new("main");
    let arg = f.add_arg(f32t(&shape));
    let mut vals = HashMap::new();
    vals.insert(
        input.name().to_string(),
        Val {
            id: arg,
            nhwc: false,
        },
    );
    let placeholder = NodeProto::default();
    let out_nodes: Vec<NodeProto> = graph
        .output
        .iter()
        .map(|o| NodeProto {
            name: Some(format!("output {}", o.name())),
            ..Default::default()
        })
        .collect();
    let mut imp = Importer {
        f,
        vals,
        consts,
        node: &placeholder,
        zero: None,
        opset,
    };
    for node in &graph.node {
        imp.node = node;
        if node.op_type() == "Constant" {
            let t = node
                .attribute
                .iter()
                .find(|a| a.name() == "value")
                .and_then(|a| a.t.as_ref());
            let t = t.ok_or_else(|| imp.err("only 'value' tensors are supported"))?;
            let c = tensor_data(t).map_err(|m| imp.err(m))?;
            for o in &node.output {
                imp.consts.insert(o.clone(), c.clone());
            }
            continue;
        }
        // Shape computations on constants are folded at import: the graph level is static.
        if let Some(folded) = imp.fold()? {
            for (o, c) in node.output.iter().zip(folded) {
                imp.consts.insert(o.clone(), c);
            }
            continue;
        }
        let first_op = imp.f.ops.len();
        let outs = imp.node()?;
        imp.check_sizes(first_op)?;
        for (o, v) in node.output.iter().zip(outs) {
            imp.vals.insert(o.clone(), v);
        }
    }
    for (out, node) in graph.output.iter().zip(&out_nodes) {
        let v = *imp.vals.get(out.name()).ok_or_else(|| {
            ImportError::Model(format!(
                "graph output '{}' is not produced by any node",
                out.name()
            ))
        })?;
        imp.node = node;
        let id = imp.plain(v);
        imp.f.returns.push(id);
    }
    let mut f = imp.f;
    let names: Vec<String> = graph.output.iter().map(|o| o.name().to_string()).collect();
    f.attrs
        .insert("nibble.outputs".into(), Attr::Str(names.join(",")));
    f.attrs
        .insert("nibble.input".into(), Attr::Str(input.name().to_string()));
    Ok(f)
}

/// Convolution weights as OHWI (`[OC, KH, KW, IC]`, the layout of tosa and the kernels) from
/// ONNX's OIHW (Conv), or IOHW when `input_major` (ConvTranspose).
fn to_ohwi(w: &[f32], [oc, ic, kh, kw]: [i64; 4], input_major: bool) -> Vec<f32> {
    let mut ohwi = vec![0.0f32; w.len()];
    for o in 0..oc {
        for i in 0..ic {
            let src = if input_major { i * oc + o } else { o * ic + i };
            for y in 0..kh {
                for xk in 0..kw {
                    ohwi[(((o * kh + y) * kw + xk) * ic + i) as usize] =
                        w[((src * kh + y) * kw + xk) as usize];
                }
            }
        }
    }
    ohwi
}
