//! Tile sizes for an accelerator: for each layer the accelerator computes, the tile (output
//! rows × channels) whose schedule the cost model finds fastest among those whose working set
//! fits the SRAM — every operand's largest box and the output tile, twice with double
//! buffering, each buffer 16-byte aligned. Smaller tiles re-read more input halo and weights
//! (more DMA); larger ones overlap less. A layer whose smallest tile does not fit is an error
//! naming the layer and the SRAM it needs.

use super::cost;
use super::engine::Engine;
use super::order::{self, layer_cost, LayerCost, Order};
use super::tiles::{Layer, Shape, Tile};
use crate::{schedule_err, LowerError};
use nibble_ir::{Func, Op};
use nibble_target::{Dataflow, Target};

/// A layer's chosen tiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub rows: i64,
    pub chans: i64,
    pub order: Order,
    /// The MAC array's dataflow (MAC-array layers).
    pub dataflow: Option<Dataflow>,
    pub cost: LayerCost,
    pub tiles: usize,
}

/// Alignment of every SRAM buffer (the memory plan's).
pub const ALIGN: u64 = 16;

/// SRAM bytes the tiles need at once: each operand's largest box and the largest output
/// tile, `copies` times (2 with double buffering).
pub fn working_set(f: &Func, op: &Op, tiles: &[Tile], copies: u64) -> u64 {
    let n = op.operands.len();
    let mut biggest = vec![0u64; n + 1];
    for t in tiles {
        for (k, b) in t.inputs.iter().enumerate() {
            let bytes = b.elements() as u64 * cost::elem_bytes(f, op.operands[k]);
            biggest[k] = biggest[k].max(bytes.div_ceil(ALIGN) * ALIGN);
        }
        let out = t.output.elements() as u64 * cost::elem_bytes(f, op.results[0]);
        biggest[n] = biggest[n].max(out.div_ceil(ALIGN) * ALIGN);
    }
    copies * biggest.iter().sum::<u64>()
}

/// Distinct block sizes of an axis of `n`: `ceil(n / k)` for k = 1, 2, …, at most `cap` of
/// them, largest first.
fn sizes(n: i64, cap: usize) -> Vec<i64> {
    let mut v: Vec<i64> = (1..=n.max(1)).map(|k| (n + k - 1) / k).collect();
    v.dedup();
    if v.len() > cap {
        let step = v.len() as f64 / cap as f64;
        let mut s: Vec<i64> = (0..cap).map(|i| v[(i as f64 * step) as usize]).collect();
        s.push(1);
        s.dedup();
        v = s;
    }
    v
}

/// Channel tile candidates: all channels, then fewer blocks rounded up to the granularity `g`
/// (the MAC array's columns, the vector lanes), then below `g` down to 1 (tight SRAM).
fn channel_sizes(c: i64, g: i64) -> Vec<i64> {
    let mut v = vec![c];
    for k in 2..=c.max(1) {
        let s = ((c + k - 1) / k + g - 1) / g * g;
        if s < *v.last().unwrap_or(&c) && s >= g {
            v.push(s);
        }
        if s <= g {
            break;
        }
    }
    let mut s = g.min(c);
    while s > 1 {
        s /= 2;
        if s < *v.last().unwrap_or(&c) {
            v.push(s.max(1));
        }
    }
    v
}

/// The MAC-array dataflows (or, for the vector unit, none) a layer may run with.
fn flows(t: &Target, unit: Engine) -> Vec<Option<Dataflow>> {
    if unit == Engine::Mac {
        t.mac_array.dataflows.iter().map(|&d| Some(d)).collect()
    } else {
        vec![None]
    }
}

/// The fastest loop order (and dataflow) for tiles of `r` rows × `c` channels.
pub fn best_order(
    f: &Func,
    op: &Op,
    t: &Target,
    unit: Engine,
    layer: &Layer,
    (r, c): (i64, i64),
) -> Result<Choice, LowerError> {
    let db = t.double_buffer();
    let mut best: Option<Choice> = None;
    for df in flows(t, unit) {
        let orders = match df {
            Some(d) => vec![Order::of(d)],
            None => vec![Order::Weights, Order::Outputs],
        };
        for ord in orders {
            let tiles = order::tiles(f, op, layer, r, c, ord)?;
            let steps = order::steps(&tiles, db);
            let cost = layer_cost(f, op, t, &tiles, &steps, df.unwrap_or(Dataflow::Ws), db);
            let cand = Choice {
                rows: r,
                chans: c,
                order: ord,
                dataflow: df,
                cost,
                tiles: tiles.len(),
            };
            if best
                .is_none_or(|b| (cost.cycles, cost.dma_bytes) < (b.cost.cycles, b.cost.dma_bytes))
            {
                best = Some(cand);
            }
        }
    }
    best.ok_or_else(|| schedule_err(op, "the target has no dataflow"))
}

/// The fastest tiling of `op` (computed by `unit`) whose working set fits `t`'s SRAM (within
/// 2 % of the fastest, the one with the fewest tiles).
pub fn choose(
    f: &Func,
    op: &Op,
    t: &Target,
    unit: Engine,
    layer_name: &str,
) -> Result<Choice, LowerError> {
    let layer = Layer::of(f, op)?;
    let db = t.double_buffer();
    let copies = if db { 2 } else { 1 };
    let (rows, chans) = match layer.shape {
        Shape::Window => {
            let g = if unit == Engine::Mac {
                t.mac_array.cols
            } else {
                t.vector.lanes
            };
            (
                sizes(layer.rows, 48),
                channel_sizes(layer.channels, g as i64),
            )
        }
        Shape::Dense => (
            vec![1],
            channel_sizes(layer.channels, t.mac_array.cols as i64),
        ),
        Shape::Rows { .. } => (sizes(layer.rows, 48), vec![1]),
    };
    let mut cands: Vec<Choice> = Vec::new();
    let mut smallest = u64::MAX;
    for &c in &chans {
        for &r in &rows {
            let tiles = order::tiles(f, op, &layer, r, c, Order::Weights)?;
            let need = working_set(f, op, &tiles, copies);
            smallest = smallest.min(need);
            if need <= t.sram_bytes() {
                cands.push(best_order(f, op, t, unit, &layer, (r, c))?);
            }
        }
    }
    // The fastest; within 2 % of it, fewer tiles (fewer commands) and then fewer bytes win.
    let fastest = cands.iter().map(|c| c.cost.cycles).min().unwrap_or(0);
    let best = (cands.into_iter())
        .filter(|c| c.cost.cycles * 50 <= fastest * 51)
        .min_by_key(|c| (c.tiles, c.cost.dma_bytes, c.cost.cycles));
    best.ok_or_else(|| {
        schedule_err(
            op,
            format!(
                "layer '{layer_name}' needs {smallest} bytes of SRAM even in its smallest tile \
                 ({}double-buffered); target '{}' has {}",
                if db { "" } else { "not " },
                t.name,
                t.sram_bytes()
            ),
        )
    })
}
