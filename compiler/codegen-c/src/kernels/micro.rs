//! Layers on the runtime's int8 microkernels (`nbk_conv2d` / `nbk_depthwise` of
//! `runtime/c/nibble_kernels.h`, chosen per ISA at run time). [`plan`] picks them before the
//! schedule is written: conv2d, depthwise (multiplier 1) and fully connected layers with int8
//! activations in and out, 8-bit constant weights and an epilogue the kernels implement
//! (plain, relu/clamp, PReLU, hard-swish, swish; [`crate::prepack`] says which). [`write`] emits a
//! layer's packed weights and constants as `static const` arrays, its `nbk_shape` and
//! `nbk_packed`, and the call, which reads the model's one scratch buffer (`nbk_scratch`, sized
//! here for the largest layer). The constants only such layers read are not written at all:
//! their packed form replaces them. Every other layer keeps its `nb_*` call, including those
//! with weights below 8 bits (packed by [`crate::packing`]).

use super::Kernel;
use crate::arrays::{c_array, fields, int64, list};
use crate::prepack::{self, Consts, Shape};
use crate::CodegenError;
use nibble_ir::{Attr, Elem, Func, Op, ValueId};
use nibble_tile as tile;
use std::collections::{HashMap, HashSet};
use std::fmt::Display;

/// The longest im2col patch a conv kernel takes (`NB_MAX_PATCH`).
const MAX_PATCH: i64 = 16384;

/// The layers that run on the microkernels, by op index.
#[derive(Default)]
pub(crate) struct Micro {
    layers: HashMap<usize, Layer>,
    /// Constants read only by those layers (as weights or bias): not written to `model.c`.
    pub absorbed: HashSet<ValueId>,
    /// Bytes of `nbk_scratch` (0: no layer uses the kernels).
    pub scratch: usize,
}

impl Micro {
    /// The microkernel layer of op `i`, if it is one.
    pub(crate) fn layer(&self, i: usize) -> Option<&Layer> {
        self.layers.get(&i)
    }
}

/// One layer's geometry and packed form.
pub(crate) struct Layer {
    shape: Shape,
    packed: Packed,
}

enum Packed {
    Conv(prepack::Conv),
    Depthwise(prepack::Depthwise),
}

/// Picks the layers of `f` that run on the microkernels and packs them.
pub(crate) fn plan(f: &Func) -> Micro {
    let producers = f.producers();
    let mut m = Micro::default();
    for (i, op) in f.ops.iter().enumerate() {
        if let Some(layer) = layer(f, &producers, op) {
            m.scratch = m.scratch.max(layer.shape.scratch_bytes());
            m.layers.insert(i, layer);
        }
    }
    // A constant is absorbed when every reader is such a layer reading it as weights or bias.
    let mut readers: HashMap<ValueId, bool> = HashMap::new();
    for (i, op) in f.ops.iter().enumerate() {
        for (k, v) in op.operands.iter().enumerate() {
            let ours = (k == 1 || k == 2) && m.layers.contains_key(&i);
            *readers.entry(*v).or_insert(true) &= ours;
        }
    }
    for v in &f.returns {
        readers.insert(*v, false);
    }
    m.absorbed = readers
        .into_iter()
        .filter(|&(v, ours)| ours && producers[v].is_some_and(|p| f.ops[p].name == tile::CONST))
        .map(|(v, _)| v)
        .collect();
    m
}

/// The data of constant `v` (a `tile.const`) as little-endian bytes of element type `elem`.
fn const_bytes<'f>(
    f: &'f Func,
    producers: &[Option<usize>],
    v: ValueId,
    elem: Elem,
) -> Option<&'f [u8]> {
    let op = &f.ops[producers.get(v).copied().flatten()?];
    let c = tile::const_data(op).ok()?;
    (c.ty.elem() == Some(&elem)).then_some(c.bytes)
}

/// `op` as a microkernel layer, if it can be one.
fn layer(f: &Func, producers: &[Option<usize>], op: &Op) -> Option<Layer> {
    let name = op.name.as_str();
    if ![tile::CONV2D, tile::DEPTHWISE_CONV2D, tile::FULLY_CONNECTED].contains(&name) {
        return None;
    }
    let [x, w, b] = op.operands[..] else {
        return None;
    };
    let r = *op.results.first()?;
    let int8 = |v: ValueId| f.ty(v).elem() == Some(&Elem::Int(8));
    if !int8(x) || !int8(r) {
        return None;
    }
    match op.attrs.get(tile::keys::WEIGHT_BITS) {
        None => {}
        Some(Attr::Str(s)) if s == "8" => {}
        Some(_) => return None,
    }
    let wt: Vec<i8> = const_bytes(f, producers, w, Elem::Int(8))?
        .iter()
        .map(|&v| v as i8)
        .collect();
    let bias = nibble_ir::model::dense_i32(const_bytes(f, producers, b, Elem::Int(32))?);
    let dims = |v: ValueId| f.ty(v).shape().map(|s| s.to_vec()).unwrap_or_default();
    let (xs, ws, os) = (dims(x), dims(w), dims(r));
    let (shape, packed) = if name == tile::FULLY_CONNECTED {
        let (&[n, k], &[m, k2]) = (&xs[..], &ws[..]) else {
            return None;
        };
        if k != k2 || k > MAX_PATCH || os != [n, m] {
            return None;
        }
        let rq = tile::FullyConnected::from_op(op).ok()?.rq;
        let shape = Shape {
            h: 1,
            w: n,
            c: k,
            oc: m,
            kh: 1,
            kw: 1,
            sh: 1,
            sw: 1,
            pt: 0,
            pl: 0,
            pb: 0,
            pr: 0,
            dh: 1,
            dw: 1,
            oh: 1,
            ow: n,
        };
        let packed = prepack::conv(&wt, m as usize, &bias, &rq).ok()?;
        (shape, Packed::Conv(packed))
    } else {
        let (&[1, h, wi, c], &[1, oh, ow, oc]) = (&xs[..], &os[..]) else {
            return None;
        };
        let p = tile::Conv2d::from_op(op).ok()?;
        let (pad, st, dil) = (p.window.pad, p.window.stride, p.window.dilation);
        let (kh, kw) = if name == tile::CONV2D {
            let &[o, kh, kw, c2] = &ws[..] else {
                return None;
            };
            if o != oc || c2 != c || kh * kw * c > MAX_PATCH {
                return None;
            }
            (kh, kw)
        } else {
            let &[kh, kw, c2, 1] = &ws[..] else {
                return None;
            };
            if c2 != c || oc != c || kh > 64 {
                return None;
            }
            (kh, kw)
        };
        let shape = Shape {
            h,
            w: wi,
            c,
            oc,
            kh,
            kw,
            sh: st[0],
            sw: st[1],
            pt: pad[0],
            pl: pad[2],
            pb: pad[1],
            pr: pad[3],
            dh: dil[0],
            dw: dil[1],
            oh,
            ow,
        };
        let packed = if name == tile::CONV2D {
            Packed::Conv(prepack::conv(&wt, oc as usize, &bias, &p.rq).ok()?)
        } else {
            let d = prepack::depthwise(&wt, kh as usize, kw as usize, &bias, &p.rq).ok()?;
            Packed::Depthwise(d)
        };
        (shape, packed)
    };
    let positive = shape.fields().iter().enumerate().all(|(j, &v)| {
        // pads (fields 8..12) may be 0; everything else is at least 1
        v < 1 << 24 && (v >= 1 || ((8..12).contains(&j) && v == 0))
    });
    positive.then_some(Layer { shape, packed })
}

/// `static const TYPE NAME[n] = {…};` of `values`; returns NAME.
fn table<T: Display>(k: &mut Kernel, ty: &str, name: &str, values: &[T]) -> String {
    let name = format!("{name}{}", k.i);
    c_array(k.weights, ty, &name, values.iter());
    name
}

/// An int64 table (`INT64_C` literals).
fn table64(k: &mut Kernel, name: &str, values: &[i64]) -> String {
    let lits: Vec<String> = values.iter().map(|&v| int64(v)).collect();
    table(k, "int64_t", name, &lits)
}

/// The `nbk_packed` initializer of constants `c`, with `k`, `kp` and the weights `w`.
fn packed_init(kn: &mut Kernel, c: &Consts, k: usize, kp: usize, w: &str) -> String {
    let bias_s = table(kn, "int32_t", "nbk_bias_s", &c.bias_s);
    let bias_u = table(kn, "int32_t", "nbk_bias_u", &c.bias_u);
    let mult = table(kn, "int32_t", "nbk_mult", &c.mult);
    let shift = table(kn, "int32_t", "nbk_shift", &c.shift);
    let (nm, ns) = match &c.neg {
        Some((nm, ns)) => (
            table(kn, "int32_t", "nbk_neg_mult", nm),
            table(kn, "int32_t", "nbk_neg_shift", ns),
        ),
        None => (mult.clone(), shift.clone()),
    };
    let null = || "0".to_string();
    let [hs_shift, hs_mult, hs_bias, hm_eo, hb_eo, hs_eo] = match &c.hswish {
        Some(h) => [
            table(kn, "int32_t", "nbk_hs_shift", &h.shift),
            table64(kn, "nbk_hs_mult", &h.mult),
            table64(kn, "nbk_hs_bias", &h.bias),
            table64(kn, "nbk_hs_mult_eo", &h.mult_eo),
            table64(kn, "nbk_hs_bias_eo", &h.bias_eo),
            table64(kn, "nbk_hs_shift_eo", &h.shift_eo),
        ],
        None => [null(), null(), null(), null(), null(), null()],
    };
    let sigmoid = match &c.sigmoid {
        Some(t) => table(kn, "int32_t", "nbk_sigmoid", t),
        None => null(),
    };
    fields(&[
        &k,
        &kp,
        &c.oc,
        &c.ocp,
        &w,
        &bias_s,
        &bias_u,
        &mult,
        &shift,
        &nm,
        &ns,
        &hs_shift,
        &hs_mult,
        &hs_bias,
        &c.mode,
        &c.zp,
        &c.out_zp,
        &c.lo,
        &c.hi,
        &int64(c.three),
        &int64(c.six),
        &(c.fast32 as i32),
        &hm_eo,
        &hb_eo,
        &hs_eo,
        &(c.wide as i32),
        &sigmoid,
    ])
}

/// Writes layer `l` (op `k.i`): its tables at file scope and its `nbk_*` call.
pub(crate) fn write(k: &mut Kernel, l: &Layer) -> Result<(), CodegenError> {
    let i = k.i;
    let shape = format!(
        "static const nbk_shape nbk_shape{i} = {{ {} }};",
        list(&l.shape.fields())
    );
    k.weights.push_str(&shape);
    k.weights.push('\n');
    let (x, y) = (k.x(0)?, k.ptr("int8_t"));
    let call = match &l.packed {
        Packed::Conv(p) => {
            let w = table(k, "int8_t", "nbk_w", &p.w);
            let init = packed_init(k, &p.consts, p.k, p.kp, &w);
            k.weights.push_str(&format!(
                "static const nbk_packed nbk_packed{i} = {init};\n"
            ));
            "nbk_conv2d"
        }
        Packed::Depthwise(d) => {
            let w32 = table(k, "int32_t", "nbk_w32_", &d.w32);
            let w8 = table(k, "int8_t", "nbk_w8_", &d.w8);
            let wq = match &d.wq {
                Some(q) => table(k, "int8_t", "nbk_wq", q),
                None => "0".into(),
            };
            let init = packed_init(k, &d.consts, d.taps, d.taps, "0");
            k.weights.push_str(&format!(
                "static const nbk_dw_packed nbk_packed{i} = {{ {init}, {w32}, {w8}, {wq} }};\n"
            ));
            "nbk_depthwise"
        }
    };
    k.line(&format!(
        "{call}({x}, &nbk_shape{i}, &nbk_packed{i}, {y}, nbk_scratch);"
    ));
    Ok(())
}
