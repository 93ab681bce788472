//! Layers with weights: convolutions (regular, depthwise, transposed) and matrix products by a
//! constant (fully connected, with the bias of the reshape → add the importer emits for Gemm)
//! accumulate in i32 at `input_scale · weight_scale`, then take their epilogue (a fused
//! activation, or a requantization to their own range). A product of two activations
//! (attention) is a `qnt.matmul`.

use super::epilogue::{activation_epilogue, requant_to_range};
use super::types::{acc_type, qtype};
use super::weights::{
    corrected, layer_scales, mean_of, quantize_bias, quantize_weights_along, width_of, Weights,
};
use super::{err, Cx, Lowered};
use crate::LowerError;
use nibble_graph::tosa;
use nibble_ir::{Elem, Op, QuantType, Type, ValueId};
use nibble_qnt as qnt;

/// Records a layer's weight grid on the qnt op computing `acc` (`weight_bits`; none at 8 bits).
pub(super) fn mark_width(cx: &mut Cx<'_>, acc: ValueId, width: nibble_quantize::WeightWidth) {
    if width == nibble_quantize::WeightWidth::W8 {
        return;
    }
    if let Some(op) = cx.f.ops.iter_mut().rev().find(|o| o.results.contains(&acc)) {
        op.attrs.insert(
            qnt::keys::WEIGHT_BITS.into(),
            nibble_ir::Attr::Str(width.name().into()),
        );
    }
}

/// The constant operand `k` of `op`: its shape and data, or the error `what`.
fn weights_of(
    cx: &Cx<'_>,
    op: &Op,
    k: usize,
    what: &str,
) -> Result<(Vec<i64>, Vec<f32>), LowerError> {
    op.operands
        .get(k)
        .and_then(|v| cx.consts.get(v))
        .map(|(ty, data)| (ty.shape().unwrap_or(&[]).to_vec(), data.clone()))
        .ok_or_else(|| err(op, what))
}

/// `tosa.conv2d`, `tosa.depthwise_conv2d` and `tosa.transpose_conv2d` with constant weights
/// and bias.
pub(super) fn conv(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let depthwise = op.name == tosa::DEPTHWISE_CONV2D;
    let (x, qx) = cx.quant_input(op, 0)?;
    let sx = qx.scale;
    let (ws, w) = weights_of(cx, op, 1, "weights must be constant")?;
    let (_, b) = weights_of(cx, op, 2, "bias must be constant")?;
    if depthwise && (ws.len() != 4 || ws[3] != 1) {
        return Err(err(op, "only depthwise multiplier 1 is supported"));
    }
    // Output channels: axis 0 of OHWI conv weights, axis 2 of depthwise [KH,KW,C,1].
    let axis = if depthwise { 2 } else { 0 };
    let scales = layer_scales(op, &w, &ws, axis, cx.cfg)?;
    let scheme = cx.scheme();
    let width = width_of(op)?;
    let wq = quantize_weights_along(
        &mut cx.f,
        &ws,
        &w,
        axis,
        scales,
        scheme,
        Some((&b, sx)),
        width,
    );
    let b = match mean_of(op).filter(|_| cx.cfg.bias_correction) {
        Some(mean) if Some(&(mean.len() as i64)) == ws.get(if depthwise { 2 } else { 3 }) => {
            conv_bias_corrected(&b, &w, &wq.dequantized, &mean, depthwise)
        }
        _ => b,
    };
    let acc_scales: Vec<f64> = wq.scales.iter().map(|s| sx * s).collect();
    let bq = quantize_bias(&mut cx.f, &b, &acc_scales);
    let acc_ty = acc_type(&cx.shape(op.results[0]), &acc_scales);
    let acc = conv_op(cx, op, x, wq.value, bq, acc_ty)?;
    mark_width(cx, acc, width);
    // A clamp, PReLU, hard-swish or swish that alone reads the conv rescales its accumulator
    // directly.
    if let Some((last, value)) = activation_epilogue(cx, acc, &acc_scales, i)? {
        return Ok(Lowered::Chain { last, value });
    }
    Ok(Lowered::Value(requant_to_range(
        &mut cx.f, acc, op, scheme,
    )?))
}

/// The bias minus the expected error of the quantized weights on the layer's mean input. OHWI:
/// tap j of output o reads input channel j % C; depthwise [KH,KW,C,1]: element j belongs to
/// channel j % C.
fn conv_bias_corrected(
    b: &[f32],
    w: &[f32],
    wd: &[f64],
    mean: &[f64],
    depthwise: bool,
) -> Vec<f32> {
    let c = mean.len();
    let oc = b.len();
    let mut corr = vec![0.0f64; oc];
    for (j, (&q, &x)) in wd.iter().zip(w).enumerate() {
        let o = if depthwise { j % c } else { j / (w.len() / oc) };
        corr[o] += (q - x as f64) * mean[j % c];
    }
    corrected(b, &corr)
}

/// The convolution itself, accumulating into `acc_ty`.
fn conv_op(
    cx: &mut Cx<'_>,
    op: &Op,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    acc_ty: Type,
) -> Result<ValueId, LowerError> {
    if op.name == tosa::TRANSPOSE_CONV2D {
        let (p, s) = (op.ints("out_pad")?, op.ints("stride")?);
        if p.len() != 4 || s.len() != 2 {
            return Err(err(op, "out_pad and stride need 4 and 2 values"));
        }
        return Ok(qnt::transpose_conv2d(&mut cx.f, x, w, b, acc_ty, &p, &s));
    }
    let (p, s, d) = (op.ints("pad")?, op.ints("stride")?, op.ints("dilation")?);
    if p.len() != 4 || s.len() != 2 || d.len() != 2 {
        return Err(err(op, "pad, stride and dilation need 4, 2 and 2 values"));
    }
    let build = if op.name == tosa::DEPTHWISE_CONV2D {
        qnt::depthwise_conv2d
    } else {
        qnt::conv2d
    };
    Ok(build(
        &mut cx.f,
        x,
        w,
        b,
        acc_ty,
        [p[0], p[1], p[2], p[3]],
        [s[0], s[1]],
        [d[0], d[1]],
    ))
}

/// `tosa.matmul`: x[1,N,K] · B[1,K,M] by a constant B, followed by reshape to [N,M] and
/// + bias[1,M], is a fully connected layer; by an activation, an attention product.
pub(super) fn matmul(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let Some((bty, bw)) = cx.consts.get(&op.operands[1]).cloned() else {
        return attention(cx, i, x, q);
    };
    let bs = bty.shape().unwrap_or(&[]).to_vec();
    let xs = cx.shape(op.operands[0]);
    if xs.len() != 3 || bs.len() != 3 {
        return Err(err(op, "matmul operands must be [B,N,K] and [B,K,M]"));
    }
    if xs[0] != 1 || bs[0] != 1 {
        return Err(err(op, "only batch-1 matmul is supported"));
    }
    let (n, k, m) = (xs[1], xs[2], bs[2]);
    let (mut last, bias) = match gemm_bias(cx, i, m as usize) {
        Some((add, bias)) => (add, bias),
        None => (i, vec![0.0f32; m as usize]),
    };
    let x2 = qnt::reshape(&mut cx.f, x, Type::tensor(&[n, k], Elem::Quant(q)));
    // weights as [M, K]
    let mut wt = vec![0.0f32; (m * k) as usize];
    for kk in 0..k as usize {
        for mm in 0..m as usize {
            wt[mm * k as usize + kk] = bw[kk * m as usize + mm];
        }
    }
    let (wq, bias) = fc_weights(cx, op, &wt, [m, k], bias, q.scale)?;
    let acc_scales: Vec<f64> = wq.scales.iter().map(|s| q.scale * s).collect();
    let bq = quantize_bias(&mut cx.f, &bias, &acc_scales);
    let acc_ty = acc_type(&[n, m], &acc_scales);
    let acc = qnt::fully_connected(&mut cx.f, x2, wq.value, bq, acc_ty);
    mark_width(cx, acc, width_of(op)?);
    let out = match activation_epilogue(cx, acc, &acc_scales, last)? {
        Some((end, out)) => {
            last = end;
            out
        }
        None => requant_to_range(&mut cx.f, acc, &cx.g.ops[last], cx.cfg.scheme)?,
    };
    let want = cx.shape(cx.g.ops[last].results[0]);
    let value = if cx.f.ty(out).shape() != Some(want.as_slice()) {
        let elem = cx.f.ty(out).elem().cloned().unwrap_or(Elem::F32);
        qnt::reshape(&mut cx.f, out, Type::tensor(&want, elem))
    } else {
        out
    };
    Ok(Lowered::Chain { last, value })
}

/// The reshape(s) → add of a constant [M] that the importer emits after a Gemm's product, if
/// they alone follow matmul `i`: the add's index and the bias. (The exporter may reshape more
/// than once: [1,N,M] → [N,M] → [1,N,M].)
fn gemm_bias(cx: &Cx<'_>, i: usize, m: usize) -> Option<(usize, Vec<f32>)> {
    let g = cx.g;
    let user = |v: ValueId| g.ops.iter().position(|o| o.operands.contains(&v));
    let mut reshapes = 0;
    let mut v = g.ops[i].results[0];
    while let Some(r) = user(v).filter(|&r| g.ops[r].name == tosa::RESHAPE && cx.uses[v] == 1) {
        reshapes += 1;
        v = g.ops[r].results[0];
    }
    let a = user(v).filter(|&a| g.ops[a].name == tosa::ADD && cx.uses[v] == 1 && reshapes > 0)?;
    let other = g.ops[a].operands.iter().copied().find(|&o| o != v)?;
    let (_, c) = cx.consts.get(&other)?;
    (c.len() == m).then(|| (a, c.clone()))
}

/// The [M, K] weights of a fully connected layer, and its bias (bias-corrected when asked).
fn fc_weights(
    cx: &mut Cx<'_>,
    op: &Op,
    wt: &[f32],
    [m, k]: [i64; 2],
    mut bias: Vec<f32>,
    sx: f64,
) -> Result<(Weights, Vec<f32>), LowerError> {
    let scales = layer_scales(op, wt, &[m, k], 0, cx.cfg)?;
    let scheme = cx.scheme();
    let width = width_of(op)?;
    let wq = quantize_weights_along(
        &mut cx.f,
        &[m, k],
        wt,
        0,
        scales,
        scheme,
        Some((&bias, sx)),
        width,
    );
    if let Some(mean) = mean_of(op).filter(|v| cx.cfg.bias_correction && v.len() == k as usize) {
        let (mu, ku) = (m as usize, k as usize);
        let wd = &wq.dequantized;
        let corr: Vec<f64> = (0..mu)
            .map(|o| {
                (0..ku)
                    .map(|kk| (wd[o * ku + kk] - wt[o * ku + kk] as f64) * mean[kk])
                    .sum()
            })
            .collect();
        bias = corrected(&bias, &corr);
    }
    Ok((wq, bias))
}

/// Activation × activation (attention): an i32 accumulator at sa·sb, requantized to the
/// product's range.
fn attention(cx: &mut Cx<'_>, i: usize, x: ValueId, q: QuantType) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (b, qb) = cx.quant_input(op, 1)?;
    let (sa, sb) = (cx.shape(op.operands[0]), cx.shape(op.operands[1]));
    if sa.len() != 3 || sb.len() != 3 || sa[0] != sb[0] || sa[2] != sb[1] {
        return Err(err(op, "matmul operands must be [B,N,K] and [B,K,M]"));
    }
    let ty = qtype(&cx.shape(op.results[0]), 32, q.scale * qb.scale);
    let acc = qnt::matmul(&mut cx.f, x, b, ty);
    let scheme = cx.scheme();
    Ok(Lowered::Value(requant_to_range(
        &mut cx.f, acc, op, scheme,
    )?))
}
