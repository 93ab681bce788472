//! Tile sizing for a target: sets the `tile` schedule of every tiled tile-level op from the
//! target's SRAM and MAC array, and records the target on the function (`nibble.target`).
//!
//! Host targets (portable C; the budget is the cache): weights stationary, a conv's output
//! channels are split so their weight slice fits half the budget, then its output rows so the
//! input rows they read, the weight slice and the outputs fit it all; a fully connected layer's
//! output channels so weight slice, input and outputs fit; a depthwise conv is one tile (its
//! kernel does not tile).
//!
//! Accelerator targets: every layer the accelerator computes (`schedule::engine`) gets the
//! tile whose DMA schedule the cost model finds fastest among those whose double-buffered
//! working set fits the SRAM (`schedule::size`): `[rows, channels]` for convolutions and
//! pooling, `[channels]` for fully connected layers, `[rows]` (or `[rows, columns]` when one row
//! does not fit) for elementwise ops. A layer that
//! does not fit even in its smallest tile is an error naming it and the SRAM it needs.

use crate::{require_tile_level, schedule_err, LowerError};
use nibble_ir::{Attr, Func, Op, ValueId};
use nibble_target::Target;
use nibble_tile as tile;

/// The function attribute naming the target a tile-level function's schedule is for.
pub const TARGET_ATTR: &str = "nibble.target";

/// The shape of `v`, which `op` needs to be of rank `rank`.
fn dims(f: &Func, op: &Op, v: ValueId, rank: usize) -> Result<Vec<i64>, LowerError> {
    match f.ty(v).shape() {
        Some(s) if s.len() == rank => Ok(s.to_vec()),
        _ => Err(schedule_err(
            op,
            format!("tile sizing needs rank-{rank} operands and results"),
        )),
    }
}

/// The `tile` attribute of tiled op `op` for `target`, or None for an op without one.
fn tile_of(f: &Func, op: &Op, target: &Target) -> Result<Option<Vec<i64>>, LowerError> {
    let (x, w, y) = match (op.operands.get(..2), op.results.first()) {
        (Some(&[x, w]), Some(&y)) => (x, w, y),
        _ => return Ok(None),
    };
    Ok(Some(match op.name.as_str() {
        tile::CONV2D => {
            let stride = tile::Conv2d::from_op(op)?.window.stride;
            let (xs, ws, os) = (dims(f, op, x, 4)?, dims(f, op, w, 4)?, dims(f, op, y, 4)?);
            conv_tile(target, &xs, &ws, &os, &stride).to_vec()
        }
        tile::DEPTHWISE_CONV2D => {
            let os = dims(f, op, y, 4)?;
            vec![os[1], os[3]]
        }
        tile::FULLY_CONNECTED => {
            let ws = dims(f, op, w, 2)?;
            vec![fc_tile(target, ws[1], ws[0])]
        }
        _ => return Ok(None),
    }))
}

/// Sets the `tile` attribute of every conv, depthwise conv and fully connected op of the
/// tile-level function `f` for `target`, and `nibble.target`.
pub fn size_tiles(f: &mut Func, target: &Target) -> Result<(), LowerError> {
    require_tile_level(f, "tile sizing")?;
    tile::types::check_types(f)?;
    if !target.is_host() {
        size_for_accelerator(f, target)?;
        f.attrs
            .insert(TARGET_ATTR.into(), Attr::Str(target.name.clone()));
        return Ok(());
    }
    for i in 0..f.ops.len() {
        if let Some(t) = tile_of(f, &f.ops[i], target)? {
            tile::set_tile(&mut f.ops[i], &t);
        }
    }
    f.attrs
        .insert(TARGET_ATTR.into(), Attr::Str(target.name.clone()));
    Ok(())
}

/// Tiles for an accelerator: the cost model's choice for every layer it computes.
fn size_for_accelerator(f: &mut Func, target: &Target) -> Result<(), LowerError> {
    use crate::schedule::{engine, layer_name, size, tiles::Layer, tiles::Shape};
    if crate::schedule::is_scheduled(f) {
        return Ok(());
    }
    for i in 0..f.ops.len() {
        let op = &f.ops[i];
        let (unit, _) = engine::engine(f, op, target);
        if !unit.on_accelerator() {
            continue;
        }
        let c = size::choose(f, op, target, unit, &layer_name(op, i))?;
        let layer = Layer::of(f, op)?;
        let s = c.size;
        let t = match layer.shape {
            Shape::Window if s.cols < layer.cols => vec![s.rows, s.chans, s.cols],
            Shape::Window => vec![s.rows, s.chans],
            Shape::Dense => vec![s.chans],
            Shape::Rows { .. } if s.cols < layer.cols => vec![s.rows, s.cols],
            Shape::Rows { .. } => vec![s.rows],
        };
        f.ops[i].attrs.insert("tile".into(), Attr::I64s(t));
    }
    Ok(())
}

/// Output tile [rows, channels] for a conv, weights stationary: as many output channels as keep
/// their weight slice within half the SRAM (halving from all of them, not below the MAC rows,
/// and at most the runtime's 256), then as many output rows as fit the SRAM together with the
/// input rows they read and the weight slice.
fn conv_tile(t: &Target, xs: &[i64], ws: &[i64], os: &[i64], stride: &[i64]) -> [i64; 2] {
    let (oc, kh, kw, ic) = (ws[0], ws[1], ws[2], ws[3]);
    let (w_in, oh, ow) = (xs[2], os[1], os[2]);
    let sram = t.sram_bytes() as i64;
    let mut tc = oc.clamp(1, 256);
    let bytes = |rows: i64, tc: i64| {
        let in_rows = (rows - 1) * stride[0] + kh;
        in_rows * w_in * ic + tc * kh * kw * ic + rows * ow * tc + tc * 4
    };
    let rows = t.mac_array.rows as i64;
    while tc > rows && (tc * kh * kw * ic > sram / 2 || bytes(1, tc) > sram) {
        tc = (tc / 2).max(rows);
    }
    let mut rows = oh;
    while rows > 1 && bytes(rows, tc) > sram {
        rows -= 1;
    }
    [rows, tc]
}

/// Output channels per tile for a fully connected layer: weight slice + input + output fit.
fn fc_tile(t: &Target, k: i64, m: i64) -> i64 {
    let mut tc = m;
    while tc > 1 && tc * k + k + tc * 4 > t.sram_bytes() as i64 {
        tc = (tc / 2).max(1);
    }
    tc
}
