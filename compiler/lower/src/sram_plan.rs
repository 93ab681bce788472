//! The SRAM plan of a scheduled program: every SRAM tile (a `tile.dma_load` result or a
//! compute op's result with an `sram_offset`) gets an offset in the accelerator's SRAM.
//! Tiles interfere when their live ranges overlap; the interference graph (petgraph) is
//! coloured with offsets, each tile at the lowest 16-byte-aligned offset free of its already
//! placed neighbours, in the better of two orders (largest first; program order, which keeps
//! the alternation of double buffers). The live range of a tile that a `tile.dma_store` reads
//! lasts until the layer's next compute op has run: the store runs on the DMA engine while
//! that compute writes its own output, which so gets the other buffer (double buffering).
//! Layers follow each other, so each is planned on its own from offset 0 (the DMA engine is in
//! order: a layer's last store ends before the next layer's first load). The largest peak is
//! the function's `nibble.sram_peak_bytes`; above the target's SRAM it is an error naming the
//! layer. [`colour`] is also what tile sizing checks a candidate tiling with, so a tiling that
//! fits when sized fits when planned.

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

/// Sets every SRAM tile's `sram_offset` and `nibble.sram_peak_bytes`; with a target, refuses a
/// plan whose peak exceeds its SRAM, naming the layer where it is reached.
pub fn plan_sram(f: &mut Func, target: Option<&Target>) -> Result<(), LowerError> {
    let bufs = buffers(f);
    // Each layer on its own (a run of consecutive tiles of one layer).
    let mut offsets = vec![0usize; bufs.len()];
    let mut peaks: Vec<(usize, usize)> = Vec::new(); // (peak, a buffer of the layer)
    let mut a = 0;
    while a < bufs.len() {
        let mut b = a + 1;
        while b < bufs.len() && bufs[b].layer == bufs[a].layer {
            b += 1;
        }
        let ivs: Vec<Interval> = bufs[a..b].iter().map(|x| x.iv).collect();
        let (offs, peak) = colour(&ivs);
        offsets[a..b].copy_from_slice(&offs);
        peaks.push((peak, a));
        a = b;
    }
    for (b, &off) in bufs.iter().zip(&offsets) {
        f.ops[b.op]
            .attrs
            .insert(tile::SRAM_OFFSET.into(), Attr::i64(off as i64));
    }
    let (peak, worst) = peaks.iter().copied().max().unwrap_or((0, 0));
    f.attrs
        .insert(tile::SRAM_PEAK_ATTR.into(), Attr::i64(peak as i64));
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
