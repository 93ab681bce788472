//! The sections of a target description and the checks of their values. Every key is
//! documented with its unit in `docs/targets.md`; unknown keys are refused by serde
//! (`deny_unknown_fields`), impossible values here, each error naming its key.

use crate::{Bad, TargetError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[memory]`: the on-chip SRAM and the path to external memory (DRAM).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    /// On-chip SRAM (scratchpad) in bytes; a tile's working set must fit in it.
    pub sram_bytes: u64,
    /// External memory bandwidth in bytes per cycle (DMA).
    pub dram_bytes_per_cycle: u64,
    /// Cycles to set up one DMA transfer (descriptor, first beat).
    pub dma_setup_cycles: u64,
    /// Two SRAM buffers per streamed operand so transfers overlap compute (default true).
    #[serde(default = "yes")]
    pub double_buffer: bool,
    /// The memory plan across layers (default true): layer outputs kept resident in SRAM for
    /// the next layers, weights kept in the SRAM left free across runs, when the cost model
    /// finds them faster. False: every layer streams from and to DRAM.
    #[serde(default = "yes")]
    pub cross_layer: bool,
}

fn yes() -> bool {
    true
}

/// A MAC-array dataflow (SCALE-Sim's names): weights or outputs stay in the PEs.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Dataflow {
    /// Weight stationary: a fold holds R×C weights; the outputs' pixels stream through.
    Ws,
    /// Output stationary: a fold holds R×C outputs; the reduction streams through.
    Os,
}

impl Dataflow {
    pub fn name(self) -> &'static str {
        match self {
            Dataflow::Ws => "ws",
            Dataflow::Os => "os",
        }
    }
}

/// `[mac_array]`: the systolic array that computes convolutions and fully connected layers.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MacArray {
    /// PE rows (R).
    pub rows: u64,
    /// PE columns (C).
    pub cols: u64,
    /// Dataflows the array can run; the schedule picks one per layer.
    pub dataflows: Vec<Dataflow>,
    /// MACs per cycle at each weight width in bits ("8", "4", …); "8" is required.
    pub macs_per_cycle: BTreeMap<String, u64>,
    /// Activation widths in bits the array reads (8, and 16 if it can).
    pub activation_widths: Vec<u32>,
}

/// Requantization capability.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum RequantMode {
    /// A 32-bit multiplier and a shift per output channel.
    #[serde(rename = "per-channel")]
    PerChannel,
    /// Power-of-two scales: a rounding shift only.
    #[serde(rename = "pow2")]
    Pow2,
}

/// `[requant]`: the requantization unit after the MAC array.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Requant {
    pub mode: RequantMode,
    /// Bits of the multiplier: 32 for `per-channel` (nibble's multipliers are int32), 0 for
    /// `pow2` (no multiplier).
    pub multiplier_bits: u32,
}

/// An activation the vector unit computes (fused into a requantization or as its own op).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Clamps: ReLU, ReLU6, any [lo, hi] (every target has them in its requantization).
    Clamp,
    /// PReLU / LeakyReLU: a second multiplier for negative accumulators.
    Prelu,
    /// Fixed-point hard-swish.
    HardSwish,
    /// Fixed-point swish (x·sigmoid(βx), an interpolated sigmoid table).
    Swish,
}

/// `[vector]`: the vector unit (elementwise ops, pooling, depthwise convolutions).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    /// Elements (or MACs) per cycle.
    pub lanes: u64,
    /// Whether it has 256-entry lookup tables (`tile.lut`: sigmoid, tanh, GELU, …).
    pub lut: bool,
    /// Activations it computes besides plain requantization.
    pub activations: Vec<Activation>,
}

/// `[cpu]`: the controller CPU, which runs the ops the accelerator lacks on external memory.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cpu {
    /// Element operations (or MACs) per accelerator cycle.
    pub ops_per_cycle: u64,
}

impl Default for Cpu {
    fn default() -> Cpu {
        Cpu { ops_per_cycle: 1 }
    }
}

/// The largest SRAM and widths nibble plans for (offsets are i64, sizes fit i32 in C).
const MAX_SRAM: u64 = 1 << 30;

impl Memory {
    pub(crate) fn validate(&self, bad: &Bad) -> Result<(), TargetError> {
        if !(1024..=MAX_SRAM).contains(&self.sram_bytes) {
            let why = "SRAM must be between 1 KiB and 1 GiB";
            return Err(bad("memory.sram_bytes", self.sram_bytes.to_string(), why));
        }
        if !(1..=1 << 16).contains(&self.dram_bytes_per_cycle) {
            let why = "bandwidth is a whole number of bytes per cycle, 1 to 65536";
            let v = self.dram_bytes_per_cycle.to_string();
            return Err(bad("memory.dram_bytes_per_cycle", v, why));
        }
        if self.dma_setup_cycles > 1 << 20 {
            let why = "at most 2^20 cycles";
            let v = self.dma_setup_cycles.to_string();
            return Err(bad("memory.dma_setup_cycles", v, why));
        }
        Ok(())
    }
}

impl MacArray {
    pub(crate) fn validate(&self, bad: &Bad) -> Result<(), TargetError> {
        for (key, v) in [("mac_array.rows", self.rows), ("mac_array.cols", self.cols)] {
            if !(1..=4096).contains(&v) {
                return Err(bad(key, v.to_string(), "between 1 and 4096 PEs"));
            }
        }
        if self.dataflows.is_empty() {
            let why = "at least one of \"ws\", \"os\"";
            return Err(bad("mac_array.dataflows", "[]".into(), why));
        }
        if !self.macs_per_cycle.contains_key("8") {
            let v = format!("{:?}", self.macs_per_cycle);
            let why = "nibble needs the 8-bit rate (a key \"8\")";
            return Err(bad("mac_array.macs_per_cycle", v, why));
        }
        for (k, &v) in &self.macs_per_cycle {
            if !matches!(k.as_str(), "1" | "2" | "4" | "8" | "16") {
                let why = "widths are \"1\", \"2\", \"4\", \"8\" or \"16\" bits";
                return Err(bad(
                    "mac_array.macs_per_cycle",
                    format!("{{{k:?} = {v}}}"),
                    why,
                ));
            }
            if v == 0 || v > 1 << 24 {
                let why = "MACs per cycle between 1 and 2^24";
                return Err(bad(
                    "mac_array.macs_per_cycle",
                    format!("{{{k:?} = {v}}}"),
                    why,
                ));
            }
        }
        let a = &self.activation_widths;
        if !a.contains(&8) || a.iter().any(|w| !matches!(w, 8 | 16)) {
            let why = "8, and optionally 16";
            return Err(bad("mac_array.activation_widths", format!("{a:?}"), why));
        }
        Ok(())
    }
}

impl Requant {
    pub(crate) fn validate(&self, bad: &Bad) -> Result<(), TargetError> {
        let (ok, why) = match self.mode {
            RequantMode::PerChannel => (
                self.multiplier_bits == 32,
                "nibble's multipliers are int32: a per-channel unit needs 32 bits",
            ),
            RequantMode::Pow2 => (
                self.multiplier_bits == 0,
                "a pow2 unit only shifts: it has no multiplier (0 bits)",
            ),
        };
        if !ok {
            let v = self.multiplier_bits.to_string();
            return Err(bad("requant.multiplier_bits", v, why));
        }
        Ok(())
    }
}

impl Vector {
    pub(crate) fn validate(&self, bad: &Bad) -> Result<(), TargetError> {
        if !(1..=1 << 16).contains(&self.lanes) {
            return Err(bad(
                "vector.lanes",
                self.lanes.to_string(),
                "between 1 and 65536",
            ));
        }
        Ok(())
    }
}

impl Cpu {
    pub(crate) fn validate(&self, bad: &Bad) -> Result<(), TargetError> {
        if !(1..=1 << 16).contains(&self.ops_per_cycle) {
            let v = self.ops_per_cycle.to_string();
            return Err(bad("cpu.ops_per_cycle", v, "between 1 and 65536"));
        }
        Ok(())
    }
}

/// A hint for a schema-1 description (flat `sram_bytes`, `mac_rows`, `widths`), which this
/// nibble no longer reads.
pub(crate) fn v1_hint(text: &str) -> Option<String> {
    let v: toml::Table = toml::from_str(text).ok()?;
    (!v.contains_key("schema") && (v.contains_key("mac_rows") || v.contains_key("sram_bytes")))
        .then(|| {
            "a schema-1 description (sram_bytes, mac_rows, mac_cols, widths at the top level); \
             write schema = 2 with [memory], [mac_array], [requant] and [vector] sections \
             (docs/targets.md)"
                .into()
        })
}
