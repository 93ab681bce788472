//! Importing a whole model: decoding the protobuf, checking the opset, domains and the single
//! input, fixing the input's shape, then walking the nodes in order (evaluating constants and
//! shape computations, lowering the rest) and returning the graph outputs in ONNX layout.

use crate::emit::f32t;
use crate::importer::{Importer, Val};
use crate::onnx::{self, GraphProto, ModelProto, NodeProto, ValueInfoProto};
use crate::ops::qdq;
use crate::tensor::{grid_type, tensor_data, Const};
use crate::ImportError;
use nibble_graph::attrs;
use nibble_ir::{Attr, Func};
use prost::Message;
use std::collections::HashMap;

/// Imports an ONNX model from bytes; `name` is used in messages.
/// `input_shape` fixes the input's shape (batch included) where the model leaves dimensions
/// dynamic; without it the batch becomes 1 and every other dimension must be known.
pub fn import_bytes(
    bytes: &[u8],
    name: &str,
    input_shape: Option<(&str, &[i64])>,
) -> Result<Func, ImportError> {
    let model =
        ModelProto::decode(bytes).map_err(|e| ImportError::Decode(name.into(), e.to_string()))?;
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
    let opset = default_opset(&model)?;
    check_domains(graph)?;
    let mut consts = HashMap::new();
    let mut int_types = HashMap::new();
    for t in &graph.initializer {
        consts.insert(
            t.name().to_string(),
            tensor_data(t).map_err(ImportError::Model)?,
        );
        if grid_type(t.data_type()).is_some() {
            int_types.insert(t.name().to_string(), t.data_type());
        }
    }
    let nodes = crate::dynamic::rewrite(&graph.node, &consts)?;
    let nodes = crate::qoperator::expand(&nodes, &mut consts)?;
    let input = graph_input(graph, &consts)?;
    let shape = fixed_shape(input, &declared_dims(input)?, input_shape)?;
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
    let mut imp = Importer {
        f,
        vals,
        consts,
        node: &placeholder,
        zero: None,
        opset,
        int_types,
        qgrids: HashMap::new(),
        wgrids: HashMap::new(),
    };
    for node in &nodes {
        imp.node = node;
        import_node(&mut imp)?;
    }
    let mut f = outputs(imp, graph)?;
    let names: Vec<String> = graph.output.iter().map(|o| o.name().to_string()).collect();
    f.attrs
        .insert(attrs::OUTPUTS.into(), Attr::Str(names.join(",")));
    f.attrs
        .insert(attrs::INPUT.into(), Attr::Str(input.name().to_string()));
    Ok(f)
}

/// The opset of the default domain (13 when the model declares none); 1–21 are supported.
fn default_opset(model: &ModelProto) -> Result<i64, ImportError> {
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
    Ok(opset)
}

/// Every node is of the default ONNX domain.
fn check_domains(graph: &GraphProto) -> Result<(), ImportError> {
    if let Some(n) = graph.node.iter().find(|n| {
        let contrib = n.domain() == crate::qoperator::MICROSOFT && n.op_type() == "QGemm";
        !n.domain().is_empty() && n.domain() != "ai.onnx" && !contrib
    }) {
        return Err(ImportError::Node {
            op: n.op_type().to_string(),
            node: n.name().to_string(),
            msg: format!(
                "ops of domain '{}' are not supported (only the default ONNX domain, and com.microsoft's QGemm)",
                n.domain()
            ),
        });
    }
    Ok(())
}

/// The model's one input that is not an initializer.
fn graph_input<'g>(
    graph: &'g GraphProto,
    consts: &HashMap<String, Const>,
) -> Result<&'g ValueInfoProto, ImportError> {
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
    Ok(inputs[0])
}

/// The input's declared dimensions (−1 where dynamic); it must be a float32 tensor of known
/// rank.
fn declared_dims(input: &ValueInfoProto) -> Result<Vec<i64>, ImportError> {
    input
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
        })
}

/// The input's static shape: the one given (it must fit the declared dimensions, batch 1), or
/// the declared one with the batch fixed to 1, every dimension known.
fn fixed_shape(
    input: &ValueInfoProto,
    dims: &[i64],
    given: Option<(&str, &[i64])>,
) -> Result<Vec<i64>, ImportError> {
    // A data file's shape (empty name) is only needed past the batch dimension.
    let static_past_batch = dims.iter().skip(1).all(|&d| d > 0);
    let given = given.filter(|(name, _)| !(name.is_empty() && static_past_batch));
    let Some((given_name, given)) = given else {
        let mut shape = dims.to_vec();
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
        return Ok(shape);
    };
    // An empty name: the shape of one data sample (`--calib`), for whichever input there is.
    let from_data = given_name.is_empty();
    if !from_data && given_name != input.name() {
        return Err(ImportError::Model(format!(
            "--input-shape names '{given_name}', but the model's input is '{}'",
            input.name()
        )));
    }
    let fits = given.len() == dims.len()
        && given
            .iter()
            .zip(dims)
            .all(|(&g, &d)| g > 0 && (d <= 0 || d == g));
    if !fits || given.first() != Some(&1) {
        let what = if from_data {
            format!(
                "the samples' shape {:?} in the data file (--calib, --input)",
                &given[given.len().min(1)..]
            )
        } else {
            format!("--input-shape {given:?}")
        };
        return Err(ImportError::Model(format!(
            "{what} does not fit input '{}' of shape {dims:?} (dynamic dimensions are -1; the batch must be 1)",
            input.name()
        )));
    }
    Ok(given.to_vec())
}

/// Imports the current node: its outputs become constants when it can be evaluated at import
/// (the graph level is static), graph values otherwise.
fn import_node(imp: &mut Importer) -> Result<(), ImportError> {
    let node = imp.node;
    if let Some(own) = imp.own() {
        imp.check_attributes()?;
        return own(imp);
    }
    let grid = qdq::quantized_input(imp)?;
    if let Some(folded) = imp.fold()? {
        for (o, c) in node.output.iter().zip(folded) {
            imp.consts.insert(o.clone(), c);
        }
        return Ok(());
    }
    let first_op = imp.f.ops.len();
    let outs = imp.lower()?;
    imp.check_sizes(first_op)?;
    qdq::attach_weight_grid(imp, first_op)?;
    let outs: Vec<(String, Val)> = node.output.iter().cloned().zip(outs).collect();
    if let Some(grid) = grid {
        qdq::keep_grid(imp, &outs, &grid)?;
    }
    imp.vals.extend(outs);
    Ok(())
}

/// Returns the graph outputs in ONNX layout (a transpose is located at "output NAME").
fn outputs(imp: Importer, graph: &GraphProto) -> Result<Func, ImportError> {
    let out_nodes: Vec<NodeProto> = graph
        .output
        .iter()
        .map(|o| NodeProto {
            name: Some(format!("output {}", o.name())),
            ..Default::default()
        })
        .collect();
    // The importer now points at these nodes, which live shorter than the graph's.
    let mut imp: Importer = imp;
    for (out, node) in graph.output.iter().zip(&out_nodes) {
        let v = *imp.vals.get(out.name()).ok_or_else(|| {
            ImportError::Model(format!(
                "graph output '{}' is not produced by any node",
                out.name()
            ))
        })?;
        if let Some(g) = imp.qgrids.get(out.name()) {
            return Err(ImportError::Model(format!(
                "graph output '{}' is quantized by '{}' (integers); nibble's outputs are real numbers: end the model with a DequantizeLinear",
                out.name(),
                g.by
            )));
        }
        imp.node = node;
        let id = imp.plain(v);
        imp.f.returns.push(id);
    }
    Ok(imp.f)
}
