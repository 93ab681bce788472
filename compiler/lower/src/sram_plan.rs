//! The SRAM plan of a scheduled program: every SRAM tile (a `tile.dma_load` result or a
//! compute op's result with an `sram_offset`) gets an offset in the accelerator's SRAM.
//! Tiles interfere when their live ranges overlap; the interference graph (petgraph) is
//! coloured with offsets, each tile at the lowest 16-byte-aligned offset free of its already
//! placed neighbours, in the better of two orders (largest first; program order, which keeps
//! the alternation of double buffers). The live range of a tile that a `tile.dma_store` reads
//! lasts until the layer's next compute op has run: the store runs on the DMA engine while
//! that compute writes its own output, which so gets the other buffer (double buffering).
//! Layers follow each other, so each is planned on its own from offset 0 (the DMA engine is in
//! order: a layer's last store ends before the next layer's first load), except where a
//! buffer lives from one layer into the next (an output kept resident in SRAM for the next
//! layers, `crate::schedule::resident`): those layers are planned together, the resident
//! tensor interfering with every buffer of the layers it spans; the loads that follow such a
//! layer live from its compute on (the DMA engine fills them while it computes: prefetch of
//! the next layer's weights into SRAM the compute does not use). The largest peak is
//! the function's `nibble.sram_peak_bytes`; above the target's SRAM it is an error naming the
//! layer. [`colour`] is also what tile sizing checks a candidate tiling with, so a tiling that
//! fits when sized fits when planned. Weights kept resident across runs (`preload` loads,
//! `crate::schedule::pin`) keep the offsets the schedule gave them, above every group's peak;
//! the peak includes them.

use crate::{schedule_err, LowerError};
use nibble_ir::{Attr, Func};
use nibble_target::Target;
use nibble_tile as tile;
use petgraph::graph::{NodeIndex, UnGraph};

/// Alignment of every SRAM buffer.
const ALIGN: usize = 16;

/// A buffer to place: its live range (inclusive positions in program order) and its size in
/// bytes (aligned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub start: usize,
    pub end: usize,
    pub size: usize,
}

/// `bytes` rounded up to the alignment.
pub fn aligned(bytes: usize) -> usize {
    bytes.div_ceil(ALIGN).max(1) * ALIGN
}

/// An SRAM tile of the function: its defining op, its layer and its interval.
#[derive(Clone, Debug)]
struct Buffer {
    op: usize,
    layer: String,
    iv: Interval,
}

/// The layer an op belongs to (its `layer` attribute).
fn layer_of(op: &nibble_ir::Op) -> String {
    match op.attrs.get(tile::LAYER) {
        Some(Attr::Str(s)) => s.clone(),
        _ => String::new(),
    }
}

/// The SRAM tiles of `f` with their live ranges.
fn buffers(f: &Func) -> Vec<Buffer> {
    let mut def: Vec<Option<usize>> = vec![None; f.values.len()];
    let mut bufs: Vec<Buffer> = Vec::new();
    for (i, op) in f.ops.iter().enumerate() {
        if op.attrs.contains_key(tile::PRELOAD) {
            continue; // weights resident across runs: placed by the schedule, above the rest
        }
        if op.name == tile::DMA_LOAD || tile::on_sram(op) {
            if let Some(&r) = op.results.first() {
                def[r] = Some(bufs.len());
                let bytes =
                    f.ty(r).num_elements() * crate::schedule::cost::elem_bytes(f, r) as usize;
                bufs.push(Buffer {
                    op: i,
                    layer: layer_of(op),
                    iv: Interval {
                        start: i,
                        end: i,
                        size: aligned(bytes),
                    },
                });
            }
        }
    }
    // A load right after a layer that keeps its result resident (no store between them) may
    // run while that layer computes: its buffer is taken from that compute on, so the DMA
    // engine prefetches into SRAM the compute does not use.
    let mut last_compute: Option<usize> = None;
    for (i, op) in f.ops.iter().enumerate() {
        if tile::on_sram(op) || op.name == tile::DMA_STORE {
            last_compute = Some(i).filter(|_| op.attrs.contains_key(tile::RESIDENT));
        } else if op.name == tile::DMA_LOAD && !op.attrs.contains_key(tile::PRELOAD) {
            if let (Some(c), Some(&r)) = (last_compute, op.results.first()) {
                if let Some(b) = def[r] {
                    bufs[b].iv.start = c;
                }
            }
        }
    }
    // The index of the first compute op after each op (where a store's source may be freed).
    let mut next_compute = vec![usize::MAX; f.ops.len() + 1];
    for i in (0..f.ops.len()).rev() {
        next_compute[i] = if tile::on_sram(&f.ops[i]) {
            i
        } else {
            next_compute[i + 1]
        };
    }
    for (i, op) in f.ops.iter().enumerate() {
        for &v in &op.operands {
            if let Some(b) = def[v] {
                // A stored tile stays until the layer's next compute (if it has one).
                let next = next_compute[i + 1];
                let end = match next {
                    n if op.name == tile::DMA_STORE
                        && n < f.ops.len()
                        && layer_of(&f.ops[n]) == bufs[b].layer =>
                    {
                        n
                    }
                    _ => i,
                };
                bufs[b].iv.end = bufs[b].iv.end.max(end);
            }
        }
    }
    bufs
}

/// Offsets for `bufs` colouring their interference graph, and the peak: the better of two
/// orders (largest first; in program order, which keeps the alternation of double buffers).
pub fn colour(bufs: &[Interval]) -> (Vec<usize>, usize) {
    let (g, nodes) = interference(bufs);
    let mut by_size: Vec<usize> = (0..bufs.len()).collect();
    by_size.sort_by(|&a, &b| {
        bufs[b]
            .size
            .cmp(&bufs[a].size)
            .then(bufs[a].start.cmp(&bufs[b].start))
    });
    let mut by_start: Vec<usize> = (0..bufs.len()).collect();
    by_start.sort_by_key(|&i| (bufs[i].start, std::cmp::Reverse(bufs[i].size)));
    let a = place(bufs, &g, &nodes, &by_size);
    let b = place(bufs, &g, &nodes, &by_start);
    if b.1 < a.1 {
        b
    } else {
        a
    }
}

/// The interference graph of the buffers' live ranges.
fn interference(bufs: &[Interval]) -> (UnGraph<usize, ()>, Vec<NodeIndex>) {
    let mut g: UnGraph<usize, ()> = UnGraph::with_capacity(bufs.len(), bufs.len() * 4);
    let nodes: Vec<NodeIndex> = (0..bufs.len()).map(|i| g.add_node(i)).collect();
    // Live ranges sorted by start: each interferes with the ranges that start before it ends.
    let mut by_start: Vec<usize> = (0..bufs.len()).collect();
    by_start.sort_by_key(|&i| bufs[i].start);
    for (a, &i) in by_start.iter().enumerate() {
        for &j in &by_start[a + 1..] {
            if bufs[j].start > bufs[i].end {
                break;
            }
            g.add_edge(nodes[i], nodes[j], ());
        }
    }
    (g, nodes)
}

/// Each buffer in `order` at the lowest aligned offset free of its placed neighbours.
fn place(
    bufs: &[Interval],
    g: &UnGraph<usize, ()>,
    nodes: &[NodeIndex],
    order: &[usize],
) -> (Vec<usize>, usize) {
    let mut offset: Vec<Option<usize>> = vec![None; bufs.len()];
    let mut peak = 0;
    for &i in order {
        let mut busy: Vec<(usize, usize)> = g
            .neighbors(nodes[i])
            .filter_map(|n| offset[g[n]].map(|o| (o, o + bufs[g[n]].size)))
            .collect();
        busy.sort_unstable();
        let mut off = 0;
        for (a, b) in busy {
            if off + bufs[i].size <= a {
                break;
            }
            off = off.max(b);
        }
        offset[i] = Some(off);
        peak = peak.max(off + bufs[i].size);
    }
    (offset.into_iter().map(|o| o.unwrap_or(0)).collect(), peak)
}

/// A group of consecutive layers planned together: its peak, its first buffer, and the range
/// of ops its buffers live over.
#[derive(Clone, Copy, Debug)]
struct Group {
    peak: usize,
    first: usize,
    lo: usize,
    hi: usize,
}

/// Offsets for every buffer and the groups: each run of consecutive tiles of one layer on its
/// own, runs joined when a buffer lives from one into the next (a tensor resident in SRAM, a
/// load issued ahead of its layer).
fn plan_groups(bufs: &[Buffer]) -> (Vec<usize>, Vec<Group>) {
    let mut offsets = vec![0usize; bufs.len()];
    let mut groups = Vec::new();
    let mut a = 0;
    while a < bufs.len() {
        let (mut b, mut end) = (a, bufs[a].iv.end);
        while b < bufs.len() && (bufs[b].layer == bufs[a].layer || bufs[b].iv.start <= end) {
            end = end.max(bufs[b].iv.end);
            b += 1;
        }
        let ivs: Vec<Interval> = bufs[a..b].iter().map(|x| x.iv).collect();
        let (offs, peak) = colour(&ivs);
        offsets[a..b].copy_from_slice(&offs);
        groups.push(Group {
            peak,
            first: a,
            lo: bufs[a].iv.start,
            hi: end,
        });
        a = b;
    }
    (offsets, groups)
}

/// Plans `f`'s SRAM (as [`plan_sram`]) and, when its peak exceeds `t`'s SRAM, the op range
/// of the group where it does.
pub fn overflow(f: &mut Func, t: &Target) -> Option<(usize, usize)> {
    let bufs = buffers(f);
    let (offsets, groups) = plan_groups(&bufs);
    set_offsets(f, &bufs, &offsets, &groups);
    (groups.iter())
        .filter(|g| g.peak as u64 > t.sram_bytes())
        .max_by_key(|g| g.peak)
        .map(|g| (g.lo, g.hi))
}

/// Writes the offsets and the peak.
fn set_offsets(f: &mut Func, bufs: &[Buffer], offsets: &[usize], groups: &[Group]) {
    for (b, &off) in bufs.iter().zip(offsets) {
        f.ops[b.op]
            .attrs
            .insert(tile::SRAM_OFFSET.into(), Attr::i64(off as i64));
    }
    let peak = groups.iter().map(|g| g.peak).max().unwrap_or(0);
    let peak = peak.max(preloaded(f).map_or(0, |r| r.1));
    f.attrs
        .insert(tile::SRAM_PEAK_ATTR.into(), Attr::i64(peak as i64));
}

/// The SRAM range `[lo, hi)` of the weights kept resident across runs (`preload` loads), if any.
fn preloaded(f: &Func) -> Option<(usize, usize)> {
    let range = |o: &nibble_ir::Op| -> Option<(usize, usize)> {
        let off = o.int(tile::SRAM_OFFSET).ok()? as usize;
        let &r = o.results.first()?;
        let bytes = f.ty(r).num_elements() * crate::schedule::cost::elem_bytes(f, r) as usize;
        Some((off, off + aligned(bytes)))
    };
    (f.ops.iter())
        .filter(|o| o.attrs.contains_key(tile::PRELOAD))
        .filter_map(range)
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
}

/// Sets every SRAM tile's `sram_offset` and `nibble.sram_peak_bytes`; with a target, refuses a
/// plan whose peak exceeds its SRAM, naming the layer where it is reached.
pub fn plan_sram(f: &mut Func, target: Option<&Target>) -> Result<(), LowerError> {
    let bufs = buffers(f);
    let (offsets, groups) = plan_groups(&bufs);
    set_offsets(f, &bufs, &offsets, &groups);
    let (group_peak, worst) = (groups.iter())
        .map(|g| (g.peak, g.first))
        .max()
        .unwrap_or((0, 0));
    let mut peak = group_peak;
    if let Some((lo, hi)) = preloaded(f) {
        if group_peak > lo {
            return Err(schedule_err(
                &f.ops[bufs[worst].op],
                format!(
                    "the SRAM plan needs {group_peak} bytes below the resident weights at {lo}"
                ),
            ));
        }
        peak = peak.max(hi);
    }
    if let Some(t) = target {
        if peak as u64 > t.sram_bytes() {
            let op = &f.ops[bufs[worst].op];
            let layer = match op.attrs.get(tile::LAYER) {
                Some(Attr::Str(s)) => s.clone(),
                _ => op.name.clone(),
            };
            return Err(schedule_err(
                op,
                format!(
                    "layer '{layer}' needs {peak} bytes of SRAM as planned; target '{}' has {}",
                    t.name,
                    t.sram_bytes()
                ),
            ));
        }
    }
    Ok(())
}
