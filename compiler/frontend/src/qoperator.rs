//! onnxruntime's QOperator form of quantized models, rewritten before import into the QDQ form
//! the importer reads (`ops/qdq.rs`): `QLinearConv` and `QLinearMatMul` become
//! DequantizeLinear of their inputs, the float Conv / MatMul, and QuantizeLinear of the result,
//! with the same scales and zero points; a QLinearConv's int32 bias is dequantized at the scale
//! x_scale · w_scale its definition gives it. The float op keeps the node's name, so messages
//! and `nibble report` name the layer as the model does.
//!
//! Before: `y = QLinearConv(x, xs, xz, w, ws, wz, ys, yz, B)`
//! After:  `x' = DQ(x, xs, xz); w' = DQ(w, ws, wz, axis 0); B' = DQ(B, xs·ws, axis 0);
//!          y' = Conv(x', w', B'); y = Q(y', ys, yz)`

use crate::onnx::{attribute_proto::AttributeType, AttributeProto, NodeProto};
use crate::tensor::Const;
use crate::ImportError;
use std::collections::HashMap;

/// onnxruntime's contrib domain, of QGemm.
pub(crate) const MICROSOFT: &str = "com.microsoft";

/// The graph's nodes with every QLinearConv / QLinearMatMul expanded; the bias scales they need
/// are added to `consts`.
pub(crate) fn expand(
    nodes: &[NodeProto],
    consts: &mut HashMap<String, Const>,
) -> Result<Vec<NodeProto>, ImportError> {
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes {
        match n.op_type() {
            "QLinearConv" => qlinear(n, "Conv", consts, &mut out)?,
            "QLinearMatMul" => qlinear(n, "MatMul", consts, &mut out)?,
            "QGemm" if n.domain() == MICROSOFT => qlinear(n, "Gemm", consts, &mut out)?,
            _ => out.push(n.clone()),
        }
    }
    Ok(out)
}

/// Expands a QLinear op: inputs (a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp[, bias]),
/// or onnxruntime's QGemm: (a, a_scale, a_zp, b, b_scale, b_zp[, c[, y_scale, y_zp]]), whose
/// result is float without y_scale.
fn qlinear(
    n: &NodeProto,
    op: &str,
    consts: &mut HashMap<String, Const>,
    out: &mut Vec<NodeProto>,
) -> Result<(), ImportError> {
    let name = if n.name().is_empty() {
        n.output.first().cloned().unwrap_or_default()
    } else {
        n.name().to_string()
    };
    let err = |msg: String| ImportError::Node {
        op: n.op_type().to_string(),
        node: name.clone(),
        msg,
    };
    let input = |i: usize| n.input.get(i).cloned().unwrap_or_default();
    let gemm = op == "Gemm";
    let (bias, y) = if gemm { (6, 7) } else { (8, 6) };
    let min_inputs = if gemm { 6 } else { 8 };
    if n.input.len() < min_inputs
        || n.output.len() != 1
        || input(0).is_empty()
        || input(3).is_empty()
    {
        return Err(err(
            "needs inputs a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point and one output".into(),
        ));
    }
    let tmp = |what: &str| format!("{name}/{what}");
    // Per-axis weights are per output channel: axis 0 of conv weights, the last of a matrix.
    let b_axis = match op {
        "Conv" => 0,
        "Gemm"
            if n.attribute
                .iter()
                .any(|a| a.name() == "transB" && a.i() != 0) =>
        {
            0
        }
        _ => -1,
    };
    out.push(node(
        "DequantizeLinear",
        &tmp("dequantize a"),
        &[input(0), input(1), input(2)],
        &tmp("a"),
        None,
    ));
    out.push(node(
        "DequantizeLinear",
        &tmp("dequantize b"),
        &[input(3), input(4), input(5)],
        &tmp("b"),
        Some(b_axis),
    ));
    let mut inputs = vec![tmp("a"), tmp("b")];
    if op != "MatMul" && n.input.get(bias).is_some_and(|b| !b.is_empty()) {
        let scale = |i: usize| {
            consts
                .get(&input(i))
                .cloned()
                .ok_or_else(|| err(format!("input {i} must be a constant")))
        };
        let (xs, ws) = (scale(1)?, scale(4)?);
        if xs.data.len() != 1 {
            return Err(err("x_scale must be one number".into()));
        }
        let data: Vec<f32> = ws.data.iter().map(|w| w * xs.data[0]).collect();
        consts.insert(
            tmp("bias scale"),
            Const {
                dims: vec![data.len() as i64],
                data,
            },
        );
        out.push(node(
            "DequantizeLinear",
            &tmp("dequantize bias"),
            &[input(bias), tmp("bias scale")],
            &tmp("bias"),
            Some(0),
        ));
        inputs.push(tmp("bias"));
    }
    let float_out = gemm && input(y).is_empty();
    let y_name = if float_out {
        n.output[0].clone()
    } else {
        tmp("y")
    };
    let mut layer = node(op, &name, &inputs, &y_name, None);
    layer.attribute = n.attribute.clone();
    out.push(layer);
    if !float_out {
        out.push(node(
            "QuantizeLinear",
            &tmp("quantize y"),
            &[tmp("y"), input(y), input(y + 1)],
            &n.output[0],
            None,
        ));
    }
    Ok(())
}

/// A node of the default domain with an optional `axis` attribute.
pub(crate) fn node(
    op: &str,
    name: &str,
    inputs: &[String],
    output: &str,
    axis: Option<i64>,
) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(name.into()),
        input: inputs.to_vec(),
        output: vec![output.into()],
        attribute: axis
            .map(|a| AttributeProto {
                name: Some("axis".into()),
                i: Some(a),
                r#type: Some(AttributeType::Int as i32),
                ..Default::default()
            })
            .into_iter()
            .collect(),
        ..Default::default()
    }
}
