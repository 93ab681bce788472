//! Unit tests of the op registry and its seams: the support table lists exactly the ops the
//! importer dispatches, each lowering is reached through its entry, unknown and refused ops are
//! reported, and shape computations on constants are folded.

use crate::onnx::{
    tensor_proto::DataType, tensor_shape_proto, type_proto, AttributeProto, GraphProto, ModelProto,
    NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use crate::ops::{lookup, Import};
use crate::{import_bytes, ops_markdown, supported_ops, ImportError};
use nibble_graph::tosa;
use nibble_ir::Func;
use prost::Message;

fn value_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = |d: i64| tensor_shape_proto::Dimension {
        value: Some(tensor_shape_proto::dimension::Value::DimValue(d)),
        ..Default::default()
    };
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto {
                    dim: dims.iter().map(|&d| dim(d)).collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(format!("{op}_node")),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn int64s(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: vec![values.len() as i64],
        data_type: Some(DataType::Int64 as i32),
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

/// Imports a graph of `nodes` from input `x` of shape `dims` to output `y`, opset 13.
fn import(
    nodes: Vec<NodeProto>,
    initializer: Vec<TensorProto>,
    dims: &[i64],
) -> Result<Func, ImportError> {
    let model = ModelProto {
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(13),
        }],
        graph: Some(GraphProto {
            node: nodes,
            initializer,
            input: vec![value_info("x", dims)],
            output: vec![value_info("y", &[])],
            ..Default::default()
        }),
        ..Default::default()
    };
    import_bytes(&model.encode_to_vec(), "test", None)
}

#[test]
fn table_lists_the_ops_once_and_sorted() {
    let ops: Vec<&str> = supported_ops().iter().map(|o| o.op).collect();
    for (a, b) in ops.iter().zip(ops.iter().skip(1)) {
        assert!(a.to_lowercase() < b.to_lowercase(), "{a} before {b}");
    }
    // The ops the importer handled without a row before the registry.
    for op in [
        "Tanh",
        "Erf",
        "LeakyRelu",
        "Sum",
        "ReduceMax",
        "Pad",
        "Split",
        "ConvTranspose",
        "Resize",
    ] {
        assert!(ops.contains(&op), "{op} has no row");
    }
    let md = ops_markdown();
    for o in supported_ops() {
        assert!(md.contains(&format!("| {} | {} |", o.op, o.opsets)));
        assert!(lookup(o.op).is_some_and(|e| std::ptr::eq(e, o)));
    }
}

/// Every entry's import is reached through the registry: a one-node model of the op either
/// imports or fails in that op's own checks, never as an unsupported op.
#[test]
fn every_entry_is_dispatched() {
    for o in supported_ops() {
        let n = node(o.op, &["x"], &["y"]);
        match (import(vec![n], vec![], &[1, 2, 4, 4]), &o.import) {
            (Err(ImportError::UnsupportedOp { op, .. }), _) => panic!("{op} not dispatched"),
            (Err(ImportError::Node { msg, .. }), Import::Fold(_)) => {
                assert!(msg.contains("only shape computations"), "{}: {msg}", o.op)
            }
            _ => {}
        }
    }
}

#[test]
fn unknown_and_refused_ops() {
    let e = import(vec![node("LSTM", &["x"], &["y"])], vec![], &[1, 4]).unwrap_err();
    assert!(matches!(&e, ImportError::UnsupportedOp { op, .. } if op == "LSTM"));
    assert!(
        e.to_string()
            .contains("ConvTranspose, DequantizeLinear, Div"),
        "{e}"
    );
    let e = import(vec![node("Loop", &["x"], &["y"])], vec![], &[1, 4]).unwrap_err();
    assert!(e.to_string().contains("control flow"), "{e}");
    let e = import(vec![node("SequenceAt", &["x"], &["y"])], vec![], &[1, 4]).unwrap_err();
    assert!(e.to_string().contains("sequence types"), "{e}");
}

#[test]
fn shape_computations_fold() {
    // y = Reshape(x, Concat(Gather(Shape(x), [0]), [-1])): the target folds to [1, 8].
    let nodes = vec![
        node("Shape", &["x"], &["s"]),
        node("Gather", &["s", "zero"], &["n"]),
        node("Concat", &["n", "minus_one"], &["t"]),
        node("Reshape", &["x", "t"], &["y"]),
    ];
    let mut nodes = nodes;
    nodes[2].attribute.push(AttributeProto {
        name: Some("axis".into()),
        i: Some(0),
        ..Default::default()
    });
    let f = import(
        nodes,
        vec![int64s("zero", &[0]), int64s("minus_one", &[-1])],
        &[1, 2, 4],
    )
    .unwrap();
    let ops: Vec<&str> = f.ops.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(ops, [tosa::CONST_SHAPE, tosa::RESHAPE]);
    assert_eq!(f.ty(f.returns[0]).shape(), Some(&[1i64, 8][..]));
}

#[test]
fn malformed_slices_are_errors() {
    // Constant Slice with an axis beyond the rank (used to index out of bounds).
    let nodes = vec![
        node("Slice", &["s", "st", "en", "ax"], &["t"]),
        node("Reshape", &["x", "t"], &["y"]),
    ];
    let inits = |axes: &[i64]| {
        vec![
            int64s("s", &[1, 4]),
            int64s("st", &[0]),
            int64s("en", &[2]),
            int64s("ax", axes),
        ]
    };
    let e = import(nodes.clone(), inits(&[5]), &[1, 4]).unwrap_err();
    assert!(e.to_string().contains("axis 5 is out of range"), "{e}");
    // Fewer starts than axes, on constants and at run time.
    let e = import(nodes, inits(&[0, 1]), &[1, 4]).unwrap_err();
    assert!(e.to_string().contains("must give a bound per axis"), "{e}");
    let run_time = vec![node("Slice", &["x", "st", "en", "ax"], &["y"])];
    let e = import(run_time, inits(&[0, 1]), &[1, 4]).unwrap_err();
    assert!(e.to_string().contains("must give a bound per axis"), "{e}");
}
