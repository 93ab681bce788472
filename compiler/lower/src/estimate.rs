//! The cycles of a scheduled tile program on its target: what `nibble estimate`, the manifest
//! and `nibble report` print, and what the simulator (`runtime/npu/npu_sim.c`) counts running
//! the same program. Every op is a command of one engine — the DMA engine (loads, stores),
//! the compute engine (MAC array and vector unit, on SRAM tiles) or the controller CPU (ops the
//! accelerator lacks, after both engines drain) — with its cycles from the target's cost
//! table ([`crate::schedule::cost`]). The dependence graph (petgraph) has an edge for every
//! SRAM hazard (a read after the write of an overlapping range, a write after an overlapping
//! read or write, found from the memory plan's offsets) and between consecutive commands of
//! one engine; a command ends its cycles after the latest of its predecessors. Engines are in
//! order, so each command waits for at most one command of the other engine ([`Command::after`]),
//! which is what the npu lowering writes as `npu.dma_wait` and DMA dependencies.
//!
//! Loads marked `preload` (weights the memory plan keeps in SRAM across runs) are done once
//! before the first run: they cost no cycles per run and are reported on their own.
//!
//! Per layer: cycles (how much the layer adds to the makespan: overlapped work is counted
//! once), the busy cycles of compute and DMA, the bytes moved, and the roofline bound: memory
//! when DMA is busier than compute, else compute.

use crate::schedule::cost::{self, shapes_of, Work};
use crate::LowerError;
use nibble_ir::{Attr, Elem, Func, Op};
use nibble_target::cost::Gemm;
use nibble_target::Target;
use nibble_tile as tile;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{EdgeRef, Topo};

/// The engine a command runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Dma,
    Compute,
    Cpu,
    /// No work (constants, reshapes, allocations, the host boundary).
    None,
}

/// One op of the program as a command.
#[derive(Clone, Debug)]
pub struct Command {
    pub op: usize,
    pub unit: Unit,
    pub cycles: u64,
    /// The one command of another engine it must wait for (the latest on that engine), if
    /// any: a compute's last load (or store of its output buffer), a DMA's last compute.
    pub after: Option<usize>,
    pub work: Work,
    pub bytes: u64,
    pub macs: u64,
    pub layer: Option<String>,
}

/// What a layer costs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerEstimate {
    pub name: String,
    /// The layer's op (`tile.conv2d`, …).
    pub op: String,
    /// `mac`, `vector` or `cpu`.
    pub engine: String,
    pub cycles: u64,
    pub compute_cycles: u64,
    pub dma_cycles: u64,
    pub dma_bytes: u64,
    pub macs: u64,
    /// `compute` or `memory`.
    pub bound: &'static str,
    /// Tiles (compute ops) of the layer.
    pub tiles: usize,
    /// The whole layer as a matrix product (MAC-array layers), and its dataflow.
    pub gemm: Option<Gemm>,
    pub dataflow: Option<String>,
    /// Bits per weight value as stored (4, 2 for 2-bit and ternary grids, 1 for binary).
    pub weight_bits: u32,
    /// The weights' grid: `8`, `4`, `2`, `ternary` or `binary`.
    pub weight_grid: String,
    /// Weight values of the layer: the elements of the int8 constants it reads (its weights,
    /// and the weights inside fused ops such as squeeze-excite); 0 without any.
    pub weight_values: u64,
    /// Bits those values take as stored (weights below 8 bits packed at their grid).
    pub weight_value_bits: u64,
    pub act_bits: u32,
    /// Bytes of the constants (weights, biases) the layer reads, weights packed at their grid.
    pub weight_bytes: u64,
}

/// A program's estimate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Estimate {
    pub target: String,
    pub clock_mhz: f64,
    pub layers: Vec<LayerEstimate>,
    pub total_cycles: u64,
    pub sram_peak_bytes: u64,
    /// Weights kept resident in SRAM across runs (loaded once, not counted per run): bytes, and
    /// the DMA cycles of loading them once.
    pub preload_bytes: u64,
    pub preload_cycles: u64,
}

impl Estimate {
    pub fn latency_us(&self) -> f64 {
        self.total_cycles as f64 / self.clock_mhz
    }
    pub fn fps(&self) -> f64 {
        if self.total_cycles == 0 {
            0.0
        } else {
            self.clock_mhz * 1e6 / self.total_cycles as f64
        }
    }
}

/// An SRAM byte range `[lo, hi)`.
type Range = (u64, u64);

/// The SRAM range of the value `v` (defined by a load or an SRAM compute op).
fn sram_range(f: &Func, producers: &[Option<usize>], v: usize) -> Option<Range> {
    let op = &f.ops[producers[v]?];
    let off = op.int(tile::SRAM_OFFSET).ok()?;
    if !(op.name == tile::DMA_LOAD || tile::on_sram(op)) {
        return None;
    }
    let bytes = f.ty(v).num_elements() as u64 * cost::elem_bytes(f, v);
    Some((off as u64, off as u64 + bytes))
}

fn overlaps(a: Range, b: Range) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The commands of a scheduled (and planned) program, with their hazards.
pub fn commands(f: &Func, t: &Target) -> Vec<Command> {
    let producers = f.producers();
    let mut cmds: Vec<Command> = Vec::with_capacity(f.ops.len());
    let (mut reads, mut writes): (Vec<(Range, usize)>, Vec<(Range, usize)>) = (vec![], vec![]);
    for (i, op) in f.ops.iter().enumerate() {
        let (unit, work) = classify(f, op);
        let (mut r, mut w) = (Vec::new(), None);
        match op.name.as_str() {
            tile::DMA_LOAD => {
                w = op
                    .results
                    .first()
                    .and_then(|&v| sram_range(f, &producers, v))
            }
            tile::DMA_STORE => r.extend(
                op.operands
                    .first()
                    .and_then(|&v| sram_range(f, &producers, v)),
            ),
            _ if unit == Unit::Compute => {
                r.extend(
                    op.operands
                        .iter()
                        .filter_map(|&v| sram_range(f, &producers, v)),
                );
                w = op
                    .results
                    .first()
                    .and_then(|&v| sram_range(f, &producers, v));
            }
            _ => {}
        }
        let mut deps: Vec<usize> = Vec::new();
        for &rr in &r {
            deps.extend(
                writes
                    .iter()
                    .filter(|(x, _)| overlaps(*x, rr))
                    .map(|&(_, c)| c),
            );
        }
        if let Some(ww) = w {
            deps.extend(
                writes
                    .iter()
                    .chain(&reads)
                    .filter(|(x, _)| overlaps(*x, ww))
                    .map(|&(_, c)| c),
            );
            writes.retain(|(x, _)| !(ww.0 <= x.0 && x.1 <= ww.1));
            reads.retain(|(x, _)| !(ww.0 <= x.0 && x.1 <= ww.1));
            writes.push((ww, i));
        }
        reads.extend(r.iter().map(|&rr| (rr, i)));
        // Only the other engine's latest hazard matters: each engine is in order.
        let after = deps
            .into_iter()
            .filter(|&d| cmds[d].unit != unit && cmds[d].unit != Unit::None)
            .max();
        let bytes = if unit == Unit::Dma {
            cost::dma_bytes(f, op)
        } else {
            0
        };
        let cycles = match unit {
            Unit::Dma => cost::dma_op_cycles(f, op, t),
            _ => cost::cycles(t, work, cost::dataflow(op, t)),
        };
        let macs = if matches!(unit, Unit::Compute | Unit::Cpu) {
            cost::macs(op, &shapes_of(f, op))
        } else {
            0
        };
        let layer = match op.attrs.get(tile::LAYER) {
            Some(Attr::Str(s)) => Some(s.clone()),
            _ => None,
        };
        cmds.push(Command {
            op: i,
            unit,
            cycles,
            after,
            work,
            bytes,
            macs,
            layer,
        });
    }
    cmds
}

/// The engine and work of `op`.
fn classify(f: &Func, op: &Op) -> (Unit, Work) {
    match op.name.as_str() {
        // Weights kept in SRAM across runs: loaded once, before the first run.
        tile::DMA_LOAD if op.attrs.contains_key(tile::PRELOAD) => (Unit::None, Work::Free),
        tile::DMA_LOAD | tile::DMA_STORE => (Unit::Dma, Work::Free),
        tile::CONST | tile::RESHAPE | tile::QUANTIZE | tile::DEQUANTIZE | tile::ALLOC => {
            (Unit::None, Work::Free)
        }
        _ => {
            let sram = tile::on_sram(op);
            let work = cost::work(f, op, &shapes_of(f, op), sram);
            (if sram { Unit::Compute } else { Unit::Cpu }, work)
        }
    }
}

/// The end cycle of every command: the dependence graph (hazards and engine order) walked in
/// topological order, each command ending `cycles` after its latest predecessor.
pub fn timeline(cmds: &[Command]) -> Vec<u64> {
    let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(cmds.len(), cmds.len() * 2);
    let nodes: Vec<NodeIndex> = (0..cmds.len()).map(|i| g.add_node(i)).collect();
    let (mut last_dma, mut last_comp): (Option<usize>, Option<usize>) = (None, None);
    for (i, c) in cmds.iter().enumerate() {
        let mut preds = Vec::new();
        match c.unit {
            Unit::Dma => preds.extend(last_dma),
            Unit::Compute => preds.extend(last_comp),
            Unit::Cpu => preds.extend(last_dma.into_iter().chain(last_comp)),
            Unit::None => continue,
        }
        preds.extend(c.after);
        for p in preds {
            g.add_edge(nodes[p], nodes[i], ());
        }
        match c.unit {
            Unit::Dma => last_dma = Some(i),
            Unit::Compute => last_comp = Some(i),
            _ => {
                last_dma = Some(i);
                last_comp = Some(i);
            }
        }
    }
    let mut end = vec![0u64; cmds.len()];
    let mut topo = Topo::new(&g);
    while let Some(n) = topo.next(&g) {
        let i = g[n];
        let start = (g.edges_directed(n, petgraph::Direction::Incoming))
            .map(|e| end[g[e.source()]])
            .max()
            .unwrap_or(0);
        end[i] = start + cmds[i].cycles;
    }
    end
}

/// The estimate of a scheduled, planned tile program on `t`.
pub fn estimate(f: &Func, t: &Target) -> Result<Estimate, LowerError> {
    crate::require_tile_level(f, "estimating")?;
    let cmds = commands(f, t);
    let end = timeline(&cmds);
    let producers = f.producers();
    // The DRAM tensor each SRAM tile is stored into (a layer's whole output).
    let stored: std::collections::HashMap<usize, usize> = (f.ops.iter())
        .filter(|o| o.name == tile::DMA_STORE)
        .filter_map(|o| Some((*o.operands.first()?, *o.operands.get(1)?)))
        .collect();
    let mut layers: Vec<LayerEstimate> = Vec::new();
    let mut consts: Vec<std::collections::BTreeSet<usize>> = Vec::new();
    let mut makespan = 0u64;
    for c in &cmds {
        if c.unit == Unit::None {
            continue;
        }
        let name = c
            .layer
            .clone()
            .unwrap_or_else(|| crate::schedule::layer_name(&f.ops[c.op], c.op));
        if layers.last().is_none_or(|l| l.name != name) {
            layers.push(LayerEstimate {
                name,
                ..Default::default()
            });
            consts.push(Default::default());
        }
        let (Some(l), Some(cs)) = (layers.last_mut(), consts.last_mut()) else {
            continue;
        };
        let op = &f.ops[c.op];
        for &v in &op.operands {
            if producers[v].is_some_and(|p| f.ops[p].name == tile::CONST) {
                cs.insert(v);
            }
        }
        let grown = end[c.op].max(makespan);
        l.cycles += grown - makespan;
        makespan = grown;
        match c.unit {
            Unit::Dma => {
                l.dma_cycles += c.cycles;
                l.dma_bytes += c.bytes;
            }
            _ => {
                l.compute_cycles += c.cycles;
                l.macs += c.macs;
                l.tiles += 1;
                l.op = op.name.clone();
                l.weight_bits = crate::schedule::engine::weight_bits(f, op);
                if !tile::weight_operands(op).is_empty() {
                    l.weight_grid = crate::schedule::engine::weight_grid(op)
                        .unwrap_or(nibble_quantize::WeightWidth::W8)
                        .name()
                        .into();
                }
                l.act_bits = crate::schedule::engine::act_bits(f, op);
                l.engine = match (c.unit, c.work) {
                    (Unit::Cpu, _) => "cpu",
                    (_, Work::Mac { .. }) => "mac",
                    _ => "vector",
                }
                .into();
                if let Work::Mac { gemm, .. } = c.work {
                    let whole = op.results.first().map(|r| stored.get(r).unwrap_or(r));
                    let n = whole.and_then(|&v| f.ty(v).shape()?.last().map(|&c| c as u64));
                    let n = n.unwrap_or(gemm.n);
                    l.gemm = Some(Gemm { m: 0, n, k: gemm.k });
                    l.dataflow = Some(cost::dataflow(op, t).name().into());
                }
            }
        }
    }
    for (l, cs) in layers.iter_mut().zip(&consts) {
        l.bound = if l.dma_cycles > l.compute_cycles {
            "memory"
        } else {
            "compute"
        };
        l.weight_bytes = cs
            .iter()
            .map(|&v| crate::schedule::engine::stored_bytes(f, v))
            .sum();
        for &v in cs
            .iter()
            .filter(|&&v| f.ty(v).elem() == Some(&Elem::Int(8)))
        {
            let n = f.ty(v).num_elements() as u64;
            l.weight_values += n;
            l.weight_value_bits += n * crate::schedule::engine::stored_bits(f, v);
        }
        if l.weight_values > 0 && l.weight_grid.is_empty() {
            l.weight_grid = "8".into();
        }
        if let Some(g) = &mut l.gemm {
            g.m = l.macs / (g.n * g.k).max(1);
        }
    }
    let (mut preload_bytes, mut preload_cycles) = (0, 0);
    for op in f.ops.iter().filter(|o| o.attrs.contains_key(tile::PRELOAD)) {
        preload_bytes += cost::dma_bytes(f, op);
        preload_cycles += cost::dma_op_cycles(f, op, t);
    }
    Ok(Estimate {
        preload_bytes,
        preload_cycles,
        target: t.name.clone(),
        clock_mhz: t.clock_mhz,
        layers,
        total_cycles: makespan,
        sram_peak_bytes: tile::sram_peak(f).unwrap_or(0) as u64,
    })
}
