//! C99 emission of a tile-level function.
//!
//! Writes `model.h`/`model.c` (the schedule: one runtime call per tile op, in order, over one
//! static arena laid out by the memory plan; weights as const arrays), the runtime kernels
//! (`nibble_runtime.h`/`.c`, copied from `runtime/c/`), and `main.c`, the only file with floats:
//! it reads a float32 `.npy` batch, quantizes each sample, runs the model, dequantizes and writes
//! `outK.npy`. `cc -std=c99 -O2 -Wall -Wextra -Werror *.c -o model` builds it.

use nibble_ir::text::float_literal;
use nibble_ir::{model, Elem, Func, Op, ValueId};
use nibble_tile as tile;
use std::collections::HashMap;
use std::fmt::Write;

pub const RUNTIME_H: &str = include_str!("../../../runtime/c/nibble_runtime.h");
pub const RUNTIME_C: &str = include_str!("../../../runtime/c/nibble_runtime.c");
pub const MAIN_TEMPLATE: &str = include_str!("../../../runtime/c/main_template.c");

#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    #[error("cannot emit C for '{op}'{loc}: {msg}")]
    Op {
        op: String,
        loc: String,
        msg: String,
    },
    #[error(transparent)]
    Ir(#[from] nibble_ir::IrError),
}

fn err(op: &Op, msg: impl Into<String>) -> CodegenError {
    CodegenError::Op {
        op: op.name.clone(),
        loc: op
            .loc
            .as_deref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default(),
        msg: msg.into(),
    }
}

/// `text` made safe inside a C block comment: ASCII letters, digits and ` _./:-[]()#,=+@"`
/// stay, every other byte (`*`, `?`, `\`, `%`, control characters, UTF-8) becomes
/// `%XX`. So no name from a model can close the comment (`*/`), open a nested one, form a
/// trigraph or splice a line: names are data, never code.
pub fn c_comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b" _./:-[]()#,=+@\"".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// 64-bit FNV-1a of `bytes`: a stable fingerprint of the generated model.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Appends `static const TYPE NAME[n] = {…};` with 32 values a line.
fn c_array<T: std::fmt::Display>(
    out: &mut String,
    ty: &str,
    name: &str,
    values: impl Iterator<Item = T>,
) {
    let mut body = String::new();
    let mut n = 0;
    for v in values {
        let _ = write!(body, "{}{v},", if n % 32 == 0 { "\n    " } else { "" });
        n += 1;
    }
    let _ = writeln!(out, "static const {ty} {name}[{n}] = {{{body}\n}};");
}

/// The generated files: (file name, contents).
pub fn emit(f: &Func) -> Result<Vec<(String, String)>, CodegenError> {
    let Some(arena) = nibble_tile::arena_bytes(f) else {
        return Err(CodegenError::Op {
            op: "func.func".into(),
            loc: String::new(),
            msg: "no memory plan (nibble.arena_bytes); run the tile lowering first".into(),
        });
    };
    let mut weights = String::new();
    let mut body = String::new();
    // C expression for each value's storage.
    let mut place: HashMap<ValueId, String> = HashMap::new();
    let mut input_q: Option<(f64, i64, usize)> = None;
    let mut outputs: Vec<(f64, i64, ValueId, ValueId)> = Vec::new(); // scale, zp, int value, result
    let dims = |v: ValueId| -> Vec<i64> { f.ty(v).shape().unwrap_or(&[]).to_vec() };
    let arr = |v: &[i64]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Storage bits of an activation (8 or 16).
    let bits = |v: ValueId| match f.ty(v).elem() {
        Some(Elem::Int(16)) => 16,
        _ => 8,
    };
    for (i, op) in f.ops.iter().enumerate() {
        let r = op.results[0];
        let off = op.int("offset").unwrap_or(0);
        let ptr = |t: &str| format!("(({t} *)(nb_arena + {off}))");
        // The result's storage, for kernels that write int8 or int16 (`void *y, int y_bits`).
        let out = || format!("(nb_arena + {off}), {}", bits(r));
        let x = |k: usize| {
            place
                .get(&op.operands[k])
                .cloned()
                .ok_or_else(|| err(op, format!("operand {k} has no storage")))
        };
        // Operand k for kernels that read int8 or int16 (`const void *x, int x_bits`).
        let xb = |k: usize| -> Result<String, CodegenError> {
            Ok(format!("{}, {}", x(k)?, bits(op.operands[k])))
        };
        // Requantization: the multiplier/shift arrays at file scope, the nb_rq initializer here.
        let rq_keys = |op: &Op,
                       weights: &mut String,
                       mkey: &str,
                       skey: &str|
         -> Result<String, CodegenError> {
            let (m, sh) = (op.int_list(mkey)?, op.int_list(skey)?);
            let _ = writeln!(weights, "static const int32_t nb_{mkey}{i}[{}] = {{{}}};\nstatic const int32_t nb_{skey}{i}[{}] = {{{}}};", m.len(), arr(&m), sh.len(), arr(&sh));
            // PReLU fused into the requantization: the negative side's multipliers, else none.
            let neg = if op.attrs.contains_key("neg_multiplier") {
                let (nm, ns) = (op.int_list("neg_multiplier")?, op.int_list("neg_shift")?);
                let _ = writeln!(weights, "static const int32_t nb_neg_multiplier{i}[{}] = {{{}}};\nstatic const int32_t nb_neg_shift{i}[{}] = {{{}}};", nm.len(), arr(&nm), ns.len(), arr(&ns));
                format!("nb_neg_multiplier{i}, nb_neg_shift{i}")
            } else {
                "0, 0".to_string()
            };
            // Hard-swish fused into the requantization, else none.
            let hswish = if op.attrs.contains_key("hswish") {
                let h = op.int_list("hswish")?;
                let out = h.get(2..).unwrap_or(&[]);
                let col = |k: usize| out.iter().skip(k).step_by(3).copied();
                let i64s = |k: usize| {
                    col(k)
                        .map(|v| format!("INT64_C({v})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let n = out.len() / 3;
                let _ = writeln!(weights, "static const int64_t nb_hswish_m{i}[{n}] = {{{}}};\nstatic const int32_t nb_hswish_s{i}[{n}] = {{{}}};\nstatic const int64_t nb_hswish_b{i}[{n}] = {{{}}};\nstatic const nb_hswish nb_hswish{i} = {{ INT64_C({}), INT64_C({}), {n}, nb_hswish_m{i}, nb_hswish_s{i}, nb_hswish_b{i} }};", i64s(0), arr(&col(1).collect::<Vec<_>>()), i64s(2), h[0], h[1]);
                format!("&nb_hswish{i}")
            } else {
                "0".to_string()
            };
            // Swish fused into the requantization, else none.
            let swish = if op.attrs.contains_key("swish") {
                let p = op.int_list("swish")?;
                let (_, table) = op.dense("sigmoid_table")?;
                c_array(
                    weights,
                    "int32_t",
                    &format!("nb_sigmoid{i}"),
                    model::dense_i32(table).into_iter(),
                );
                let _ = writeln!(weights, "static const nb_swish nb_swish{i} = {{ nb_sigmoid{i}, INT64_C({}), {}, INT64_C({}) }};", p[0], p[1], p[2]);
                format!("&nb_swish{i}")
            } else {
                "0".to_string()
            };
            Ok(format!(
                "{{ {}, {}, {}, {}, {}, nb_{mkey}{i}, nb_{skey}{i}, {neg}, {hswish}, {swish} }}",
                op.int("input_zp")?,
                op.int("output_zp")?,
                op.int("clamp_min")?,
                op.int("clamp_max")?,
                m.len()
            ))
        };
        let rq = |op: &Op, weights: &mut String| rq_keys(op, weights, "multiplier", "shift");
        let _ = writeln!(
            body,
            "    /* {} {} */",
            c_comment(&op.name),
            c_comment(op.loc.as_deref().unwrap_or(""))
        );
        match op.name.as_str() {
            tile::QUANTIZE => {
                if input_q.is_some() || op.operands[0] != f.args[0] {
                    return Err(err(
                        op,
                        "only one host-boundary quantize, of the function argument, is supported",
                    ));
                }
                input_q = Some((
                    op.float("scale")?,
                    op.int("zero_point")?,
                    f.ty(r).num_elements(),
                ));
                place.insert(r, "input".into());
                continue;
            }
            tile::DEQUANTIZE => {
                outputs.push((op.float("scale")?, op.int("zero_point")?, op.operands[0], r));
                continue;
            }
            tile::CONST => {
                let (ty, bytes) = op.dense("value")?;
                let name = format!("nb_const{i}");
                match ty.elem() {
                    Some(Elem::Int(8)) => {
                        c_array(
                            &mut weights,
                            "int8_t",
                            &name,
                            bytes.iter().map(|&b| b as i8),
                        );
                    }
                    Some(Elem::Int(32)) => {
                        c_array(
                            &mut weights,
                            "int32_t",
                            &name,
                            model::dense_i32(bytes).into_iter(),
                        );
                    }
                    _ => return Err(err(op, "only i8 and i32 constants are supported")),
                }
                place.insert(r, name);
                continue;
            }
            tile::CONV2D => {
                let (xs, ws, os) = (dims(op.operands[0]), dims(op.operands[1]), dims(r));
                let t = op.ints("tile")?;
                if t[1] > 256 {
                    return Err(err(op, "tile channels above the runtime's 256"));
                }
                let _ = writeln!(body, "    {{ static const int pad[4] = {{{}}}, stride[2] = {{{}}}, dil[2] = {{{}}}; static const nb_rq rq = {};", arr(&op.ints("pad")?), arr(&op.ints("stride")?), arr(&op.ints("dilation")?), rq(op, &mut weights)?);
                let _ = writeln!(
                    body,
                    "      nb_conv2d({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, pad, stride, dil, &rq, {}, {}); }}",
                    xb(0)?, xs[1], xs[2], xs[3], x(1)?, ws[0], ws[1], ws[2], x(2)?, out(), os[1], os[2], t[0], t[1]
                );
            }
            tile::DEPTHWISE_CONV2D => {
                let (xs, ws, os) = (dims(op.operands[0]), dims(op.operands[1]), dims(r));
                if ws[3] != 1 {
                    return Err(err(op, "only depthwise multiplier 1 has a C kernel"));
                }
                let _ = writeln!(body, "    {{ static const int pad[4] = {{{}}}, stride[2] = {{{}}}, dil[2] = {{{}}}; static const nb_rq rq = {};", arr(&op.ints("pad")?), arr(&op.ints("stride")?), arr(&op.ints("dilation")?), rq(op, &mut weights)?);
                let _ = writeln!(
                    body,
                    "      nb_depthwise_conv2d({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, pad, stride, dil, &rq); }}",
                    xb(0)?, xs[1], xs[2], xs[3], x(1)?, ws[0], ws[1], x(2)?, out(), os[1], os[2]
                );
            }
            tile::FULLY_CONNECTED => {
                let (xs, ws) = (dims(op.operands[0]), dims(op.operands[1]));
                let t = op.ints("tile")?;
                let _ = writeln!(
                    body,
                    "    {{ static const nb_rq rq = {};",
                    rq(op, &mut weights)?
                );
                let _ = writeln!(
                    body,
                    "      nb_fully_connected({}, {}, {}, {}, {}, {}, {}, &rq, {}); }}",
                    xb(0)?,
                    xs[0],
                    xs[1],
                    x(1)?,
                    ws[0],
                    x(2)?,
                    out(),
                    t[0]
                );
            }
            tile::REQUANT => {
                if !matches!(f.ty(op.operands[0]).elem(), Some(Elem::Int(8 | 16))) {
                    return Err(err(
                        op,
                        "only i8 and i16 inputs are supported by the C requant kernel",
                    ));
                }
                let _ = writeln!(
                    body,
                    "    {{ static const nb_rq rq = {};",
                    rq(op, &mut weights)?
                );
                let _ = writeln!(
                    body,
                    "      nb_requant_tensor({}, {}, {}, &rq); }}",
                    xb(0)?,
                    f.ty(r).num_elements(),
                    out()
                );
            }
            tile::LUT => {
                let (_, table) = op.dense("table")?;
                if table.len() != 256 {
                    return Err(err(op, "the table needs 256 entries"));
                }
                c_array(
                    &mut weights,
                    "int8_t",
                    &format!("nb_lut{i}"),
                    table.iter().map(|&b| b as i8),
                );
                let _ = writeln!(
                    body,
                    "    nb_lut_s8({}, {}, {}, nb_lut{i});",
                    x(0)?,
                    f.ty(r).num_elements(),
                    ptr("int8_t")
                );
            }
            tile::CLAMP => {
                let _ = writeln!(
                    body,
                    "    nb_clamp({}, {}, {}, {}, {});",
                    xb(0)?,
                    f.ty(r).num_elements(),
                    ptr("void"),
                    op.int("min")?,
                    op.int("max")?
                );
            }
            tile::MAX_POOL2D => {
                let (xs, os) = (dims(op.operands[0]), dims(r));
                let _ = writeln!(body, "    {{ static const int kernel[2] = {{{}}}, stride[2] = {{{}}}, pad[4] = {{{}}};", arr(&op.ints("kernel")?), arr(&op.ints("stride")?), arr(&op.ints("pad")?));
                let _ = writeln!(
                    body,
                    "      nb_max_pool2d_s8({}, {}, {}, {}, {}, {}, {}, kernel, stride, pad); }}",
                    x(0)?,
                    xs[1],
                    xs[2],
                    xs[3],
                    ptr("int8_t"),
                    os[1],
                    os[2]
                );
            }
            tile::TRANSPOSE => {
                let xs = dims(op.operands[0]);
                if xs.len() > 6 {
                    return Err(err(op, "rank above 6"));
                }
                let _ = writeln!(
                    body,
                    "    {{ static const int shape[{}] = {{{}}}, perms[{}] = {{{}}};",
                    xs.len(),
                    arr(&xs),
                    xs.len(),
                    arr(&op.ints("perms")?)
                );
                let _ = writeln!(
                    body,
                    "      nb_transpose_s8({}, {}, shape, perms, {}); }}",
                    x(0)?,
                    xs.len(),
                    ptr("int8_t")
                );
            }
            tile::AVG_POOL2D => {
                let (xs, os) = (dims(op.operands[0]), dims(r));
                let _ = writeln!(body, "    {{ static const int kernel[2] = {{{}}}, stride[2] = {{{}}}, pad[4] = {{{}}}; static const nb_rq rq = {};", arr(&op.ints("kernel")?), arr(&op.ints("stride")?), arr(&op.ints("pad")?), rq(op, &mut weights)?);
                let _ = writeln!(
                    body,
                    "      nb_avg_pool2d_s8({}, {}, {}, {}, {}, {}, {}, kernel, stride, pad, &rq); }}",
                    x(0)?,
                    xs[1],
                    xs[2],
                    xs[3],
                    ptr("int8_t"),
                    os[1],
                    os[2]
                );
            }
            tile::ADD | tile::MUL => {
                let (sa, sb, so) = (dims(op.operands[0]), dims(op.operands[1]), dims(r));
                if so.len() > 6 || sa.len() != so.len() || sb.len() != so.len() {
                    return Err(err(op, "operands of equal rank up to 6 are supported"));
                }
                let zp = op.int_list("input_zp")?;
                let (ma, mb) = if op.name == tile::ADD {
                    let m = op.int_list("multiplier")?;
                    (m[0], m[1])
                } else {
                    (op.int("multiplier")?, 0)
                };
                let rank = so.len().max(1);
                let one = |v: Vec<i64>| if v.is_empty() { vec![1] } else { v };
                let _ = writeln!(
                    body,
                    "    {{ static const int sa[{rank}] = {{{}}}, sb[{rank}] = {{{}}}, so[{rank}] = {{{}}};",
                    arr(&one(sa)),
                    arr(&one(sb)),
                    arr(&one(so))
                );
                let _ = writeln!(
                    body,
                    "      static const nb_binary p = {{ {}, {}, {}, {}, {}, {ma}, {mb}, {} }};",
                    zp[0],
                    zp[1],
                    op.int("output_zp")?,
                    op.int("clamp_min")?,
                    op.int("clamp_max")?,
                    op.int("shift")?
                );
                let _ = writeln!(
                    body,
                    "      nb_{}({}, sa, {}, sb, {}, {rank}, so, &p); }}",
                    if op.name == tile::ADD { "add" } else { "mul" },
                    xb(0)?,
                    xb(1)?,
                    out()
                );
            }
            tile::SOFTMAX => {
                let (ty, bytes) = op.dense("exp_table")?;
                if ty.num_elements() != 256 {
                    return Err(err(op, "the exp table needs 256 entries"));
                }
                c_array(
                    &mut weights,
                    "int32_t",
                    &format!("nb_exp{i}"),
                    model::dense_i32(bytes).into_iter(),
                );
                let c = *dims(r).last().unwrap_or(&1);
                let _ = writeln!(
                    body,
                    "    nb_softmax_s8({}, {}, {c}, {}, nb_exp{i}, {}, {}, {}, {});",
                    x(0)?,
                    f.ty(r).num_elements() as i64 / c.max(1),
                    ptr("int8_t"),
                    op.int("frac_bits")?,
                    op.int("output_zp")?,
                    op.int("clamp_min")?,
                    op.int("clamp_max")?
                );
            }
            tile::SLICE => {
                let (xs, os) = (dims(op.operands[0]), dims(r));
                if xs.is_empty() || xs.len() > 6 {
                    return Err(err(op, "ranks 1 to 6 are supported"));
                }
                let n = xs.len();
                let _ = writeln!(
                    body,
                    "    {{ static const int shape[{n}] = {{{}}}, start[{n}] = {{{}}}, out_shape[{n}] = {{{}}};",
                    arr(&xs),
                    arr(&op.ints("start")?),
                    arr(&os)
                );
                let _ = writeln!(
                    body,
                    "      nb_slice_s8({}, {n}, shape, start, out_shape, {}); }}",
                    x(0)?,
                    ptr("int8_t")
                );
            }
            tile::CONCAT => {
                let os = dims(r);
                let axis = op.int("axis")? as usize;
                if axis >= os.len() {
                    return Err(err(op, "axis out of range"));
                }
                let outer: i64 = os[..axis].iter().product();
                let out_chunk: i64 = os[axis..].iter().product();
                let mut at = 0;
                for k in 0..op.operands.len() {
                    let chunk: i64 = dims(op.operands[k])[axis..].iter().product();
                    let _ = writeln!(
                        body,
                        "    nb_concat_part_s8({}, {outer}, {chunk}, {}, {out_chunk}, {at});",
                        x(k)?,
                        ptr("int8_t")
                    );
                    at += chunk;
                }
            }
            tile::MATMUL => {
                let (sa, sb) = (dims(op.operands[0]), dims(op.operands[1]));
                let _ = writeln!(
                    body,
                    "    {{ static const nb_rq rq = {};",
                    rq(op, &mut weights)?
                );
                let _ = writeln!(
                    body,
                    "      nb_matmul_s8({}, {}, {}, {}, {}, {}, {}, {}, &rq); }}",
                    x(0)?,
                    x(1)?,
                    sa[0],
                    sa[1],
                    sa[2],
                    sb[2],
                    op.int("rhs_zp")?,
                    ptr("int8_t")
                );
            }
            tile::LAYER_NORM => {
                let c = *dims(r).last().unwrap_or(&1);
                let (m, sh, b) = (
                    op.int_list("multiplier")?,
                    op.int_list("shift")?,
                    op.int_list("bias")?,
                );
                c_array(
                    &mut weights,
                    "int32_t",
                    &format!("nb_multiplier{i}"),
                    m.iter(),
                );
                c_array(&mut weights, "int32_t", &format!("nb_shift{i}"), sh.iter());
                c_array(
                    &mut weights,
                    "int64_t",
                    &format!("nb_bias{i}"),
                    b.iter().map(|v| format!("INT64_C({v})")),
                );
                let _ = writeln!(
                    body,
                    "    {{ static const nb_layer_norm p = {{ {}, {}, {}, {}, INT64_C({}), nb_multiplier{i}, nb_shift{i}, nb_bias{i} }};",
                    op.int("input_zp")?,
                    op.int("output_zp")?,
                    op.int("clamp_min")?,
                    op.int("clamp_max")?,
                    op.int("eps_term")?
                );
                let _ = writeln!(
                    body,
                    "      nb_layer_norm_rows({}, {}, {c}, {}, &p); }}",
                    xb(0)?,
                    f.ty(r).num_elements() as i64 / c.max(1),
                    ptr("int8_t")
                );
            }
            tile::SQUEEZE_EXCITE => {
                let (xs, cm) = (dims(op.operands[0]), dims(op.operands[2])[0]);
                let c = *xs.last().unwrap_or(&1);
                if xs.len() != 4 || c > 4096 || cm > 4096 || bits(op.operands[0]) != 8 {
                    return Err(err(op, "the C kernel needs an 8-bit NHWC input with at most 4096 channels and 4096 hidden channels"));
                }
                for key in [
                    "hidden_multiplier",
                    "hidden_shift",
                    "gate_multiplier",
                    "gate_shift",
                ] {
                    c_array(
                        &mut weights,
                        "int32_t",
                        &format!("nb_{key}{i}"),
                        op.int_list(key)?.iter(),
                    );
                }
                // A sigmoid table, or NULL when the attribute is empty.
                let mut table = |key: &str| -> Result<String, CodegenError> {
                    let t = op.int_list(key)?;
                    Ok(if t.is_empty() {
                        "NULL".to_string()
                    } else {
                        c_array(&mut weights, "int32_t", &format!("nb_{key}{i}"), t.iter());
                        format!("nb_{key}{i}")
                    })
                };
                let (hidden_table, table) = (table("hidden_table")?, table("gate_table")?);
                let int = |k: &str| op.int(k);
                let _ = writeln!(
                    body,
                    "    {{ static const nb_squeeze_excite p = {{ {}, {}, nb_hidden_multiplier{i}, nb_hidden_shift{i}, {}, {hidden_table}, {}, nb_gate_multiplier{i}, nb_gate_shift{i}, {table}, {}, {}, {}, {}, {}, {} }};",
                    int("pool_multiplier")?, int("pool_shift")?, int("hidden_max")?, int("hidden_out_shift")?, int("multiplier")?, int("shift")?, int("input_zp")?, int("output_zp")?, int("clamp_min")?, int("clamp_max")?
                );
                let _ = writeln!(
                    body,
                    "      nb_squeeze_excite_s8({}, {}, {c}, {cm}, {}, {}, {}, {}, {}, &p); }}",
                    x(0)?,
                    xs[1] * xs[2],
                    x(1)?,
                    x(2)?,
                    x(3)?,
                    x(4)?,
                    ptr("int8_t")
                );
            }
            tile::TRANSPOSE_CONV2D => {
                // The (kernel, input) taps of every output row and column are tables computed
                // here: start offsets, then pairs.
                let (xs, ws, os) = (dims(op.operands[0]), dims(op.operands[1]), dims(r));
                let (out_pad, stride) = (op.ints("out_pad")?, op.ints("stride")?);
                if xs.len() != 4 || ws.len() != 4 || out_pad.len() != 4 || stride.len() != 2 {
                    return Err(err(
                        op,
                        "needs NHWC tensors, OHWI weights, out_pad[4] and stride[2]",
                    ));
                }
                let table = |name: &str, taps: Vec<Vec<(usize, usize)>>, weights: &mut String| {
                    let mut starts = vec![0usize];
                    let mut pairs = Vec::new();
                    for t in &taps {
                        for &(k, i) in t {
                            pairs.extend([k, i]);
                        }
                        starts.push(pairs.len() / 2);
                    }
                    c_array(
                        weights,
                        "int32_t",
                        &format!("{name}_start{i}"),
                        starts.into_iter(),
                    );
                    c_array(
                        weights,
                        "int32_t",
                        &format!("{name}_taps{i}"),
                        pairs.into_iter().chain([0, 0]),
                    );
                };
                let ty = nibble_interp::tconv_taps(
                    os[1] as usize,
                    xs[1] as usize,
                    ws[1] as usize,
                    stride[0],
                    out_pad[0],
                );
                let tx = nibble_interp::tconv_taps(
                    os[2] as usize,
                    xs[2] as usize,
                    ws[2] as usize,
                    stride[1],
                    out_pad[2],
                );
                table("nb_tcy", ty, &mut weights);
                table("nb_tcx", tx, &mut weights);
                let _ = writeln!(
                    body,
                    "    {{ static const nb_rq rq = {};",
                    rq(op, &mut weights)?
                );
                let _ = writeln!(
                    body,
                    "      nb_transpose_conv2d_s8({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, nb_tcy_start{i}, nb_tcy_taps{i}, nb_tcx_start{i}, nb_tcx_taps{i}, &rq); }}",
                    x(0)?, xs[2], xs[3], x(1)?, ws[0], ws[1], ws[2], x(2)?, ptr("int8_t"), os[1], os[2]
                );
            }
            tile::RESIZE => {
                // The taps of every output row and column are tables computed here (no division
                // at run time): low index, high index, weight of the high one.
                let (xs, os) = (dims(op.operands[0]), dims(r));
                let (scale, off) = (op.ints("scale")?, op.ints("image_offset")?);
                let bilinear = matches!(op.attrs.get("mode"), Some(nibble_ir::Attr::Str(m)) if m == "bilinear");
                if xs.len() != 4
                    || scale.len() != 4
                    || off.len() != 2
                    || scale.iter().any(|&v| v <= 0)
                {
                    return Err(err(
                        op,
                        "needs NHWC tensors, scale [ny, dy, nx, dx] > 0 and image_offset [oy, ox]",
                    ));
                }
                let ty = nibble_interp::resize_taps(
                    os[1] as usize,
                    xs[1],
                    scale[0],
                    scale[1],
                    off[0],
                    bilinear,
                );
                let tx = nibble_interp::resize_taps(
                    os[2] as usize,
                    xs[2],
                    scale[2],
                    scale[3],
                    off[1],
                    bilinear,
                );
                let flat = |t: &[(usize, usize, i64)]| {
                    t.iter()
                        .flat_map(|&(a, b, w)| [a as i64, b as i64, w])
                        .collect::<Vec<i64>>()
                };
                c_array(
                    &mut weights,
                    "int32_t",
                    &format!("nb_ry{i}"),
                    flat(&ty).into_iter(),
                );
                c_array(
                    &mut weights,
                    "int32_t",
                    &format!("nb_rx{i}"),
                    flat(&tx).into_iter(),
                );
                let _ = writeln!(
                    body,
                    "    {{ static const nb_rq rq = {};",
                    rq(op, &mut weights)?
                );
                let _ = writeln!(
                    body,
                    "      nb_resize_s8({}, {}, {}, {}, {}, {}, nb_ry{i}, nb_rx{i}, {}, {}, {}, &rq); }}",
                    x(0)?,
                    xs[2],
                    xs[3],
                    ptr("int8_t"),
                    os[1],
                    os[2],
                    scale[0],
                    scale[2],
                    bilinear as i32
                );
            }
            tile::RESHAPE => {
                // Aliases its input: same storage.
                place.insert(r, x(0)?);
                continue;
            }
            _ => return Err(err(op, "no C kernel")),
        }
        place.insert(r, ptr(if bits(r) == 16 { "int16_t" } else { "int8_t" }));
    }
    let (in_scale, in_zp, in_len) = input_q.ok_or_else(|| CodegenError::Op {
        op: "func.func".into(),
        loc: String::new(),
        msg: "the function has no tile.quantize of its input".into(),
    })?;
    let mut model_c = String::from("/* Generated by nibble: the schedule of the model. Integer-only. */\n#include \"model.h\"\n#include \"nibble_runtime.h\"\n\n");
    model_c.push_str(&weights);
    let _ = writeln!(model_c, "\n/* The static memory plan: every activation lives at a fixed offset in one arena. */\nstatic int32_t nb_arena32[{}];\n#define nb_arena ((int8_t *)nb_arena32)\n", arena.max(4).div_ceil(4));
    let out_params: Vec<String> = (0..outputs.len())
        .map(|k| format!("int8_t *out{k}"))
        .collect();
    let _ = writeln!(
        model_c,
        "void nibble_model_run(const int8_t *input, {}) {{",
        out_params.join(", ")
    );
    model_c.push_str(&body);
    for (k, (_, _, v, _)) in outputs.iter().enumerate() {
        let src = place.get(v).cloned().ok_or_else(|| CodegenError::Op {
            op: "tile.dequantize".into(),
            loc: String::new(),
            msg: "output has no storage".into(),
        })?;
        let _ = writeln!(
            model_c,
            "    nb_copy_s8({src}, {}, out{k});",
            f.ty(*v).num_elements()
        );
    }
    model_c.push_str("}\n");
    // The files of one compile name the same model: a main.c or model.h left from another
    // compile in the same directory fails the build instead of running on the wrong layout.
    let id = fnv1a(model_c.as_bytes());
    let check = format!("#if NIBBLE_MODEL_ID != 0x{id:016X}ULL\n#error \"these files come from different compiles: compile again into an empty directory\"\n#endif\n");
    let model_c = model_c.replacen("\n\n", &format!("\n{check}\n"), 1);

    let mut model_h = String::from("/* Generated by nibble. */\n#ifndef NIBBLE_MODEL_H\n#define NIBBLE_MODEL_H\n#include <stdint.h>\n\n");
    let in_shape = dims(f.args[0]);
    let _ = writeln!(model_h, "#define NIBBLE_INPUT_ELEMS {in_len}\n#define NIBBLE_INPUT_RANK {}\n#define NIBBLE_NUM_OUTPUTS {}", in_shape.len(), outputs.len());
    let _ = writeln!(model_h, "#define NIBBLE_ARENA_BYTES {arena}");
    let _ = writeln!(model_h, "/* Identifies this compile (a hash of model.c): model.c and main.c check it. */\n#define NIBBLE_MODEL_ID 0x{id:016X}ULL");
    let _ = writeln!(model_h, "/* Runs one sample: input is the quantized input ({in_len} int8), outK receive the int8 outputs. */");
    let _ = writeln!(
        model_h,
        "void nibble_model_run(const int8_t *input, {});\n#endif",
        out_params.join(", ")
    );

    // main.c: the float I/O harness (the only file with floats).
    let mut cfg = String::new();
    let _ = writeln!(
        cfg,
        "static const long in_shape[] = {{{}}};",
        arr(&in_shape)
    );
    let _ = writeln!(
        cfg,
        "static const double in_scale = {};\nstatic const int in_zp = {in_zp};",
        float_literal(in_scale)
    );
    let _ = writeln!(cfg, "#define NUM_OUT {}", outputs.len());
    let out_elems: Vec<String> = outputs
        .iter()
        .map(|o| f.ty(o.2).num_elements().to_string())
        .collect();
    let out_scales: Vec<String> = outputs.iter().map(|o| float_literal(o.0)).collect();
    let out_zps: Vec<String> = outputs.iter().map(|o| o.1.to_string()).collect();
    let _ = writeln!(cfg, "static const long out_elems[NUM_OUT] = {{{}}};\nstatic const double out_scale[NUM_OUT] = {{{}}};\nstatic const int out_zp[NUM_OUT] = {{{}}};", out_elems.join(", "), out_scales.join(", "), out_zps.join(", "));
    let shapes: Vec<String> = outputs
        .iter()
        .map(|o| {
            format!(
                "\"{}\"",
                dims(o.3)
                    .iter()
                    .skip(1)
                    .map(|d| format!("{d}, "))
                    .collect::<String>()
            )
        })
        .collect();
    let _ = writeln!(
        cfg,
        "static const char *out_shape_tail[NUM_OUT] = {{{}}};",
        shapes.join(", ")
    );
    let bufs: Vec<String> = (0..outputs.len()).map(|k| format!("qout[{k}]")).collect();
    let _ = writeln!(
        cfg,
        "#define RUN_MODEL(in, qout) nibble_model_run(in, {})",
        bufs.join(", ").replace("qout", "(qout)")
    );
    let main_c = MAIN_TEMPLATE.replace("/*@CONFIG@*/", &format!("{check}{cfg}"));
    Ok(vec![
        ("model.h".into(), model_h),
        ("model.c".into(), model_c),
        ("nibble_runtime.h".into(), RUNTIME_H.into()),
        ("nibble_runtime.c".into(), RUNTIME_C.into()),
        ("main.c".into(), main_c),
    ])
}
