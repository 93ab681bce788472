//! One `npu.h` call per npu command. SRAM tiles are byte offsets (the value's `sram_offset`),
//! DRAM tensors the C expressions codegen-c gave them; shapes, boxes and window geometry are
//! `static const int` arrays of a block around the call, requantization an `nb_rq` record.

use nibble_codegen_c::ext::{rq_initializer, Cx};
use nibble_codegen_c::CodegenError;
use nibble_ir::{Elem, Op, ValueId};
use nibble_npu_dialect as npu;
use std::fmt::Write;

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

/// `static const int a[n] = {…}, b[m] = {…};`
fn ints(decls: &[(&str, &[i64])]) -> String {
    let parts: Vec<String> = decls
        .iter()
        .map(|(name, v)| {
            let vals: Vec<String> = v.iter().map(|x| x.to_string()).collect();
            format!(
                "{name}[{}] = {{{}}}",
                v.len().max(1),
                if vals.is_empty() {
                    "0".into()
                } else {
                    vals.join(", ")
                }
            )
        })
        .collect();
    format!("static const int {};", parts.join(", "))
}

/// `{ DECLS\n      CALL }` into the body.
fn block(cx: &mut Cx, decls: &[String], call: &str) {
    let _ = write!(cx.body, "    {{");
    for (k, d) in decls.iter().enumerate() {
        let _ = writeln!(cx.body, "{}{d}", if k == 0 { " " } else { "      " });
    }
    if decls.is_empty() {
        let _ = writeln!(cx.body);
    }
    let _ = writeln!(cx.body, "      {call} }}");
}

/// Operand `k`.
fn operand(cx: &Cx, k: usize) -> Result<ValueId, CodegenError> {
    cx.op
        .operands
        .get(k)
        .copied()
        .ok_or_else(|| err(cx.op, format!("operand {k} is missing")))
}

/// The storage of operand `k` (an SRAM offset or a DRAM expression).
fn at(cx: &Cx, k: usize) -> Result<String, CodegenError> {
    let v = operand(cx, k)?;
    cx.place
        .get(&v)
        .cloned()
        .ok_or_else(|| err(cx.op, format!("operand {k} has no storage")))
}

/// The shape of `v`.
fn dims(cx: &Cx, v: ValueId) -> Vec<i64> {
    cx.f.ty(v).shape().unwrap_or(&[]).to_vec()
}

/// Storage bits of `v` (8, 16 or 32).
fn bits(cx: &Cx, v: ValueId) -> i64 {
    match cx.f.ty(v).elem() {
        Some(Elem::Int(b)) => i64::from((*b).max(8)),
        _ => 8,
    }
}

fn result(cx: &Cx) -> Result<ValueId, CodegenError> {
    cx.op
        .results
        .first()
        .copied()
        .ok_or_else(|| err(cx.op, "the op has no result"))
}

/// Writes the call of command `cx.op` and gives its result a place.
pub(super) fn write(cx: &mut Cx) -> Result<(), CodegenError> {
    let op = cx.op;
    let id = op.int(npu::ID)?;
    if op.name == npu::DMA_WAIT {
        let _ = writeln!(cx.body, "    npu_dma_wait({id});");
        return Ok(());
    }
    let r = result(cx)?;
    match op.name.as_str() {
        npu::DMA_LOAD | npu::DMA_STORE => return dma(cx, id, r),
        _ => {}
    }
    let y = op.int(nibble_tile::SRAM_OFFSET)?;
    cx.place.insert(r, y.to_string());
    let (x0, yb) = (operand(cx, 0)?, bits(cx, r));
    let xs = dims(cx, x0);
    let os = dims(cx, r);
    let need = |s: &[i64], n: usize| -> Result<(), CodegenError> {
        if s.len() != n {
            return Err(err(op, format!("needs rank-{n} tiles, got {s:?}")));
        }
        Ok(())
    };
    match op.name.as_str() {
        npu::CONV2D | npu::DEPTHWISE_CONV2D => {
            need(&xs, 4)?;
            need(&os, 4)?;
            let ws = dims(cx, operand(cx, 1)?);
            need(&ws, 4)?;
            let geo = ints(&[
                ("pad", &op.ints("pad")?),
                ("stride", &op.ints("stride")?),
                ("dil", &op.ints("dilation")?),
            ]);
            let rq = format!(
                "static const nb_rq rq = {};",
                rq_initializer(op, cx.i, cx.tables)?
            );
            let (x, w, b) = (at(cx, 0)?, at(cx, 1)?, at(cx, 2)?);
            let xb = bits(cx, x0);
            let call = if op.name == npu::CONV2D {
                format!(
                    "npu_conv2d({id}, {}, {}, {x}, {xb}, {}, {}, {}, {w}, {}, {}, {}, {b}, {y}, {yb}, {}, {}, pad, stride, dil, &rq);",
                    dataflow(op), weight_bits(cx), xs[1], xs[2], xs[3], ws[0], ws[1], ws[2], os[1], os[2]
                )
            } else {
                format!(
                    "npu_depthwise_conv2d({id}, {x}, {xb}, {}, {}, {}, {w}, {}, {}, {b}, {y}, {yb}, {}, {}, pad, stride, dil, &rq);",
                    xs[1], xs[2], xs[3], ws[0], ws[1], os[1], os[2]
                )
            };
            block(cx, &[geo, rq], &call);
        }
        npu::FULLY_CONNECTED => {
            need(&xs, 2)?;
            let ws = dims(cx, operand(cx, 1)?);
            need(&ws, 2)?;
            let rq = format!(
                "static const nb_rq rq = {};",
                rq_initializer(op, cx.i, cx.tables)?
            );
            let (x, w, b) = (at(cx, 0)?, at(cx, 1)?, at(cx, 2)?);
            let call =
                format!(
                "npu_fully_connected({id}, {}, {}, {x}, {}, {}, {}, {w}, {}, {b}, {y}, {yb}, &rq);",
                dataflow(op), weight_bits(cx), bits(cx, x0), xs[0], xs[1], ws[0]
            );
            block(cx, &[rq], &call);
        }
        npu::MAX_POOL2D | npu::AVG_POOL2D => {
            need(&xs, 4)?;
            need(&os, 4)?;
            let win = ints(&[
                ("kernel", &op.ints("kernel")?),
                ("stride", &op.ints("stride")?),
                ("pad", &op.ints("pad")?),
            ]);
            let x = at(cx, 0)?;
            let args = format!(
                "{id}, {x}, {}, {}, {}, {y}, {}, {}, kernel, stride, pad",
                xs[1], xs[2], xs[3], os[1], os[2]
            );
            if op.name == npu::MAX_POOL2D {
                block(cx, &[win], &format!("npu_max_pool2d({args});"));
            } else {
                let rq = format!(
                    "static const nb_rq rq = {};",
                    rq_initializer(op, cx.i, cx.tables)?
                );
                block(cx, &[win, rq], &format!("npu_avg_pool2d({args}, &rq);"));
            }
        }
        npu::REQUANT => {
            let rq = format!(
                "static const nb_rq rq = {};",
                rq_initializer(op, cx.i, cx.tables)?
            );
            let n = cx.f.ty(r).num_elements();
            let call = format!(
                "npu_requant({id}, {}, {}, {n}, {y}, {yb}, &rq);",
                at(cx, 0)?,
                bits(cx, x0)
            );
            block(cx, &[rq], &call);
        }
        npu::CLAMP => {
            let n = cx.f.ty(r).num_elements();
            let call = format!(
                "npu_clamp({id}, {}, {}, {n}, {y}, {}, {});",
                at(cx, 0)?,
                bits(cx, x0),
                op.int("min")?,
                op.int("max")?
            );
            let _ = writeln!(cx.body, "    {call}");
        }
        npu::LUT => {
            let (_, table) = op.dense("table")?;
            if table.len() != 256 {
                return Err(err(op, "the table needs 256 entries"));
            }
            let vals: Vec<String> = table.iter().map(|&b| (b as i8).to_string()).collect();
            let decl = format!("static const int8_t table[256] = {{{}}};", vals.join(", "));
            let n = cx.f.ty(r).num_elements();
            block(
                cx,
                &[decl],
                &format!("npu_lut({id}, {}, {n}, {y}, table);", at(cx, 0)?),
            );
        }
        npu::ADD | npu::MUL => binary(cx, id, r, y)?,
        _ => return Err(err(op, "no npu.h call")),
    }
    Ok(())
}

/// `npu_add` / `npu_mul`.
fn binary(cx: &mut Cx, id: i64, r: ValueId, y: i64) -> Result<(), CodegenError> {
    let op = cx.op;
    let (a, b) = (operand(cx, 0)?, operand(cx, 1)?);
    let (sa, sb, so) = (dims(cx, a), dims(cx, b), dims(cx, r));
    if so.len() > 6 || sa.len() != so.len() || sb.len() != so.len() {
        return Err(err(op, "operands of equal rank up to 6 are supported"));
    }
    let add = op.name == npu::ADD;
    let zp = op.int_list("input_zp")?;
    let (ma, mb) = if add {
        match op.int_list("multiplier")?[..] {
            [ma, mb, ..] => (ma, mb),
            _ => return Err(err(op, "an add needs two multipliers")),
        }
    } else {
        (op.int("multiplier")?, 0)
    };
    let [za, zb, ..] = zp[..] else {
        return Err(err(op, "input_zp needs two entries"));
    };
    let one = |v: Vec<i64>| if v.is_empty() { vec![1] } else { v };
    let (sa, sb, so) = (one(sa), one(sb), one(so));
    let shapes = ints(&[("sa", &sa), ("sb", &sb), ("so", &so)]);
    let p = format!(
        "static const nb_binary p = {{{za}, {zb}, {}, {}, {}, {ma}, {mb}, {}}};",
        op.int("output_zp")?,
        op.int("clamp_min")?,
        op.int("clamp_max")?,
        op.int("shift")?
    );
    let call = format!(
        "{}({id}, {}, {}, sa, {}, {}, sb, {y}, {}, {}, so, &p);",
        if add { "npu_add" } else { "npu_mul" },
        at(cx, 0)?,
        bits(cx, a),
        at(cx, 1)?,
        bits(cx, b),
        bits(cx, r),
        so.len()
    );
    block(cx, &[shapes, p], &call);
    Ok(())
}

/// `npu_dma_load` / `npu_dma_store` of a box.
fn dma(cx: &mut Cx, id: i64, r: ValueId) -> Result<(), CodegenError> {
    let op = cx.op;
    let after = op.int(npu::AFTER)?;
    let start = op.ints("start")?;
    let load = op.name == npu::DMA_LOAD;
    // The DRAM tensor and the SRAM tile.
    let (dram_v, tile_v) = if load {
        (operand(cx, 0)?, r)
    } else {
        (operand(cx, 1)?, operand(cx, 0)?)
    };
    let dram = at(cx, if load { 0 } else { 1 })?;
    let (shape, size) = (dims(cx, dram_v), dims(cx, tile_v));
    if shape.len() != start.len() || size.len() != start.len() || shape.is_empty() {
        return Err(err(op, "the box and the tensor need the same rank"));
    }
    let eb = (bits(cx, tile_v) / 8).max(1);
    let decl = ints(&[("shape", &shape), ("start", &start), ("size", &size)]);
    let call = if load && op.attrs.contains_key(nibble_tile::PRELOAD) {
        let s = op.int(nibble_tile::SRAM_OFFSET)?;
        cx.place.insert(r, s.to_string());
        format!(
            "npu_dma_preload({id}, {dram}, {eb}, {}, shape, start, size, {s});",
            shape.len()
        )
    } else if load {
        let s = op.int(nibble_tile::SRAM_OFFSET)?;
        cx.place.insert(r, s.to_string());
        format!(
            "npu_dma_load({id}, {after}, {dram}, {eb}, {}, shape, start, size, {s});",
            shape.len()
        )
    } else {
        let s = at(cx, 0)?;
        cx.place.insert(r, dram.clone());
        format!(
            "npu_dma_store({id}, {after}, {dram}, {eb}, {}, shape, start, size, {s});",
            shape.len()
        )
    };
    block(cx, &[decl], &call);
    Ok(())
}

/// `NPU_WS` / `NPU_OS`.
fn dataflow(op: &Op) -> &'static str {
    match op.attrs.get(nibble_tile::DATAFLOW) {
        Some(nibble_ir::Attr::Str(s)) if s == "os" => "NPU_OS",
        _ => "NPU_WS",
    }
}

/// The width the MAC array multiplies the weights at.
fn weight_bits(cx: &Cx) -> u32 {
    nibble_lower::schedule::engine::weight_bits(cx.f, cx.op)
}
