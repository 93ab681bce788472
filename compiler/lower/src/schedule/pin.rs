//! Weights kept resident in SRAM across runs: the part of the memory plan that fills the SRAM
//! the schedule leaves free. A model runs frame after frame; a weight box that stays in SRAM is
//! loaded once, before the first frame (`tile.dma_load` marked `preload`, moved to the top of
//! the program), and every load of that box in the frame disappears: its readers read the
//! resident copy. The boxes are the schedule's own (a weight or bias slice of a tile), so a box
//! a layer reloaded per row block is saved as many times.
//!
//! Which boxes: the cost model's. The roofline of the unpinned schedule says which layers are
//! memory-bound (DMA busier than compute, so their loads are on the critical path); boxes of
//! those come first, then by DMA cycles saved per byte (set-up + beats of every load of the
//! box, `nibble_target::cost`). They are taken greedily while they fit in the SRAM above the
//! plan's peak; they sit contiguously from that peak up, so the peak with them stays within the
//! SRAM. Removing loads changes the plan of the rest: it is planned again and boxes are
//! dropped (the last chosen first, an eighth at a time) until plan and boxes fit, and the whole is kept only if the
//! estimate is not slower. Halving the SRAM halves the room for them: fewer boxes stay,
//! more loads per frame, more cycles — on any model whose weights exceed the free SRAM.

use crate::estimate::estimate;
use crate::sram_plan::{aligned, plan_sram};
use crate::LowerError;
use nibble_ir::{Attr, Func, ValueId};
use nibble_target::Target;
use nibble_tile as tile;
use std::collections::{BTreeSet, HashMap};

/// A box of a constant that the frame loads, with every load of it.
#[derive(Clone, Debug)]
struct Item {
    loads: Vec<usize>,
    konst: usize,
    bytes: usize,
    cycles: u64,
    memory_bound: bool,
}

/// The constant boxes `g` loads, best first.
fn items(g: &Func, t: &Target) -> Result<Vec<Item>, LowerError> {
    let producers = g.producers();
    let mut by_key: HashMap<(ValueId, Vec<i64>, Vec<i64>), usize> = HashMap::new();
    let mut items: Vec<Item> = Vec::new();
    let mut layers: Vec<String> = Vec::new();
    for (i, op) in g.ops.iter().enumerate() {
        let (Some(&src), Some(&r)) = (op.operands.first(), op.results.first()) else {
            continue;
        };
        let Some(p) = producers[src].filter(|&p| g.ops[p].name == tile::CONST) else {
            continue;
        };
        if op.name != tile::DMA_LOAD || op.attrs.contains_key(tile::PRELOAD) {
            continue;
        }
        let size = g.ty(r).shape().unwrap_or(&[]).to_vec();
        let key = (src, op.ints("start")?, size);
        let n = *by_key.entry(key).or_insert_with(|| {
            items.push(Item {
                loads: Vec::new(),
                konst: p,
                bytes: aligned(super::cost::dma_bytes(g, op) as usize),
                cycles: 0,
                memory_bound: false,
            });
            layers.push(match op.attrs.get(tile::LAYER) {
                Some(Attr::Str(s)) => s.clone(),
                _ => String::new(),
            });
            items.len() - 1
        });
        items[n].loads.push(i);
        items[n].cycles += super::cost::dma_op_cycles(g, op, t);
    }
    let mut planned = g.clone();
    plan_sram(&mut planned, None)?;
    let e = estimate(&planned, t)?;
    let memory: BTreeSet<&str> = (e.layers.iter())
        .filter(|l| l.bound == "memory")
        .map(|l| l.name.as_str())
        .collect();
    for (it, l) in items.iter_mut().zip(&layers) {
        it.memory_bound = memory.contains(l.as_str());
    }
    // Memory-bound layers' boxes first, then the most cycles saved per byte.
    items.sort_by(|a, b| {
        (b.memory_bound.cmp(&a.memory_bound))
            .then((b.cycles * a.bytes as u64).cmp(&(a.cycles * b.bytes as u64)))
            .then(a.loads[0].cmp(&b.loads[0]))
    });
    Ok(items)
}

/// `g` with the boxes `sel` preloaded: their constants and one `preload` load each at the top
/// (SRAM offsets from `base` up), their loads in the frame removed and read from the preload.
fn rewrite(g: &Func, sel: &[Item], base: usize) -> Func {
    let mut h = g.clone();
    h.ops.clear();
    let consts: BTreeSet<usize> = sel.iter().map(|it| it.konst).collect();
    let dropped: BTreeSet<usize> = sel.iter().flat_map(|it| it.loads.iter().copied()).collect();
    for &c in &consts {
        h.ops.push(g.ops[c].clone());
    }
    let mut repl: HashMap<ValueId, ValueId> = HashMap::new();
    let mut off = base;
    for it in sel {
        let first = &g.ops[it.loads[0]];
        let v = h.new_value(g.ty(first.results[0]).clone());
        let mut op = first.clone();
        op.results = vec![v];
        op.attrs.insert(tile::PRELOAD.into(), Attr::Bool(true));
        op.attrs
            .insert(tile::LAYER.into(), Attr::Str("preload".into()));
        op.attrs
            .insert(tile::SRAM_OFFSET.into(), Attr::i64(off as i64));
        off += it.bytes;
        for &l in &it.loads {
            repl.insert(g.ops[l].results[0], v);
        }
        h.ops.push(op);
    }
    for (i, op) in g.ops.iter().enumerate() {
        if consts.contains(&i) || dropped.contains(&i) {
            continue;
        }
        let mut o = op.clone();
        for x in &mut o.operands {
            if let Some(&n) = repl.get(x) {
                *x = n;
            }
        }
        h.ops.push(o);
    }
    h
}

/// The SRAM peak of `g`'s plan without its preloaded boxes.
fn frame_peak(g: &Func) -> Result<usize, LowerError> {
    let mut p = g.clone();
    p.ops.retain(|o| !o.attrs.contains_key(tile::PRELOAD));
    plan_sram(&mut p, None)?;
    Ok(tile::sram_peak(&p).unwrap_or(0))
}

/// `g` (scheduled) with the constant boxes the cost model keeps resident in `t`'s SRAM.
pub fn pin(g: Func, t: &Target) -> Result<Func, LowerError> {
    let all = items(&g, t)?;
    if all.is_empty() {
        return Ok(g);
    }
    let sram = t.sram_bytes() as usize;
    let room = sram.saturating_sub(frame_peak(&g)?);
    let mut sel: Vec<Item> = Vec::new();
    let mut used = 0;
    for it in all {
        if used + it.bytes <= room {
            used += it.bytes;
            sel.push(it);
        }
    }
    let mut base_cycles = None;
    while !sel.is_empty() {
        let h = rewrite(&g, &sel, 0);
        let peak = frame_peak(&h)?;
        if peak + used <= sram {
            let mut h = rewrite(&g, &sel, peak);
            let mut planned = h.clone();
            plan_sram(&mut planned, Some(t))?;
            let before = match base_cycles {
                Some(c) => c,
                None => {
                    let mut p = g.clone();
                    plan_sram(&mut p, None)?;
                    estimate(&p, t)?.total_cycles
                }
            };
            base_cycles = Some(before);
            if estimate(&planned, t)?.total_cycles <= before {
                h.attrs = planned.attrs;
                return Ok(h);
            }
        }
        // Drop the last chosen (an eighth at a time: models with thousands of boxes).
        let n = sel.len() - sel.len().div_ceil(8);
        used -= sel[n..].iter().map(|it| it.bytes).sum::<usize>();
        sel.truncate(n);
    }
    Ok(g)
}
