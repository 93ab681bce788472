//! A layer's tiles in schedule order, and the op sequence that computes them: loads of the
//! blocks a tile needs (weights and input rows are loaded once for as long as consecutive
//! tiles share them), the compute op, the store of its outputs. With double buffering the
//! loads of tile i+1 are issued before the compute of tile i, so transfers overlap compute
//! (the memory plan gives them the other SRAM buffer); without, each tile waits for its loads.
//!
//! The loop order is the layer's stationarity: weight-stationary runs every row block of a
//! channel block before the next (each weight slice loaded once, the input rows once per
//! channel block), output-stationary every channel block of a row block (the input rows
//! loaded once, the weights once per row block). For the MAC array it goes with the array's
//! dataflow of the same name.

use super::cost::{self, Shapes};
use super::tiles::{Layer, Tile};
use crate::LowerError;
use nibble_ir::{Attr, Func, Op, Type, ValueId};
use nibble_target::{cost as tcost, Dataflow, Target};
use nibble_tile as tile;

/// Which loop is outer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Channel blocks outer: weights stay (weight-stationary).
    Weights,
    /// Row blocks outer: inputs stay (output-stationary).
    Outputs,
}

impl Order {
    /// The loop order that goes with a MAC-array dataflow.
    pub fn of(df: Dataflow) -> Order {
        match df {
            Dataflow::Ws => Order::Weights,
            Dataflow::Os => Order::Outputs,
        }
    }
}

/// `[0, n)` in blocks of `size`.
fn blocks(n: i64, size: i64) -> Vec<(i64, i64)> {
    let size = size.clamp(1, n.max(1));
    (0..n.max(1))
        .step_by(size as usize)
        .map(|a| (a, (a + size).min(n.max(1))))
        .collect()
}

/// A tile's size: output rows, columns (the layer's width unless a row does not fit) and
/// channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub rows: i64,
    pub cols: i64,
    pub chans: i64,
}

/// The tiles of `op` of `size` in `order` (columns innermost among the spatial blocks).
pub fn tiles(
    f: &Func,
    op: &Op,
    layer: &Layer,
    size: Size,
    order: Order,
) -> Result<Vec<Tile>, LowerError> {
    let rb = blocks(layer.rows, size.rows);
    let xb = blocks(layer.cols, size.cols);
    let cb = blocks(layer.channels, size.chans);
    let mut out = Vec::with_capacity(rb.len() * xb.len() * cb.len());
    match order {
        Order::Weights => {
            for &c in &cb {
                for &r in &rb {
                    for &x in &xb {
                        out.push(layer.tile(f, op, r, x, c)?);
                    }
                }
            }
        }
        Order::Outputs => {
            for &r in &rb {
                for &x in &xb {
                    for &c in &cb {
                        out.push(layer.tile(f, op, r, x, c)?);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// One step of a layer's schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Load operand `k`'s box of tile `i`.
    Load { k: usize, i: usize },
    /// Compute tile `i`.
    Compute(usize),
    /// Store tile `i`'s outputs.
    Store(usize),
}

/// The steps computing `tiles` in order, double-buffered or not.
pub fn steps(tiles: &[Tile], double_buffer: bool) -> Vec<Step> {
    let n_ops = tiles.first().map_or(0, |t| t.inputs.len());
    // The tile whose box of each operand is loaded last.
    let mut cur: Vec<Option<usize>> = vec![None; n_ops];
    let mut out = Vec::new();
    let load = |i: usize, cur: &mut Vec<Option<usize>>, out: &mut Vec<Step>| {
        for k in 0..n_ops {
            if cur[k].is_none_or(|j| tiles[j].inputs[k] != tiles[i].inputs[k]) {
                out.push(Step::Load { k, i });
                cur[k] = Some(i);
            }
        }
    };
    if !tiles.is_empty() {
        load(0, &mut cur, &mut out);
    }
    for i in 0..tiles.len() {
        let last = i + 1 == tiles.len();
        if double_buffer && !last {
            load(i + 1, &mut cur, &mut out);
        }
        out.push(Step::Compute(i));
        out.push(Step::Store(i));
        if !double_buffer && !last {
            load(i + 1, &mut cur, &mut out);
        }
    }
    out
}

/// What a layer's schedule costs (the estimate's idealised timeline: one DMA engine, one
/// compute engine, each buffer reused only after its last reader finished).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerCost {
    pub cycles: u64,
    pub dma_bytes: u64,
    pub compute_cycles: u64,
    pub dma_cycles: u64,
}

/// Bytes of `n` elements of operand `k` of `op` (or of its result for `k = None`).
fn bytes(f: &Func, op: &Op, k: Option<usize>, n: i64) -> u64 {
    let v = match k {
        Some(k) => op.operands[k],
        None => op.results[0],
    };
    n.max(0) as u64 * cost::elem_bytes(f, v)
}

/// The cost of computing `tiles` of `op` in `steps` on `t` (with dataflow `df`).
pub fn layer_cost(
    f: &Func,
    op: &Op,
    t: &Target,
    tiles: &[Tile],
    steps: &[Step],
    df: Dataflow,
    db: bool,
) -> LayerCost {
    let m = if db { 2 } else { 1 };
    let n_ops = op.operands.len();
    let (mut dma_free, mut comp_free) = (0u64, 0u64);
    // Per operand: the slot of each of its last loads (box tile index), and per slot the time
    // its data is ready and its last reader is done.
    let mut loads = vec![0usize; n_ops];
    let mut slot_of: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n_ops]; // (tile, slot)
    let mut ready = vec![[0u64; 2]; n_ops];
    let mut read_done = vec![[0u64; 2]; n_ops];
    let (mut written, mut drained) = ([0u64; 2], [0u64; 2]);
    let mut c = LayerCost::default();
    for &s in steps {
        match s {
            Step::Load { k, i } => {
                let slot = loads[k] % m;
                loads[k] += 1;
                let b = bytes(f, op, Some(k), tiles[i].inputs[k].elements());
                let whole = f.ty(op.operands[k]).shape().unwrap_or(&[]);
                let (runs, n) = tcost::runs(whole, &tiles[i].inputs[k].size);
                let d = tcost::dma_cycles(t, runs, bytes(f, op, Some(k), n as i64));
                let start = dma_free.max(read_done[k][slot]);
                dma_free = start + d;
                ready[k][slot] = dma_free;
                slot_of[k].push((i, slot));
                c.dma_bytes += b;
                c.dma_cycles += d;
            }
            Step::Compute(i) => {
                let tl = &tiles[i];
                let shapes = Shapes {
                    inputs: tl.inputs.iter().map(|b| b.size.as_slice()).collect(),
                    output: &tl.output.size,
                };
                let cyc = cost::cycles(t, cost::work(f, op, &shapes, true), df);
                let slots: Vec<usize> = (0..n_ops)
                    .map(|k| {
                        (slot_of[k].iter().rev())
                            .find(|&&(j, _)| tiles[j].inputs[k] == tl.inputs[k])
                            .map_or(0, |&(_, s)| s)
                    })
                    .collect();
                let o = i % m;
                let mut start = comp_free.max(drained[o]);
                for (k, &sl) in slots.iter().enumerate() {
                    start = start.max(ready[k][sl]);
                }
                comp_free = start + cyc;
                for (k, &sl) in slots.iter().enumerate() {
                    read_done[k][sl] = comp_free;
                }
                written[o] = comp_free;
                c.compute_cycles += cyc;
            }
            Step::Store(i) => {
                let o = i % m;
                let b = bytes(f, op, None, tiles[i].output.elements());
                let whole = f.ty(op.results[0]).shape().unwrap_or(&[]);
                let (runs, n) = tcost::runs(whole, &tiles[i].output.size);
                let d = tcost::dma_cycles(t, runs, bytes(f, op, None, n as i64));
                let start = dma_free.max(written[o]);
                dma_free = start + d;
                drained[o] = dma_free;
                c.dma_bytes += b;
                c.dma_cycles += d;
            }
        }
    }
    c.cycles = dma_free.max(comp_free);
    c
}

/// Where a layer's operands and result live besides the DMA schedule: operands already
/// resident in SRAM (an SRAM value of an earlier layer, read whole without a load) and whether
/// the result stays in SRAM (no DRAM alloc, no store: the next layers read it there).
#[derive(Clone, Debug, Default)]
pub struct Residency {
    pub in_sram: Vec<bool>,
    pub keep: bool,
}

/// The ops computing `tiles` of `op` (of the unscheduled function `f`) in `steps`, appended to
/// `g`, whose values `operands` hold `op`'s operands: an alloc of the result in DRAM, the
/// loads, compute ops on SRAM tiles (the layer's op on the boxes, `dataflow` set for the MAC
/// array) and stores. Returns the DRAM value holding the result after the last store. With
/// `res`, operands resident in SRAM are read without a load and a kept result is the SRAM
/// value of its (single) compute op, marked `resident`, with no alloc and no store.
#[allow(clippy::too_many_arguments)]
pub fn emit(
    g: &mut Func,
    f: &Func,
    op: &Op,
    operands: &[ValueId],
    tiles: &[Tile],
    steps: &[Step],
    df: Option<Dataflow>,
    layer: &str,
    res: &Residency,
) -> Result<ValueId, LowerError> {
    let tagged = |g: &mut Func| {
        let last = g.ops.len() - 1;
        let o = &mut g.ops[last];
        o.loc = op.loc.clone();
        o.attrs.insert(tile::LAYER.into(), Attr::Str(layer.into()));
    };
    let result_ty = f.ty(op.results[0]).clone();
    let mut y = operands.first().copied().unwrap_or_default();
    if !res.keep {
        y = tile::alloc(g, result_ty.clone());
        tagged(g);
    }
    let mut loaded: Vec<Vec<(usize, ValueId)>> = vec![Vec::new(); operands.len()];
    let mut computed = Vec::new();
    for &s in steps {
        match s {
            Step::Load { k, .. } if res.in_sram.get(k) == Some(&true) => {}
            Step::Store(i) if res.keep => {
                if let Some(&(_, v)) = computed.iter().rev().find(|&&(j, _)| j == i) {
                    y = v;
                }
            }
            Step::Load { k, i } => {
                let b = &tiles[i].inputs[k];
                let elem = f.ty(op.operands[k]).elem().cloned();
                let ty = Type::tensor(&b.size, elem.unwrap_or(nibble_ir::Elem::Int(8)));
                let v = tile::dma_load(g, operands[k], ty, &b.start);
                tagged(g);
                loaded[k].push((i, v));
            }
            Step::Compute(i) => {
                let tl = &tiles[i];
                let xs: Vec<ValueId> = (0..operands.len())
                    .map(|k| {
                        (loaded[k].iter().rev())
                            .find(|&&(j, _)| tiles[j].inputs[k] == tl.inputs[k])
                            .map_or(operands[k], |&(_, v)| v)
                    })
                    .collect();
                let elem = result_ty.elem().cloned().unwrap_or(nibble_ir::Elem::Int(8));
                let mut attrs: Vec<(&str, Attr)> = op
                    .attrs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .collect();
                for (k, v) in &tl.attrs {
                    attrs.retain(|(a, _)| a != k);
                    attrs.push((k.as_str(), v.clone()));
                }
                attrs.retain(|(a, _)| *a != "tile");
                if let Some(t) = whole_tile(op, tl) {
                    attrs.push(("tile", Attr::I64s(t)));
                }
                attrs.push((tile::SRAM_OFFSET, Attr::i64(0)));
                if let Some(df) = df {
                    attrs.push((tile::DATAFLOW, Attr::Str(df.name().into())));
                }
                if res.keep {
                    attrs.push((tile::RESIDENT, Attr::Bool(true)));
                }
                let v = g.push(&op.name, &xs, Type::tensor(&tl.output.size, elem), attrs);
                tagged(g);
                computed.push((i, v));
            }
            Step::Store(i) => {
                let Some(&(_, v)) = computed.iter().rev().find(|&&(j, _)| j == i) else {
                    return Err(crate::schedule_err(op, "a store before its compute"));
                };
                y = tile::dma_store(g, v, y, &tiles[i].output.start);
                tagged(g);
            }
        }
    }
    Ok(y)
}

/// The `tile` attribute of a compute op covering one tile: its whole output.
fn whole_tile(op: &Op, tl: &Tile) -> Option<Vec<i64>> {
    let s = &tl.output.size;
    match op.name.as_str() {
        tile::CONV2D | tile::DEPTHWISE_CONV2D if s.len() == 4 => Some(vec![s[1], s[3]]),
        tile::FULLY_CONNECTED if s.len() == 2 => Some(vec![s[1]]),
        _ => None,
    }
}
