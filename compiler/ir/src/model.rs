//! nibble's in-memory view of one MLIR function: a list of ops in SSA order over numbered values.
//!
//! Passes read an MLIR module into a [`Func`], transform it in Rust, and print it back as MLIR
//! (generic op form) to be parsed and verified by MLIR again; see [`crate::mlir`].

use std::collections::BTreeMap;

/// Index of an SSA value in [`Func::values`].
pub type ValueId = usize;

/// Element type of a tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum Elem {
    F32,
    /// Signless integer of the given width (i8, i32, …).
    Int(u32),
    Index,
    /// `!quant.uniform<iN:f32, scale:zero_point>` (per tensor).
    Quant(QuantType),
    /// `!quant.uniform<iN:f32:axis, {s0, s1, …}>` (per channel along `axis`, zero points 0).
    QuantAxis(QuantAxisType),
}

/// A per-channel uniform quantization with zero points 0: `real = scales[c] * q`.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantAxisType {
    pub bits: u32,
    pub axis: u32,
    pub scales: Vec<f64>,
}

/// A per-tensor uniform quantization: `real = scale * (q - zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantType {
    /// Storage width in bits (8 or 32 here).
    pub bits: u32,
    pub scale: f64,
    pub zero_point: i64,
}

impl QuantType {
    pub fn qmin(&self) -> i64 {
        -(1i64 << (self.bits - 1))
    }
    pub fn qmax(&self) -> i64 {
        (1i64 << (self.bits - 1)) - 1
    }
}

/// The type of a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Tensor {
        shape: Vec<i64>,
        elem: Elem,
    },
    /// Any other type, kept as MLIR text (e.g. `!tosa.shape<3>`).
    Other(String),
}

impl Type {
    pub fn tensor(shape: &[i64], elem: Elem) -> Type {
        Type::Tensor {
            shape: shape.to_vec(),
            elem,
        }
    }
    pub fn shape(&self) -> Option<&[i64]> {
        match self {
            Type::Tensor { shape, .. } => Some(shape),
            Type::Other(_) => None,
        }
    }
    pub fn elem(&self) -> Option<&Elem> {
        match self {
            Type::Tensor { elem, .. } => Some(elem),
            Type::Other(_) => None,
        }
    }
    pub fn quant(&self) -> Option<QuantType> {
        match self.elem() {
            Some(Elem::Quant(q)) => Some(*q),
            _ => None,
        }
    }
    pub fn quant_axis(&self) -> Option<&QuantAxisType> {
        match self.elem() {
            Some(Elem::QuantAxis(q)) => Some(q),
            _ => None,
        }
    }
    /// The storage integer type of a quantized type (other types unchanged).
    pub fn storage(&self) -> Type {
        match self.elem() {
            Some(Elem::Quant(q)) => self.with_elem(Elem::Int(q.bits)),
            Some(Elem::QuantAxis(q)) => self.with_elem(Elem::Int(q.bits)),
            _ => self.clone(),
        }
    }
    pub fn num_elements(&self) -> usize {
        self.shape()
            .map(|s| s.iter().product::<i64>() as usize)
            .unwrap_or(0)
    }
    pub fn with_elem(&self, elem: Elem) -> Type {
        Type::Tensor {
            shape: self.shape().unwrap_or(&[]).to_vec(),
            elem,
        }
    }
}

/// An attribute value. Kinds the passes inspect are typed; anything else is kept as MLIR text.
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
    /// Integer with its MLIR type (`i32`, `i64`, …).
    Int(i64, String),
    /// Float with its MLIR type (`f32`, `f64`).
    Float(f64, String),
    Bool(bool),
    Str(String),
    I64s(Vec<i64>),
    I32s(Vec<i32>),
    /// Dense elements: the tensor type and its little-endian bytes (never a splat).
    Dense(Type, Vec<u8>),
    /// Anything else, verbatim MLIR attribute text.
    Raw(String),
}

impl Attr {
    pub fn i64(v: i64) -> Attr {
        Attr::Int(v, "i64".into())
    }
    pub fn i32(v: i64) -> Attr {
        Attr::Int(v, "i32".into())
    }
    pub fn f64(v: f64) -> Attr {
        Attr::Float(v, "f64".into())
    }
    pub fn dense_f32(ty: Type, data: &[f32]) -> Attr {
        Attr::Dense(ty, data.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
    pub fn dense_i8(ty: Type, data: &[i8]) -> Attr {
        Attr::Dense(ty, data.iter().map(|v| *v as u8).collect())
    }
    pub fn dense_i32(ty: Type, data: &[i32]) -> Attr {
        Attr::Dense(ty, data.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
    pub fn dense_i64(ty: Type, data: &[i64]) -> Attr {
        Attr::Dense(ty, data.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
}

/// One operation: `results = name(operands) {attrs}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub name: String,
    pub operands: Vec<ValueId>,
    pub results: Vec<ValueId>,
    pub attrs: BTreeMap<String, Attr>,
    /// The op's MLIR location as text (`loc("conv1")`), if any.
    pub loc: Option<String>,
}

/// A function: arguments, ops in order, returned values, and the type of every value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Func {
    pub name: String,
    pub args: Vec<ValueId>,
    pub ops: Vec<Op>,
    pub returns: Vec<ValueId>,
    pub values: Vec<Type>,
    /// Function-level attributes (e.g. `nibble.target`), printed in the `attributes {}` dict.
    pub attrs: BTreeMap<String, Attr>,
}

impl Func {
    pub fn new(name: &str) -> Func {
        Func {
            name: name.into(),
            ..Default::default()
        }
    }
    /// Adds a value of the given type and returns its id.
    pub fn new_value(&mut self, ty: Type) -> ValueId {
        self.values.push(ty);
        self.values.len() - 1
    }
    pub fn add_arg(&mut self, ty: Type) -> ValueId {
        let v = self.new_value(ty);
        self.args.push(v);
        v
    }
    /// Appends an op with one result of type `ty`; returns the result.
    pub fn push(
        &mut self,
        name: &str,
        operands: &[ValueId],
        ty: Type,
        attrs: Vec<(&str, Attr)>,
    ) -> ValueId {
        let r = self.new_value(ty);
        self.ops.push(Op {
            name: name.into(),
            operands: operands.to_vec(),
            results: vec![r],
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            loc: None,
        });
        r
    }
    pub fn ty(&self, v: ValueId) -> &Type {
        &self.values[v]
    }
    /// Index of the op defining each value (None for arguments).
    pub fn producers(&self) -> Vec<Option<usize>> {
        let mut p = vec![None; self.values.len()];
        for (i, op) in self.ops.iter().enumerate() {
            for &r in &op.results {
                p[r] = Some(i);
            }
        }
        p
    }
    /// Number of uses of every value (op operands and returns).
    pub fn use_counts(&self) -> Vec<usize> {
        let mut n = vec![0; self.values.len()];
        for op in &self.ops {
            for &o in &op.operands {
                n[o] += 1;
            }
        }
        for &r in &self.returns {
            n[r] += 1;
        }
        n
    }
    /// Removes ops whose results are unused, then renumbers values densely in op order.
    pub fn compact(&mut self) {
        loop {
            let uses = self.use_counts();
            let before = self.ops.len();
            self.ops
                .retain(|op| op.results.iter().any(|&r| uses[r] > 0));
            if self.ops.len() == before {
                break;
            }
        }
        let mut map = vec![usize::MAX; self.values.len()];
        let mut values = Vec::new();
        let remap = |v: ValueId, values: &mut Vec<Type>, map: &mut Vec<usize>| {
            if map[v] == usize::MAX {
                map[v] = values.len();
                values.push(self.values[v].clone());
            }
            map[v]
        };
        let args: Vec<_> = self
            .args
            .iter()
            .map(|&a| remap(a, &mut values, &mut map))
            .collect();
        let mut ops = std::mem::take(&mut self.ops);
        for op in &mut ops {
            for o in &mut op.operands {
                *o = map[*o];
            }
            for r in &mut op.results {
                *r = remap(*r, &mut values, &mut map);
            }
        }
        self.returns = self.returns.iter().map(|&r| map[r]).collect();
        self.args = args;
        self.ops = ops;
        self.values = values;
    }
}

/// Reads typed data out of a dense attribute.
pub fn dense_f32(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}
pub fn dense_i32(bytes: &[u8]) -> Vec<i32> {
    bytes
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}
pub fn dense_i64(bytes: &[u8]) -> Vec<i64> {
    bytes
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()
}

impl Op {
    /// Integer-array attribute (`array<i64: …>` or `array<i32: …>`).
    pub fn ints(&self, key: &str) -> Result<Vec<i64>, crate::IrError> {
        match self.attrs.get(key) {
            Some(Attr::I64s(v)) => Ok(v.clone()),
            Some(Attr::I32s(v)) => Ok(v.iter().map(|&x| x as i64).collect()),
            _ => Err(self.missing(key, "an integer array")),
        }
    }
    /// An integer or an integer array, as a list.
    pub fn int_list(&self, key: &str) -> Result<Vec<i64>, crate::IrError> {
        match self.attrs.get(key) {
            Some(Attr::Int(v, _)) => Ok(vec![*v]),
            _ => self.ints(key),
        }
    }
    /// Integer attribute.
    pub fn int(&self, key: &str) -> Result<i64, crate::IrError> {
        match self.attrs.get(key) {
            Some(Attr::Int(v, _)) => Ok(*v),
            _ => Err(self.missing(key, "an integer")),
        }
    }
    /// Float attribute (integers are accepted too).
    pub fn float(&self, key: &str) -> Result<f64, crate::IrError> {
        match self.attrs.get(key) {
            Some(Attr::Float(v, _)) => Ok(*v),
            Some(Attr::Int(v, _)) => Ok(*v as f64),
            _ => Err(self.missing(key, "a float")),
        }
    }
    /// A dense f32 attribute's values, if it has one under `key` (statistics such as
    /// `nibble.bn_mean` or `nibble.input_mean`).
    pub fn dense_f32(&self, key: &str) -> Option<Vec<f32>> {
        match self.attrs.get(key) {
            Some(Attr::Dense(_, b)) => Some(dense_f32(b)),
            _ => None,
        }
    }
    /// The bare name of the op's location (`conv1` for `loc("conv1")`), escapes undone: the
    /// ONNX node it comes from. Empty when it has none.
    pub fn loc_name(&self) -> String {
        let inner = self
            .loc
            .as_deref()
            .unwrap_or("")
            .trim_start_matches("loc(")
            .trim_end_matches(')');
        match inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            Some(body) => crate::text::mlir_unescape(body),
            None => inner.to_string(),
        }
    }
    /// Dense-elements attribute: its type and bytes.
    pub fn dense(&self, key: &str) -> Result<(&Type, &[u8]), crate::IrError> {
        match self.attrs.get(key) {
            Some(Attr::Dense(t, b)) => Ok((t, b)),
            _ => Err(self.missing(key, "dense elements")),
        }
    }
    fn missing(&self, key: &str, what: &str) -> crate::IrError {
        crate::IrError::Structure(format!(
            "'{}'{}: attribute '{key}' must be {what}",
            self.name,
            self.loc
                .as_deref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default()
        ))
    }
}
