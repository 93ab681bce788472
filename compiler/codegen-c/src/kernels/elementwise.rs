//! Calls of the elementwise ops: requantization, 256-entry lookup tables, clamps, and
//! broadcasting add and mul with their rescaling (`nb_binary`).

use super::{call, Kernel};
use crate::arrays::{c_array, fields, int_arrays};
use crate::CodegenError;
use nibble_ir::Elem;
use nibble_tile as tile;

/// `nb_requant_tensor`: an i8 or i16 tensor rescaled to the result's grid.
pub(super) fn requant(k: &mut Kernel) -> Result<(), CodegenError> {
    if !matches!(k.f.ty(k.operand(0)?).elem(), Some(Elem::Int(8 | 16))) {
        return Err(k.err("only i8 and i16 inputs are supported by the C requant kernel"));
    }
    let decl = k.rq(&tile::Requant::from_op(k.op)?);
    let run = call(
        "nb_requant_tensor",
        &[&k.xb(0)?, &k.result_elems()?, &k.out()?, &"&rq"],
    );
    k.block(&[decl], &run);
    Ok(())
}

/// `nb_lut_s8`: each int8 value through the op's 256-entry table (`nb_lut{i}`).
pub(super) fn lut(k: &mut Kernel) -> Result<(), CodegenError> {
    let table = tile::Lut::from_op(k.op)?.table;
    if table.len() != 256 {
        return Err(k.err("the table needs 256 entries"));
    }
    let name = format!("nb_lut{}", k.i);
    c_array(k.weights, "int8_t", &name, table.iter());
    let run = call(
        "nb_lut_s8",
        &[&k.x(0)?, &k.result_elems()?, &k.ptr("int8_t"), &name],
    );
    k.line(&run);
    Ok(())
}

/// `nb_clamp`: an i8 or i16 tensor clamped to `[min, max]`.
pub(super) fn clamp(k: &mut Kernel) -> Result<(), CodegenError> {
    let p = tile::Clamp::from_op(k.op)?;
    let run = call(
        "nb_clamp",
        &[
            &k.xb(0)?,
            &k.result_elems()?,
            &k.ptr("void"),
            &p.min,
            &p.max,
        ],
    );
    k.line(&run);
    Ok(())
}

/// `nb_add` / `nb_mul`: operands of the result's rank (up to 6) broadcast to it, each
/// relative to its zero point; an add weighs each side by its multiplier, a mul rescales the
/// product by one (`nb_binary`).
pub(super) fn add_mul(k: &mut Kernel) -> Result<(), CodegenError> {
    let (sa, sb) = (k.dims(k.operand(0)?), k.dims(k.operand(1)?));
    let so = k.dims(k.result()?);
    if so.len() > 6 || sa.len() != so.len() || sb.len() != so.len() {
        return Err(k.err("operands of equal rank up to 6 are supported"));
    }
    let add = k.op.name == tile::ADD;
    let (io, ma, mb, shift) = if add {
        let p = tile::Add::from_op(k.op)?;
        match p.multiplier[..] {
            [ma, mb, ..] => (p.io, ma as i64, mb as i64, p.shift),
            _ => return Err(k.err("an add needs two multipliers")),
        }
    } else {
        let p = tile::Mul::from_op(k.op)?;
        (p.io, p.multiplier, 0, p.shift)
    };
    let [za, zb] = io.input_zp;
    // A scalar result is a one-element tensor of rank 1.
    let rank = so.len().max(1);
    let one = |v: Vec<i64>| if v.is_empty() { vec![1] } else { v };
    let (sa, sb, so) = (one(sa), one(sb), one(so));
    let shapes = int_arrays(&[("sa", rank, &sa), ("sb", rank, &sb), ("so", rank, &so)]);
    let params = fields(&[
        &za,
        &zb,
        &io.output_zp,
        &io.clamp_min,
        &io.clamp_max,
        &ma,
        &mb,
        &shift,
    ]);
    let run = call(
        if add { "nb_add" } else { "nb_mul" },
        &[
            &k.xb(0)?,
            &"sa",
            &k.xb(1)?,
            &"sb",
            &k.out()?,
            &rank,
            &"so, &p",
        ],
    );
    let decls = [shapes, format!("static const nb_binary p = {params};")];
    k.block(&decls, &run);
    Ok(())
}
