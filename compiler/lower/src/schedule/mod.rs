//! The DMA schedule of a tile-level function for an accelerator target (`nibble-schedule`):
//! every layer the accelerator computes ([`engine`]) becomes an explicit sequence of
//! `tile.dma_load`s of the boxes its tiles read ([`tiles`]), the layer's own op on those SRAM
//! tiles, and `tile.dma_store`s of their outputs into the layer's result in DRAM (a
//! `tile.alloc`), in an order that is the schedule ([`order`]): loop order and MAC-array
//! dataflow per layer chosen by the cost model ([`cost`], [`size`]), loads of the next tile
//! issued before the compute of the current one when the target double-buffers. Layers the
//! accelerator lacks stay whole-tensor ops, run by the controller CPU on DRAM (marked `cpu`
//! with the reason). Values do not change: the scheduled program computes bit for bit what the
//! unscheduled one does, which the integer interpreter checks.
//!
//! Host targets get no schedule (the function is returned as it is).

pub mod cost;
pub mod engine;
pub mod order;
pub mod size;
pub mod tiles;

use crate::{require_tile_level, LowerError};
use engine::Engine;
use nibble_ir::{Attr, Func, Op, ValueId};
use nibble_target::Target;
use nibble_tile as tile;

/// The attribute marking an op the controller CPU runs, with the reason.
pub const CPU_ATTR: &str = "cpu";

/// A layer's name in reports: its location's name, else its op and index.
pub fn layer_name(op: &Op, i: usize) -> String {
    // A file location (`"model.mlir":4:10`, from parsed text) names no layer.
    match op.loc_name() {
        n if !n.is_empty() && n != "unknown" && !n.starts_with('"') => n,
        _ => format!("{}#{i}", op.name.trim_start_matches("tile.")),
    }
}

/// Whether `f` already has a DMA schedule.
pub fn is_scheduled(f: &Func) -> bool {
    f.ops
        .iter()
        .any(|o| tile::is_dma(o) || o.name == tile::ALLOC)
}

/// The tile size `op`'s `tile` attribute asks for (`[rows, channels]` or `[rows, channels,
/// columns]` for window ops, `[channels]` for dense, `[rows]` for elementwise), whole when it
/// has none.
fn requested(op: &Op, layer: &tiles::Layer) -> order::Size {
    let t = op.ints("tile").unwrap_or_default();
    let (rows, chans, cols) = match (layer.shape, t.as_slice()) {
        (tiles::Shape::Window, [r, c]) => (*r, *c, layer.cols),
        (tiles::Shape::Window, [r, c, x]) => (*r, *c, *x),
        (tiles::Shape::Dense, [c]) => (1, *c, 1),
        (tiles::Shape::Rows { .. }, [r]) => (*r, 1, 1),
        _ => (layer.rows, layer.channels, layer.cols),
    };
    order::Size { rows, cols, chans }
}

/// `f` with a DMA schedule for `target` (unchanged for a host target or when it has one).
pub fn schedule(f: &Func, target: &Target) -> Result<Func, LowerError> {
    require_tile_level(f, "scheduling")?;
    if target.is_host() || is_scheduled(f) {
        return Ok(f.clone());
    }
    let mut g = Func::new(&f.name);
    g.attrs = f.attrs.clone();
    // Names several computing ops share (an ONNX node lowered to a transpose and a conv): each
    // becomes its own layer, named with its op.
    let mut count = std::collections::HashMap::new();
    for (i, op) in f.ops.iter().enumerate() {
        if engine::engine(f, op, target).0 != Engine::None {
            *count.entry(layer_name(op, i)).or_insert(0) += 1;
        }
    }
    let mut map: Vec<Option<ValueId>> = vec![None; f.values.len()];
    for &a in &f.args {
        map[a] = Some(g.add_arg(f.ty(a).clone()));
    }
    for (i, op) in f.ops.iter().enumerate() {
        let operands = (op.operands.iter())
            .map(|&v| map[v].ok_or_else(|| crate::schedule_err(op, "reads an undefined value")))
            .collect::<Result<Vec<_>, _>>()?;
        let (unit, why) = engine::engine(f, op, target);
        let mut name = layer_name(op, i);
        if count.get(&name).is_some_and(|&n| n > 1) {
            name = format!("{name}:{}", op.name.trim_start_matches("tile."));
        }
        let result = if unit.on_accelerator() {
            let layer = tiles::Layer::of(f, op)?;
            let size = requested(op, &layer);
            // The fastest order that fits (any, when none does: the memory plan then says so).
            let sram = Some(target.sram_bytes());
            let choice = match size::best_order(f, op, target, unit, &layer, size, sram)? {
                Some(c) => c,
                None => size::best_order(f, op, target, unit, &layer, size, None)?
                    .ok_or_else(|| crate::schedule_err(op, "the target has no dataflow"))?,
            };
            let tl = order::tiles(f, op, &layer, size, choice.order)?;
            let steps = order::steps(&tl, target.double_buffer());
            order::emit(
                &mut g,
                f,
                op,
                &operands,
                &tl,
                &steps,
                choice.dataflow,
                &name,
            )?
        } else {
            copy(&mut g, f, op, &operands);
            if let (Engine::Cpu, Some(why)) = (unit, why) {
                let last = g.ops.len() - 1;
                g.ops[last].attrs.insert(CPU_ATTR.into(), Attr::Str(why));
                g.ops[last]
                    .attrs
                    .insert(tile::LAYER.into(), Attr::Str(name));
            }
            match g.ops.last().and_then(|o| o.results.first()) {
                Some(&r) => r,
                None => continue,
            }
        };
        if let Some(&r) = op.results.first() {
            map[r] = Some(result);
        }
    }
    g.returns = (f.returns.iter())
        .map(|&r| {
            map[r].ok_or_else(|| {
                LowerError::Ir(nibble_ir::IrError::Structure(
                    "a returned value is undefined".into(),
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(g)
}

/// Appends a copy of `op` reading `operands` to `g`.
fn copy(g: &mut Func, f: &Func, op: &Op, operands: &[ValueId]) {
    let results = op
        .results
        .iter()
        .map(|&r| g.new_value(f.ty(r).clone()))
        .collect();
    g.ops.push(Op {
        name: op.name.clone(),
        operands: operands.to_vec(),
        results,
        attrs: op.attrs.clone(),
        loc: op.loc.clone(),
    });
}
