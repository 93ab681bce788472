//! What an already-quantized model (QDQ ONNX) fixes: which results and weight layers carry the
//! model's grids (`nibble.scale`/`nibble.zero_point`, `nibble.weight_scales` from the importer)
//! and which do not — those nibble must quantize itself, from calibration vectors or
//! data-free ranges, and a compile says so.

use nibble_graph::{attrs, tosa};
use nibble_ir::{Attr, Func};

/// Results that keep their input's grid at the quant level (data movement and constants).
const KEEP_INPUT_GRID: [&str; 7] = [
    tosa::CONST,
    tosa::CONST_SHAPE,
    tosa::TRANSPOSE,
    tosa::RESHAPE,
    tosa::SLICE,
    tosa::MAX_POOL2D,
    tosa::CONCAT,
];

/// The ops that carry a layer's weights.
const LAYERS: [&str; 4] = [
    tosa::CONV2D,
    tosa::DEPTHWISE_CONV2D,
    tosa::TRANSPOSE_CONV2D,
    tosa::MATMUL,
];

/// The grids a graph carries from its model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelGrids {
    /// Results on the model's grid (the input included).
    pub fixed: usize,
    /// Weight layers on the model's weight grid.
    pub weights: usize,
    /// Results that need a grid of their own and have none: (op, location).
    pub missing: Vec<(String, String)>,
    /// Weight layers whose weights the model left in float: (op, location).
    pub float_weights: Vec<(String, String)>,
    /// The model input's real range on its grid.
    pub input_range: Option<(f64, f64)>,
}

impl ModelGrids {
    /// True when the model fixes any grid (an already-quantized model).
    pub fn any(&self) -> bool {
        self.fixed > 0 || self.weights > 0
    }
}

/// The grids `f` carries from its model. A fused activation's layer takes the activation's
/// grid, so only the activation is counted; so does a matmul's bias add.
pub fn model_grids(f: &Func) -> ModelGrids {
    let mut g = ModelGrids::default();
    let scale =
        |a: &std::collections::BTreeMap<String, Attr>, k: &str, z: &str| match (a.get(k), a.get(z))
        {
            (Some(Attr::Float(s, _)), Some(Attr::Int(z, _))) => Some((*s, *z)),
            _ => None,
        };
    if let Some((s, z)) = scale(&f.attrs, attrs::ARG0_SCALE, attrs::ARG0_ZERO_POINT) {
        g.fixed += 1;
        g.input_range = Some(((-128 - z) as f64 * s, (127 - z) as f64 * s));
    }
    let fused_into: std::collections::HashSet<_> = f
        .ops
        .iter()
        .filter(|o| o.attrs.contains_key(attrs::FUSED))
        .flat_map(|o| o.operands.first().copied())
        .collect();
    let producers = f.producers();
    // A matmul read only by its bias add or a reshape is an accumulator of the layer.
    let uses = f.use_counts();
    let into_chain = |r: usize| {
        uses[r] == 1
            && f.ops.iter().any(|o| {
                o.operands.contains(&r) && [tosa::ADD, tosa::RESHAPE].contains(&o.name.as_str())
            })
    };
    let constant = |v: usize| producers[v].is_some_and(|i| f.ops[i].name == tosa::CONST);
    for op in &f.ops {
        let at = || (op.name.clone(), op.loc_name());
        if LAYERS.contains(&op.name.as_str()) && op.operands.get(1).is_some_and(|&w| constant(w)) {
            if op.attrs.contains_key(attrs::WEIGHT_SCALES) {
                g.weights += 1;
            } else {
                g.float_weights.push(at());
            }
        }
        if scale(&op.attrs, attrs::SCALE, attrs::ZERO_POINT).is_some() {
            g.fixed += 1;
        } else if !KEEP_INPUT_GRID.contains(&op.name.as_str())
            && !op.results.iter().any(|r| fused_into.contains(r))
            && !(op.name == tosa::MATMUL && op.results.iter().all(|&r| into_chain(r)))
        {
            g.missing.push(at());
        }
    }
    g
}
