//! Calls of the ops that move int8 data without arithmetic: transpose, slice and concat.

use super::{call, Kernel};
use crate::arrays::int_arrays;
use crate::CodegenError;
use nibble_tile as tile;

/// `nb_transpose_s8`: ranks up to 6.
pub(super) fn transpose(k: &mut Kernel) -> Result<(), CodegenError> {
    let xs = k.dims(k.operand(0)?);
    if xs.len() > 6 {
        return Err(k.err("rank above 6"));
    }
    let n = xs.len();
    let perms = tile::Transpose::from_op(k.op)?.params.perms;
    let perms: Vec<i64> = perms.iter().map(|&p| p as i64).collect();
    let decl = int_arrays(&[("shape", n, &xs), ("perms", n, &perms)]);
    let run = call(
        "nb_transpose_s8",
        &[&k.x(0)?, &n, &"shape, perms", &k.ptr("int8_t")],
    );
    k.block(&[decl], &run);
    Ok(())
}

/// `nb_slice_s8`: the window `[start, start + out_shape)`, ranks 1 to 6.
pub(super) fn slice(k: &mut Kernel) -> Result<(), CodegenError> {
    let (xs, os) = (k.dims(k.operand(0)?), k.dims(k.result()?));
    if xs.is_empty() || xs.len() > 6 {
        return Err(k.err("ranks 1 to 6 are supported"));
    }
    let n = xs.len();
    let start = tile::Slice::from_op(k.op)?.params.start;
    let decl = int_arrays(&[
        ("shape", n, &xs),
        ("start", n, &start),
        ("out_shape", n, &os),
    ]);
    let run = call(
        "nb_slice_s8",
        &[&k.x(0)?, &n, &"shape, start, out_shape", &k.ptr("int8_t")],
    );
    k.block(&[decl], &run);
    Ok(())
}

/// `nb_concat_part_s8`, once per operand: each copies its chunks (everything from `axis`
/// inwards) to their place in every outer row of the result.
pub(super) fn concat(k: &mut Kernel) -> Result<(), CodegenError> {
    let os = k.dims(k.result()?);
    let axis = tile::Concat::from_op(k.op)?.params.axis as usize;
    if axis >= os.len() {
        return Err(k.err("axis out of range"));
    }
    let outer: i64 = os[..axis].iter().product();
    let out_chunk: i64 = os[axis..].iter().product();
    let mut at = 0;
    for j in 0..k.op.operands.len() {
        let Some(inner) = k.dims(k.operand(j)?).get(axis..).map(<[i64]>::to_vec) else {
            return Err(k.err(format!("operand {j} has no axis {axis}")));
        };
        let chunk: i64 = inner.iter().product();
        let run = call(
            "nb_concat_part_s8",
            &[&k.x(j)?, &outer, &chunk, &k.ptr("int8_t"), &out_chunk, &at],
        );
        k.line(&run);
        at += chunk;
    }
    Ok(())
}
