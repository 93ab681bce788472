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
//! The memory plan across layers is the cost model's too: layer outputs kept resident in SRAM
//! for the next layers, which then run whole ([`resident`]), and weight boxes kept in the SRAM
//! left free across runs ([`pin`]); both take more of a larger SRAM.
//!
//! Host targets get no schedule (the function is returned as it is).

pub mod cost;
pub mod engine;
pub mod order;
pub mod pin;
pub mod resident;
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
/// columns]` for window ops, `[channels]` for dense, `[rows]` or `[rows, columns]` for
/// elementwise), whole when it has none.
fn requested(op: &Op, layer: &tiles::Layer) -> order::Size {
    let t = op.ints("tile").unwrap_or_default();
    let (rows, chans, cols) = match (layer.shape, t.as_slice()) {
        (tiles::Shape::Window, [r, c]) => (*r, *c, layer.cols),
        (tiles::Shape::Window, [r, c, x]) => (*r, *c, *x),
        (tiles::Shape::Dense, [c]) => (1, *c, 1),
        (tiles::Shape::Rows { .. }, [r]) => (*r, 1, layer.cols),
        (tiles::Shape::Rows { .. }, [r, x]) => (*r, 1, *x),
        _ => (layer.rows, layer.channels, layer.cols),
    };
    order::Size { rows, cols, chans }
}

/// How one layer the accelerator computes is scheduled: its tiles, their steps, the MAC
/// array's dataflow.
#[derive(Clone, Debug)]
pub struct LayerPlan {
    pub tiles: Vec<tiles::Tile>,
    pub steps: Vec<order::Step>,
    pub dataflow: Option<nibble_target::Dataflow>,
}

/// The plans of the layers of `f`: per op, the tiled plan (the `tile` attribute's size, the
/// fastest order that fits) and, when the whole layer fits the SRAM as one tile, the whole
/// plan (what a layer reading or keeping an SRAM-resident tensor runs).
pub struct Plans {
    pub tiled: Vec<Option<LayerPlan>>,
    pub whole: Vec<Option<LayerPlan>>,
    pub names: Vec<String>,
}

/// The tiled and whole plans of every layer of `f` the accelerator computes on `target`.
fn plans(f: &Func, target: &Target) -> Result<Plans, LowerError> {
    // Names several computing ops share (an ONNX node lowered to a transpose and a conv): each
    // becomes its own layer, named with its op.
    let mut count = std::collections::HashMap::new();
    for (i, op) in f.ops.iter().enumerate() {
        if engine::engine(f, op, target).0 != Engine::None {
            *count.entry(layer_name(op, i)).or_insert(0) += 1;
        }
    }
    let n = f.ops.len();
    let mut p = Plans {
        tiled: vec![None; n],
        whole: vec![None; n],
        names: Vec::with_capacity(n),
    };
    let sram = Some(target.sram_bytes());
    let db = target.double_buffer();
    for (i, op) in f.ops.iter().enumerate() {
        let mut name = layer_name(op, i);
        if count.get(&name).is_some_and(|&n| n > 1) {
            name = format!("{name}:{}", op.name.trim_start_matches("tile."));
        }
        p.names.push(name);
        let unit = engine::engine(f, op, target).0;
        if !unit.on_accelerator() {
            continue;
        }
        let layer = tiles::Layer::of(f, op)?;
        let plan = |size: order::Size, choice: size::Choice| -> Result<LayerPlan, LowerError> {
            let tl = order::tiles(f, op, &layer, size, choice.order)?;
            let steps = order::steps(&tl, db);
            Ok(LayerPlan {
                tiles: tl,
                steps,
                dataflow: choice.dataflow,
            })
        };
        let size = requested(op, &layer);
        // The fastest order that fits (any, when none does: the memory plan then says so).
        let choice = match size::best_order(f, op, target, unit, &layer, size, sram)? {
            Some(c) => c,
            None => size::best_order(f, op, target, unit, &layer, size, None)?
                .ok_or_else(|| crate::schedule_err(op, "the target has no dataflow"))?,
        };
        p.tiled[i] = Some(plan(size, choice)?);
        let whole = order::Size {
            rows: layer.rows,
            cols: layer.cols,
            chans: layer.channels,
        };
        if let Some(c) = size::best_order(f, op, target, unit, &layer, whole, sram)? {
            p.whole[i] = Some(plan(whole, c)?);
        }
    }
    Ok(p)
}

/// `f` with a DMA schedule for `target` (unchanged for a host target or when it has one): the
/// layers' tiled plans, the SRAM-resident tensors the cost model chooses ([`resident`]), and
/// the weights it keeps in the SRAM left free across runs ([`pin`]).
pub fn schedule(f: &Func, target: &Target) -> Result<Func, LowerError> {
    require_tile_level(f, "scheduling")?;
    if target.is_host() || is_scheduled(f) {
        return Ok(f.clone());
    }
    let p = plans(f, target)?;
    if !target.cross_layer() {
        return emit_all(f, target, &p, &Default::default());
    }
    let keep = resident::choose(f, target, &p)?;
    pin::pin(emit_all(f, target, &p, &keep)?, target)
}

/// The scheduled function: every layer the accelerator computes as its plan (whole when it
/// reads or keeps a resident tensor, with the result of each op in `keep` left in SRAM),
/// the others copied (CPU layers marked with the reason).
pub fn emit_all(
    f: &Func,
    target: &Target,
    p: &Plans,
    keep: &std::collections::BTreeSet<usize>,
) -> Result<Func, LowerError> {
    let mut g = Func::new(&f.name);
    g.attrs = f.attrs.clone();
    let producers = f.producers();
    let mut map: Vec<Option<ValueId>> = vec![None; f.values.len()];
    for &a in &f.args {
        map[a] = Some(g.add_arg(f.ty(a).clone()));
    }
    for (i, op) in f.ops.iter().enumerate() {
        let operands = (op.operands.iter())
            .map(|&v| map[v].ok_or_else(|| crate::schedule_err(op, "reads an undefined value")))
            .collect::<Result<Vec<_>, _>>()?;
        let name = &p.names[i];
        let result = if let Some(tiled) = &p.tiled[i] {
            let in_sram: Vec<bool> = (op.operands.iter())
                .map(|&v| producers[v].is_some_and(|q| keep.contains(&q)))
                .collect();
            let res = order::Residency {
                keep: keep.contains(&i),
                in_sram,
            };
            let whole = res.keep || res.in_sram.contains(&true);
            let plan = match (&p.whole[i], whole) {
                (Some(w), true) => w,
                (None, true) => {
                    return Err(crate::schedule_err(
                        op,
                        "an SRAM-resident layer must be whole",
                    ))
                }
                _ => tiled,
            };
            let steps = &plan.steps;
            order::emit(
                &mut g,
                f,
                op,
                &operands,
                &plan.tiles,
                steps,
                plan.dataflow,
                name,
                &res,
            )?
        } else {
            let (unit, why) = engine::engine(f, op, target);
            copy(&mut g, f, op, &operands);
            if let (Engine::Cpu, Some(why)) = (unit, why) {
                let last = g.ops.len() - 1;
                g.ops[last].attrs.insert(CPU_ATTR.into(), Attr::Str(why));
                g.ops[last]
                    .attrs
                    .insert(tile::LAYER.into(), Attr::Str(name.clone()));
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
