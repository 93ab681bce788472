//! `nibble finetune`: quantization-aware fine-tuning of a classifier's float weights on
//! nibble's own grids (the `nibble-finetune` crate), written back as the same ONNX graph with
//! its Conv/Gemm initializers replaced, for `nibble compile --weight-bits W`.

use crate::error::{CliError, Res};
use crate::npy::{read_f32, NpyFile};
use crate::progress;
use grids::{NibbleActs, NibbleWeights};
use nibble_finetune::{train, Graph, Node, Observer, Options, Weight};
use nibble_frontend::onnx::{attribute_proto::AttributeType, ModelProto, TensorProto};
use nibble_quantize::WeightWidth;
use prost::Message;
use std::cell::RefCell;
use std::path::PathBuf;

pub mod grids;

#[derive(clap::Args)]
pub struct Args {
    /// The float model (ONNX; Conv, Gemm, Relu, Clip, MaxPool, Flatten, Reshape, Identity).
    model: PathBuf,
    /// Training inputs: float32 .npy [N, …input shape].
    #[arg(long)]
    data: PathBuf,
    /// Training labels: int64 .npy [N], classes of the model's output.
    #[arg(long)]
    labels: PathBuf,
    /// The weight grid to train for (as `nibble compile --weight-bits`, one width for all layers).
    #[arg(long, default_value = "8")]
    weight_bits: WeightWidth,
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Seed of the shuffle: the same flags give the same file, byte for byte.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The tuned model (ONNX).
    #[arg(short, long)]
    output: PathBuf,
}

/// A progress bar with the epoch's running loss and accuracy.
#[derive(Default)]
struct Bar(RefCell<Option<indicatif::ProgressBar>>);

impl Observer for Bar {
    fn begin(&self, steps: usize) {
        *self.0.borrow_mut() = Some(progress::bar(steps, "fine-tuning"));
    }
    fn step(&self, epoch: usize, loss: f64, accuracy: f64) {
        if let Some(pb) = self.0.borrow().as_ref() {
            pb.set_message(format!(
                "epoch {epoch}: loss {loss:.4}, accuracy {accuracy:.2} %"
            ));
            pb.inc(1);
        }
    }
    fn end(&self) {
        if let Some(pb) = self.0.borrow_mut().take() {
            pb.finish_and_clear();
        }
    }
}

pub fn run(a: Args) -> Res<()> {
    let bytes = std::fs::read(&a.model).map_err(|e| CliError::read(&a.model, e))?;
    let mut model = ModelProto::decode(bytes.as_slice()).map_err(|e| {
        CliError::Input(format!("'{}' is not an ONNX model: {e}", a.model.display()))
    })?;
    let mut graph = to_graph(&model)?;
    let x = read_f32(&a.data)?;
    if x.ndim() < 1 || x.shape()[1..] != graph.input_shape[..] {
        return Err(CliError::Input(format!(
            "'{}' is {:?}; the model takes [N, {}]",
            a.data.display(),
            x.shape(),
            graph
                .input_shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let file = NpyFile::open(&a.labels)?;
    let labels: Vec<i64> = file
        .view::<i64>("an int64 label")?
        .iter()
        .copied()
        .collect();
    if labels.len() != x.shape()[0] {
        return Err(CliError::Input(format!(
            "{} labels in '{}' for {} rows in '{}': give one label per row",
            labels.len(),
            a.labels.display(),
            x.shape()[0],
            a.data.display()
        )));
    }
    let x: Vec<f32> = x.iter().copied().collect();
    let opts = Options {
        epochs: a.epochs,
        lr: a.lr,
        batch: a.batch,
        seed: a.seed,
    };
    let start = std::time::Instant::now();
    let s = train(
        &mut graph,
        &x,
        &labels,
        (&NibbleWeights(a.weight_bits), &NibbleActs),
        &opts,
        &Bar::default(),
    )
    .map_err(|e| CliError::Input(e.to_string()))?;
    for (i, (l, acc)) in s.epochs.iter().enumerate() {
        eprintln!(
            "epoch {}: loss {l:.4}, accuracy {acc:.2} % (training, fake-quantized)",
            i + 1
        );
    }
    eprintln!(
        "at weight bits {}: loss {:.4} → {:.4}, top-1 on the training data {:.2} % → {:.2} % ({:.1} s)",
        a.weight_bits, s.before.0, s.after.0, s.before.1, s.after.1, start.elapsed().as_secs_f64()
    );
    replace_weights(&mut model, &graph);
    std::fs::write(&a.output, model.encode_to_vec()).map_err(|e| CliError::write(&a.output, e))
}

/// The trainer's view of the ONNX graph: nodes, float and integer initializers, input shape.
fn to_graph(m: &ModelProto) -> Res<Graph> {
    let g = m
        .graph
        .as_ref()
        .ok_or_else(|| CliError::Input("the model has no graph".into()))?;
    let mut out = Graph::default();
    for t in &g.initializer {
        match decode(t)? {
            Decoded::F32(w) => {
                out.weights.insert(t.name().to_string(), w);
            }
            Decoded::I64(v) => {
                out.int_consts.insert(t.name().to_string(), v);
            }
        }
    }
    let inputs: Vec<_> = g
        .input
        .iter()
        .filter(|i| !out.weights.contains_key(i.name()) && !out.int_consts.contains_key(i.name()))
        .collect();
    let (Some(input), 1, 1) = (inputs.first(), inputs.len(), g.output.len()) else {
        return Err(CliError::Input(
            "fine-tuning needs a model of one input and one output".into(),
        ));
    };
    out.input = input.name().to_string();
    out.output = g.output[0].name().to_string();
    let dims = input_dims(input);
    if dims.len() < 2 || dims[1..].iter().any(|&d| d <= 0) {
        return Err(CliError::Input(format!(
            "the input '{}' needs a static shape [N, …] (it is {dims:?})",
            out.input
        )));
    }
    out.input_shape = dims[1..].iter().map(|&d| d as usize).collect();
    for n in &g.node {
        let mut node = Node {
            name: n.name().to_string(),
            op: n.op_type().to_string(),
            inputs: n.input.clone(),
            outputs: n.output.clone(),
            ..Node::default()
        };
        for at in &n.attribute {
            match at.r#type() {
                AttributeType::Int => {
                    node.ints.insert(at.name().to_string(), vec![at.i()]);
                }
                AttributeType::Ints => {
                    node.ints.insert(at.name().to_string(), at.ints.clone());
                }
                AttributeType::Float => {
                    node.floats.insert(at.name().to_string(), at.f());
                }
                _ => {}
            }
        }
        out.nodes.push(node);
    }
    Ok(out)
}

/// The input's declared dimensions (−1 where dynamic or unknown).
fn input_dims(input: &nibble_frontend::onnx::ValueInfoProto) -> Vec<i64> {
    use nibble_frontend::onnx::{tensor_shape_proto::dimension::Value, type_proto};
    match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(tt)) => tt
            .shape
            .as_ref()
            .map(|s| {
                s.dim
                    .iter()
                    .map(|d| match d.value {
                        Some(Value::DimValue(v)) => v,
                        _ => -1,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// A decoded initializer.
enum Decoded {
    F32(Weight),
    I64(Vec<i64>),
}

/// float32 or int64 initializers (raw little-endian bytes or the typed field).
fn decode(t: &TensorProto) -> Res<Decoded> {
    let dims: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
    let raw = t.raw_data.as_deref().unwrap_or_default();
    match t.data_type() {
        1 => {
            let data = if raw.is_empty() {
                t.float_data.clone()
            } else {
                raw.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            };
            if data.len() != dims.iter().product::<usize>() {
                return Err(CliError::Input(format!(
                    "initializer '{}' holds {} values for shape {dims:?}",
                    t.name(),
                    data.len()
                )));
            }
            Ok(Decoded::F32(Weight { dims, data }))
        }
        7 => Ok(Decoded::I64(if raw.is_empty() {
            t.int64_data.clone()
        } else {
            raw.chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                .collect()
        })),
        other => Err(CliError::Input(format!(
            "initializer '{}' has data type {other}; fine-tuning reads float32 and int64",
            t.name()
        ))),
    }
}

/// The trained weights into the model's initializers (raw little-endian float32).
fn replace_weights(m: &mut ModelProto, g: &Graph) {
    let Some(graph) = m.graph.as_mut() else {
        return;
    };
    for t in &mut graph.initializer {
        if let Some(w) = g.weights.get(t.name()).filter(|_| t.data_type() == 1) {
            t.float_data.clear();
            t.raw_data = Some(w.data.iter().flat_map(|v| v.to_le_bytes()).collect());
        }
    }
}
