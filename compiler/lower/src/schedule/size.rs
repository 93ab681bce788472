//! Tile sizes for an accelerator: for each layer the accelerator computes, the tile (output
//! rows × channels) whose schedule the cost model finds fastest among those whose working set
//! fits the SRAM — every operand's largest box and the output tile, twice with double
//! buffering, each buffer 16-byte aligned. Smaller tiles re-read more input halo and weights
//! (more DMA); larger ones overlap less. A layer whose smallest tile does not fit is an error
//! naming the layer and the SRAM it needs.

use super::cost;
use super::engine::Engine;
use super::order::{self, layer_cost, LayerCost, Order, Size, Step};
use super::tiles::{Layer, Shape, Tile};
use crate::sram_plan::{aligned, colour, Interval};
use crate::{schedule_err, LowerError};
use nibble_ir::{Func, Op};
use nibble_target::{Dataflow, Target};

/// A layer's chosen tiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub size: Size,
    pub order: Order,
    /// The MAC array's dataflow (MAC-array layers).
    pub dataflow: Option<Dataflow>,
    pub cost: LayerCost,
    pub tiles: usize,
    /// SRAM bytes its schedule needs (the memory plan's peak for the layer).
    pub sram: u64,
}

/// The SRAM peak of `steps` over `tiles` of `op` as the memory plan places them
/// (`crate::sram_plan::colour` on the same live ranges: a load lives until the last compute
/// reading it, a compute's output until the next compute after its store).
pub fn planned_peak(f: &Func, op: &Op, tiles: &[Tile], steps: &[Step]) -> u64 {
    let bytes = |k: Option<usize>, n: i64| {
        let v = k.map_or(op.results[0], |k| op.operands[k]);
        aligned(n.max(0) as usize * cost::elem_bytes(f, v) as usize)
    };
    let mut ivs: Vec<Interval> = Vec::new();
    let mut loaded: Vec<Vec<(usize, usize)>> = vec![Vec::new(); op.operands.len()];
    let mut outputs: Vec<(usize, usize)> = Vec::new(); // (tile, interval)
    let next_compute = |from: usize| {
        steps[from..]
            .iter()
            .position(|s| matches!(s, Step::Compute(_)))
            .map(|p| p + from)
    };
    for (pos, &s) in steps.iter().enumerate() {
        match s {
            Step::Load { k, i } => {
                loaded[k].push((i, ivs.len()));
                let size = bytes(Some(k), tiles[i].inputs[k].elements());
                ivs.push(Interval {
                    start: pos,
                    end: pos,
                    size,
                });
            }
            Step::Compute(i) => {
                for (k, l) in loaded.iter().enumerate() {
                    if let Some(&(_, b)) = l
                        .iter()
                        .rev()
                        .find(|&&(j, _)| tiles[j].inputs[k] == tiles[i].inputs[k])
                    {
                        ivs[b].end = ivs[b].end.max(pos);
                    }
                }
                outputs.push((i, ivs.len()));
                let size = bytes(None, tiles[i].output.elements());
                ivs.push(Interval {
                    start: pos,
                    end: pos,
                    size,
                });
            }
            Step::Store(i) => {
                if let Some(&(_, b)) = outputs.iter().rev().find(|&&(j, _)| j == i) {
                    ivs[b].end = ivs[b].end.max(next_compute(pos + 1).unwrap_or(pos));
                }
            }
        }
    }
    colour(&ivs).1 as u64
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

/// The fastest loop order (and dataflow) for tiles of `size` whose schedule fits `limit` bytes
/// of SRAM (any, without a limit); None if none fits.
pub fn best_order(
    f: &Func,
    op: &Op,
    t: &Target,
    unit: Engine,
    layer: &Layer,
    size: Size,
    limit: Option<u64>,
) -> Result<Option<Choice>, LowerError> {
    let db = t.double_buffer();
    let mut best: Option<Choice> = None;
    for df in flows(t, unit) {
        let orders = match df {
            Some(d) => vec![Order::of(d)],
            None => vec![Order::Weights, Order::Outputs],
        };
        for ord in orders {
            let tiles = order::tiles(f, op, layer, size, ord)?;
            let steps = order::steps(&tiles, db);
            let sram = planned_peak(f, op, &tiles, &steps);
            if limit.is_some_and(|l| sram > l) {
                continue;
            }
            let cost = layer_cost(f, op, t, &tiles, &steps, df.unwrap_or(Dataflow::Ws), db);
            let cand = Choice {
                size,
                order: ord,
                dataflow: df,
                cost,
                tiles: tiles.len(),
                sram,
            };
            if best
                .is_none_or(|b| (cost.cycles, cost.dma_bytes) < (b.cost.cycles, b.cost.dma_bytes))
            {
                best = Some(cand);
            }
        }
    }
    Ok(best)
}

/// The fastest tiling of `op` (computed by `unit`) whose schedule fits `t`'s SRAM.
pub fn choose(
    f: &Func,
    op: &Op,
    t: &Target,
    unit: Engine,
    layer_name: &str,
) -> Result<Choice, LowerError> {
    let layer = Layer::of(f, op)?;
    let db = t.double_buffer();
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
    // Whole rows first; columns split only when not even one output row fits.
    for cols in sizes(layer.cols, 16) {
        for &chans in &chans {
            for &rows in &rows {
                let size = Size { rows, cols, chans };
                cands.extend(best_order(
                    f,
                    op,
                    t,
                    unit,
                    &layer,
                    size,
                    Some(t.sram_bytes()),
                )?);
            }
        }
        if !cands.is_empty() {
            break;
        }
    }
    // The fastest; on a tie, fewer tiles (fewer commands), then fewer bytes. (A smaller SRAM
    // only removes candidates, so it never makes a layer faster.)
    let best = (cands.into_iter()).min_by_key(|c| (c.cost.cycles, c.tiles, c.cost.dma_bytes));
    if let Some(b) = best {
        return Ok(b);
    }
    // Nothing fits: what the smallest tile needs.
    let size = Size {
        rows: *rows.last().unwrap_or(&1),
        cols: 1,
        chans: *chans.last().unwrap_or(&1),
    };
    let smallest = best_order(f, op, t, unit, &layer, size, None)?.map_or(0, |b| b.sram);
    Err({
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
