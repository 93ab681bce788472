//! The cycle formulas a target implies: what the schedule's cost model, `nibble estimate`,
//! the manifest and the simulator (`runtime/npu/npu_sim.c`, which computes the same integers)
//! charge for each kind of work. All integer arithmetic, so Rust and C agree exactly.
//!
//! - **MAC array** (SCALE-Sim v3's per-fold formulas, R×C array, GEMM view M output pixels ×
//!   N output channels × K reduction; `docs/targets.md`):
//!   ws: `ceil(K/R') · ceil(N/C) · (2R + C + M − 2)`,
//!   os: `ceil(M/R) · ceil(N/C) · (R + C + K' − 2)`,
//!   where a narrower weight (or wider activation) changes the rate: with
//!   `rate = macs_per_cycle(w) · 8 / act_bits`, `ceil(K/R') = ceil(K·C / rate)` (each PE holds
//!   rate/(R·C) weights) and `K' = ceil(K·R·C / rate)` (each PE does rate/(R·C) MACs a cycle).
//!   At the array's native rate (`rate = R·C`) these are exactly SCALE-Sim's terms; SCALE-Sim
//!   subtracts one cycle per layer, nibble charges every tile's folds in full.
//! - **DMA**: `dma_setup_cycles + runs · ceil(run_bytes / dram_bytes_per_cycle)` per
//!   transfer of a box: each contiguous run of the DRAM tensor in whole beats.
//! - **Vector unit**: `ceil(ops / lanes)`; **controller CPU**: `ceil(ops / ops_per_cycle)`.

use crate::{Dataflow, Target};

/// A MAC-array op as a matrix product: `m` output pixels (rows) × `n` output channels, each a
/// dot product of length `k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gemm {
    pub m: u64,
    pub n: u64,
    pub k: u64,
}

impl Gemm {
    pub fn macs(&self) -> u64 {
        self.m * self.n * self.k
    }
}

/// MACs per cycle for `weight_bits` weights and `act_bits` activations (the 8-bit rate for a
/// width the table lacks; 16-bit activations at half the rate).
pub fn mac_rate(t: &Target, weight_bits: u32, act_bits: u32) -> u64 {
    let rate = t
        .macs_per_cycle(weight_bits)
        .or_else(|| t.macs_per_cycle(8))
        .unwrap_or(1);
    (rate * 8 / u64::from(act_bits.max(8))).max(1)
}

/// Cycles of one MAC-array tile.
pub fn mac_cycles(t: &Target, df: Dataflow, g: Gemm, weight_bits: u32, act_bits: u32) -> u64 {
    let (r, c) = (t.mac_array.rows, t.mac_array.cols);
    let rate = mac_rate(t, weight_bits, act_bits);
    if g.m == 0 || g.n == 0 || g.k == 0 {
        return 0;
    }
    match df {
        Dataflow::Ws => (g.k * c).div_ceil(rate) * g.n.div_ceil(c) * (2 * r + c + g.m - 2),
        Dataflow::Os => {
            let t_k = (g.k * r * c).div_ceil(rate);
            g.m.div_ceil(r) * g.n.div_ceil(c) * (r + c + t_k - 2)
        }
    }
}

/// The contiguous runs of a box of a row-major tensor: (how many, elements each). The dims
/// after the innermost one the box does not cover whole merge into one run.
pub fn runs(shape: &[i64], size: &[i64]) -> (u64, u64) {
    let n = shape.len().min(size.len());
    let d = (0..n).rev().find(|&k| size[k] != shape[k]).unwrap_or(0);
    let elems: i64 = size[d..n].iter().product();
    let count: i64 = size[..d].iter().product();
    (count.max(0) as u64, elems.max(0) as u64)
}

/// Cycles of one DMA transfer of `runs` contiguous runs of `run_bytes` each: the set-up, then
/// every run in whole beats of `dram_bytes_per_cycle` (a short run still takes a beat).
pub fn dma_cycles(t: &Target, runs: u64, run_bytes: u64) -> u64 {
    t.memory.dma_setup_cycles + runs * run_bytes.div_ceil(t.memory.dram_bytes_per_cycle)
}

/// Cycles of `ops` element operations on the vector unit.
pub fn vector_cycles(t: &Target, ops: u64) -> u64 {
    ops.div_ceil(t.vector.lanes)
}

/// Cycles of `ops` element operations on the controller CPU.
pub fn cpu_cycles(t: &Target, ops: u64) -> u64 {
    ops.div_ceil(t.cpu.ops_per_cycle)
}

/// Cycles to microseconds at the target's clock.
pub fn micros(t: &Target, cycles: u64) -> f64 {
    cycles as f64 / t.clock_mhz
}

/// Frames per second of a program of `cycles` per frame.
pub fn fps(t: &Target, cycles: u64) -> f64 {
    if cycles == 0 {
        return 0.0;
    }
    t.clock_mhz * 1e6 / cycles as f64
}
