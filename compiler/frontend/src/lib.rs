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
pub const SUPPORTED_OPS: &[&str] = &[
    "Conv",
    "Relu",
    "PRelu",
    "MaxPool",
    "Flatten",
    "Gemm",
    "Transpose",
    "Softmax",
    "Identity",
    "Constant",
];

/// Import errors; each names the model element at fault.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read '{0}': {1}")]
    Io(String, std::io::Error),
    #[error("'{0}' is not a valid ONNX model: {1}")]
    Decode(String, String),
    #[error("unsupported op '{op}' (node '{node}'); supported ops: {}", SUPPORTED_OPS.join(", "))]
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
pub fn import_file(path: &std::path::Path) -> Result<Func, ImportError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ImportError::Io(name.clone(), e))?;
    import_bytes(&bytes, &name)
}

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
    let n: i64 = dims.iter().product();
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
        other => {
            return Err(format!(
                "tensor '{}' has data type {other}; supported: 1 (float32), 7 (int64)",
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
    fn err(&self, msg: impl Into<String>) -> ImportError {
        ImportError::Node {
            op: self.node.op_type().to_string(),
            node: self.node.name().to_string(),
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
                "loc({:?})",
                if self.node.name().is_empty() {
                    self.node.op_type()
                } else {
                    self.node.name()
                }
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

    fn node(&mut self) -> Result<Vec<Val>, ImportError> {
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
                if self.int("group", 1) != 1 {
                    return Err(self.err(format!(
                        "group = {} is not supported yet (only group = 1)",
                        self.int("group", 1)
                    )));
                }
                let [oc, ic, kh, kw] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
                let xs = self.shape(x);
                if xs[3] != ic {
                    return Err(
                        self.err(format!("input has {} channels, weights expect {ic}", xs[3]))
                    );
                }
                let bias = if self.node.input.len() > 2 && !self.node.input[2].is_empty() {
                    self.konst(2)?.data
                } else {
                    vec![0.0; oc as usize]
                };
                if bias.len() as i64 != oc {
                    return Err(
                        self.err(format!("bias has {} elements, expected {oc}", bias.len()))
                    );
                }
                let strides = self.ints("strides", &[1, 1]);
                let dil = self.ints("dilations", &[1, 1]);
                let mut pads = self.ints("pads", &[0, 0, 0, 0]);
                match self.string("auto_pad").as_deref() {
                    None | Some("NOTSET") | Some("VALID") => {}
                    Some(p) => {
                        return Err(
                            self.err(format!("auto_pad = {p} is not supported (NOTSET, VALID)"))
                        )
                    }
                }
                if self.string("auto_pad").as_deref() == Some("VALID") {
                    pads = vec![0, 0, 0, 0];
                }
                if strides.len() != 2 || dil.len() != 2 || pads.len() != 4 {
                    return Err(
                        self.err("strides, dilations and pads must describe 2 spatial dimensions")
                    );
                }
                // OIHW -> OHWI
                let mut ohwi = vec![0.0f32; w.data.len()];
                for o in 0..oc {
                    for i in 0..ic {
                        for y in 0..kh {
                            for xk in 0..kw {
                                ohwi[(((o * kh + y) * kw + xk) * ic + i) as usize] =
                                    w.data[(((o * ic + i) * kh + y) * kw + xk) as usize];
                            }
                        }
                    }
                }
                let oh = (xs[1] + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) / strides[0] + 1;
                let ow = (xs[2] + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) / strides[1] + 1;
                if oh <= 0 || ow <= 0 {
                    return Err(self.err("the output would be empty"));
                }
                let wv = self.constant(&[oc, kh, kw, ic], &ohwi);
                let bv = self.constant(&[oc], &bias);
                let z = self.zero_point();
                let attrs = vec![
                    ("acc_type", Attr::Raw("f32".into())),
                    ("pad", Attr::I64s(vec![pads[0], pads[2], pads[1], pads[3]])),
                    ("stride", Attr::I64s(strides)),
                    ("dilation", Attr::I64s(dil)),
                ];
                let r = self.push(
                    "tosa.conv2d",
                    &[x, wv, bv, z, z],
                    f32t(&[xs[0], oh, ow, oc]),
                    attrs,
                );
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
                let a3 = self.reshape(a, &[1, sa[0], k]);
                let bv = self.constant(&[1, k, m], &bdata);
                let z = self.zero_point();
                let mm = self.push("tosa.matmul", &[a3, bv, z, z], f32t(&[1, sa[0], m]), vec![]);
                let mm2 = self.reshape(mm, &[sa[0], m]);
                let cv = self.constant(&[1, m], &c);
                let r = self.push("tosa.add", &[mm2, cv], f32t(&[sa[0], m]), vec![]);
                vec![Val { id: r, nhwc: false }]
            }
            _ => {
                return Err(ImportError::UnsupportedOp {
                    op: op.to_string(),
                    node: self.node.name().to_string(),
                })
            }
        })
    }
}

/// Imports an ONNX model from bytes; `name` is used in messages.
pub fn import_bytes(bytes: &[u8], name: &str) -> Result<Func, ImportError> {
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
    // The batch dimension is fixed to 1; every other dimension must be known.
    let mut shape = dims.clone();
    if let Some(d) = shape.first_mut() {
        *d = 1;
    }
    if shape.iter().any(|&d| d <= 0) {
        return Err(ImportError::Model(format!(
            "input '{}' has dynamic dimensions {:?} beyond the batch",
            input.name(),
            dims
        )));
    }
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
    let mut zero = None;
    for node in &graph.node {
        if node.op_type() == "Constant" {
            let t = node
                .attribute
                .iter()
                .find(|a| a.name() == "value")
                .and_then(|a| a.t.as_ref());
            let t = t.ok_or_else(|| ImportError::Node {
                op: "Constant".into(),
                node: node.name().to_string(),
                msg: "only 'value' tensors are supported".into(),
            })?;
            let c = tensor_data(t).map_err(|m| ImportError::Node {
                op: "Constant".into(),
                node: node.name().to_string(),
                msg: m,
            })?;
            for o in &node.output {
                consts.insert(o.clone(), c.clone());
            }
            continue;
        }
        let mut imp = Importer {
            f,
            vals,
            consts,
            node,
            zero,
            opset,
        };
        let outs = imp.node();
        let Importer {
            f: f2,
            vals: v2,
            consts: c2,
            zero: z2,
            ..
        } = imp;
        (f, vals, consts, zero) = (f2, v2, c2, z2);
        let outs = outs?;
        for (o, v) in node.output.iter().zip(outs) {
            vals.insert(o.clone(), v);
        }
    }
    for out in &graph.output {
        let v = *vals.get(out.name()).ok_or_else(|| {
            ImportError::Model(format!(
                "graph output '{}' is not produced by any node",
                out.name()
            ))
        })?;
        let node = NodeProto {
            name: Some(format!("output {}", out.name())),
            ..Default::default()
        };
        let mut imp = Importer {
            f,
            vals: HashMap::new(),
            consts: HashMap::new(),
            node: &node,
            zero,
            opset,
        };
        let id = imp.plain(v);
        f = imp.f;
        f.returns.push(id);
    }
    let names: Vec<String> = graph.output.iter().map(|o| o.name().to_string()).collect();
    f.attrs
        .insert("nibble.outputs".into(), Attr::Str(names.join(",")));
    f.attrs
        .insert("nibble.input".into(), Attr::Str(input.name().to_string()));
    Ok(f)
}
