//! Accelerator descriptions as data: a target is a TOML file (schema 2, documented key by key
//! with units in `docs/targets.md`), read into [`Target`]. The shipped targets live in
//! `targets/` and are found by name ([`SHIPPED`]); any other name is a path.
//!
//! A target says what kind of code generator it needs (`kind`: `host` is portable C for a CPU,
//! `npu` the example accelerator of `dialects/npu`, any other kind a vendor's registered code
//! generator), how fast it runs (`clock_mhz`), its memories (`[memory]`), its MAC array
//! (`[mac_array]`: shape, dataflows, MACs per cycle at each weight width, activation widths),
//! what its requantization unit can do (`[requant]`), its vector unit (`[vector]`) and the
//! controller CPU that runs what the accelerator lacks (`[cpu]`). Lowering reads it through the
//! accessors below; the cycle formulas it implies are in [`cost`].

pub mod cost;
mod schema;

pub use schema::{Activation, Cpu, Dataflow, MacArray, Memory, Requant, RequantMode, Vector};

use serde::Deserialize;

/// A target description (schema 2).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The schema version: 2.
    pub schema: u32,
    pub name: String,
    pub description: String,
    /// Which code generator the target needs: `host`, `npu`, or a vendor's registered kind.
    pub kind: String,
    /// Clock in MHz (cycles → latency and frames per second).
    pub clock_mhz: f64,
    pub memory: Memory,
    pub mac_array: MacArray,
    pub requant: Requant,
    pub vector: Vector,
    #[serde(default)]
    pub cpu: Cpu,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot read target '{0}': {1}")]
    Io(String, std::io::Error),
    #[error("invalid target '{0}': {1}")]
    Parse(String, String),
    /// A well-formed description with an impossible value: the key and why.
    #[error("invalid target '{name}': {key} = {value}: {why}")]
    Value {
        name: String,
        key: &'static str,
        value: String,
        why: String,
    },
}

/// The targets shipped with nibble: (name, TOML text). `host` is the default.
pub const SHIPPED: &[(&str, &str)] = &[
    ("host", include_str!("../targets/host.toml")),
    ("generic-npu", include_str!("../targets/generic-npu.toml")),
    ("npu-mcu", include_str!("../targets/npu-mcu.toml")),
    ("npu-edge", include_str!("../targets/npu-edge.toml")),
];

/// The default target of `nibble compile` and `nibble report`.
pub const DEFAULT: &str = "host";

/// The target kind whose code is portable C for a CPU (no DMA schedule).
pub const HOST_KIND: &str = "host";

impl Target {
    /// Parses and validates a description; `name` (a file name) names it in errors.
    pub fn parse(text: &str, name: &str) -> Result<Target, TargetError> {
        if let Some(v1) = schema::v1_hint(text) {
            return Err(TargetError::Parse(name.into(), v1));
        }
        let t: Target =
            toml::from_str(text).map_err(|e| TargetError::Parse(name.into(), e.to_string()))?;
        t.validate(name)?;
        Ok(t)
    }

    /// A shipped target by name, or a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Target, TargetError> {
        if let Some((n, text)) = SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
            return Target::parse(text, n);
        }
        let text = std::fs::read_to_string(name_or_path)
            .map_err(|e| TargetError::Io(name_or_path.into(), e))?;
        Target::parse(&text, name_or_path)
    }

    /// The TOML text of a shipped target or of a target file (what `Target::load` reads).
    pub fn source(name_or_path: &str) -> Result<String, TargetError> {
        match SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
            Some((_, text)) => Ok(text.to_string()),
            None => std::fs::read_to_string(name_or_path)
                .map_err(|e| TargetError::Io(name_or_path.into(), e)),
        }
    }

    /// The default target (`host`).
    pub fn default_target() -> Target {
        Target::load(DEFAULT).expect("the shipped targets are valid")
    }

    /// `generic-npu`.
    pub fn generic() -> Target {
        Target::load("generic-npu").expect("the shipped targets are valid")
    }

    /// Whether the code is portable C for a CPU (no DMA schedule, no cycle model).
    pub fn is_host(&self) -> bool {
        self.kind == HOST_KIND
    }

    /// On-chip SRAM in bytes (for `host`: the cache budget tiles are sized for).
    pub fn sram_bytes(&self) -> u64 {
        self.memory.sram_bytes
    }

    /// Weight widths the MAC array multiplies, ascending (the keys of `macs_per_cycle`).
    pub fn weight_widths(&self) -> Vec<u32> {
        let mut w: Vec<u32> = (self.mac_array.macs_per_cycle.keys())
            .filter_map(|k| k.parse().ok())
            .collect();
        w.sort_unstable();
        w
    }

    /// Activation widths the MAC array reads, ascending.
    pub fn activation_widths(&self) -> Vec<u32> {
        let mut a = self.mac_array.activation_widths.clone();
        a.sort_unstable();
        a
    }

    /// MACs per cycle at weight width `bits` (None: the array does not multiply that width).
    pub fn macs_per_cycle(&self, bits: u32) -> Option<u64> {
        self.mac_array
            .macs_per_cycle
            .get(&bits.to_string())
            .copied()
    }

    /// Whether requantization may only shift (power-of-two scales).
    pub fn pow2_only(&self) -> bool {
        self.requant.mode == RequantMode::Pow2
    }

    /// Whether the vector unit computes `a` (fused into a layer's requantization or alone).
    pub fn has_activation(&self, a: Activation) -> bool {
        self.vector.activations.contains(&a)
    }

    /// Whether DMA transfers overlap compute (two SRAM buffers per operand).
    pub fn double_buffer(&self) -> bool {
        self.memory.double_buffer
    }

    /// Whether the memory plan may keep data in SRAM across layers and runs.
    pub fn cross_layer(&self) -> bool {
        self.memory.cross_layer
    }

    /// Seconds per cycle × 1e6 (µs per cycle).
    pub fn us_per_cycle(&self) -> f64 {
        1.0 / self.clock_mhz
    }

    /// A copy with a different SRAM size (for experiments and tests).
    pub fn with_sram(&self, bytes: u64) -> Target {
        let mut t = self.clone();
        t.memory.sram_bytes = bytes;
        t
    }

    /// Refuses impossible values, naming the key.
    fn validate(&self, name: &str) -> Result<(), TargetError> {
        let bad = |key: &'static str, value: String, why: &str| TargetError::Value {
            name: name.into(),
            key,
            value,
            why: why.into(),
        };
        if self.schema != 2 {
            let why = "this nibble reads schema 2 (docs/targets.md)";
            return Err(bad("schema", self.schema.to_string(), why));
        }
        if !is_identifier(&self.name) {
            let why = "a name is letters, digits, '-' and '_'";
            return Err(bad("name", format!("{:?}", self.name), why));
        }
        if !is_identifier(&self.kind) {
            let why = "a kind is letters, digits, '-' and '_' (host, npu, or a vendor's)";
            return Err(bad("kind", format!("{:?}", self.kind), why));
        }
        if !(self.clock_mhz.is_finite() && self.clock_mhz > 0.0 && self.clock_mhz <= 1e5) {
            let why = "a clock is a positive number of MHz (at most 100000)";
            return Err(bad("clock_mhz", self.clock_mhz.to_string(), why));
        }
        self.memory.validate(&bad)?;
        self.mac_array.validate(&bad)?;
        self.requant.validate(&bad)?;
        self.vector.validate(&bad)?;
        self.cpu.validate(&bad)
    }
}

/// The error constructor `validate` passes to each section.
pub(crate) type Bad<'a> = dyn Fn(&'static str, String, &str) -> TargetError + 'a;

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
