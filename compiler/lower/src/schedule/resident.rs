//! The cross-layer part of the memory plan: which layer outputs stay resident in SRAM. A
//! tensor kept in SRAM is written by its layer's single (whole) tile and read there, whole, by
//! every layer that uses it — no `tile.dma_store` to DRAM, no `tile.dma_load` back — and its
//! SRAM stays taken from its producer to its last reader, so the layers in between plan around
//! it (`crate::sram_plan` plans such layers together). With the layers' SRAM buffers no longer
//! all at offset 0, the DMA engine also runs ahead: the next layer's weight loads go to free
//! SRAM while the current layer computes (cross-layer prefetch, from the same plan).
//!
//! The choice is the cost model's, on the whole program: a candidate set is scheduled
//! ([`super::emit_all`]), planned (`crate::sram_plan::plan_sram`, which refuses a peak above
//! the SRAM) and estimated (`crate::estimate`, the roofline timeline of DMA and compute);
//! greedy, starting from every candidate kept, it first drops the largest resident tensor of a
//! layer group whose plan exceeds the SRAM until the plan fits, then drops each tensor whose
//! removal lowers the estimate, then adds back each dropped one that lowers it. The result is
//! kept only when it beats the all-DRAM schedule. A larger SRAM fits more resident tensors
//! (and prefetch), so cycles fall with it; halving it drops the tensors that no longer fit.
//!
//! Candidates: a layer the accelerator computes whole in one tile that fits the SRAM, whose
//! result is not returned and is read only by such layers, each reading it whole.

use super::{emit_all, Plans};
use crate::LowerError;
use nibble_ir::Func;
use nibble_target::Target;
use std::collections::BTreeSet;

/// The layers whose output may stay resident in SRAM.
fn candidates(f: &Func, p: &Plans) -> Vec<usize> {
    let mut users: Vec<Vec<(usize, usize)>> = vec![Vec::new(); f.values.len()]; // (op, operand)
    for (i, op) in f.ops.iter().enumerate() {
        for (k, &v) in op.operands.iter().enumerate() {
            users[v].push((i, k));
        }
    }
    let reads_whole = |i: usize, k: usize| {
        let (Some(w), Some(&v)) = (&p.whole[i], f.ops[i].operands.get(k)) else {
            return false;
        };
        let shape = f.ty(v).shape().unwrap_or(&[]);
        (w.tiles.first()).is_some_and(|t| t.inputs.get(k).is_some_and(|b| b.size == shape))
    };
    (0..f.ops.len())
        .filter(|&i| p.whole[i].is_some())
        .filter(|&i| {
            let Some(&r) = f.ops[i].results.first() else {
                return false;
            };
            !f.returns.contains(&r)
                && !users[r].is_empty()
                && users[r].iter().all(|&(u, k)| reads_whole(u, k))
        })
        .collect()
}

/// The estimated cycles of the program keeping `keep` in SRAM, or where its SRAM plan
/// overflows: the op range `[lo, hi]` of the scheduled program `g` of the group over the SRAM.
enum Eval {
    Cycles(u64),
    Overflow { lo: usize, hi: usize, g: Func },
}

fn eval(f: &Func, t: &Target, p: &Plans, keep: &BTreeSet<usize>) -> Result<Eval, LowerError> {
    let mut g = emit_all(f, t, p, keep)?;
    if let Some((lo, hi)) = crate::sram_plan::overflow(&mut g, t) {
        return Ok(Eval::Overflow { lo, hi, g });
    }
    Ok(Eval::Cycles(crate::estimate::estimate(&g, t)?.total_cycles))
}

/// The resident tensor of `keep` to drop for an overflow at ops `[lo, hi]` of `g`: the largest
/// whose layer has ops there (any, if none has).
fn to_drop(
    f: &Func,
    p: &Plans,
    g: &Func,
    keep: &BTreeSet<usize>,
    (lo, hi): (usize, usize),
) -> Option<usize> {
    let end = hi.min(g.ops.len().saturating_sub(1));
    let layers: BTreeSet<&str> = (g.ops.get(lo..=end).unwrap_or(&[]).iter())
        .filter_map(|o| match o.attrs.get(nibble_tile::LAYER) {
            Some(nibble_ir::Attr::Str(s)) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    let bytes = |i: usize| {
        f.ops[i]
            .results
            .first()
            .map_or(0, |&r| f.ty(r).num_elements())
    };
    let there: Vec<usize> = (keep.iter().copied())
        .filter(|&i| layers.contains(p.names[i].as_str()))
        .collect();
    let pool = if there.is_empty() {
        keep.iter().copied().collect()
    } else {
        there
    };
    pool.into_iter()
        .max_by_key(|&i| (bytes(i), std::cmp::Reverse(i)))
}

/// The layers whose output the cost model keeps resident in SRAM (empty when none helps).
pub fn choose(f: &Func, t: &Target, p: &Plans) -> Result<BTreeSet<usize>, LowerError> {
    let all: BTreeSet<usize> = candidates(f, p).into_iter().collect();
    if all.is_empty() {
        return Ok(all);
    }
    let none = BTreeSet::new();
    let Eval::Cycles(base) = eval(f, t, p, &none)? else {
        return Ok(none);
    };
    // Every candidate, minus the largest resident tensors where the plan overflows.
    let mut keep = all.clone();
    let mut cur = loop {
        match eval(f, t, p, &keep)? {
            Eval::Cycles(c) => break c,
            Eval::Overflow { lo, hi, g } => match to_drop(f, p, &g, &keep, (lo, hi)) {
                Some(i) => {
                    keep.remove(&i);
                }
                None => return Ok(none),
            },
        }
    };
    // Drop each one whose removal is faster, then add back each dropped one that is.
    for i in keep.clone() {
        let mut k = keep.clone();
        k.remove(&i);
        if let Eval::Cycles(c) = eval(f, t, p, &k)? {
            if c < cur {
                (keep, cur) = (k, c);
            }
        }
    }
    for &i in all.difference(&keep.clone()) {
        let mut k = keep.clone();
        k.insert(i);
        if let Eval::Cycles(c) = eval(f, t, p, &k)? {
            if c < cur {
                (keep, cur) = (k, c);
            }
        }
    }
    Ok(if cur < base { keep } else { none })
}
