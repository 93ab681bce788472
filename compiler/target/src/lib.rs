//! Accelerator descriptions as data: a target is a TOML file (see `targets/`), read into
//! [`Target`]. Lowering sizes tiles from it.

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub name: String,
    pub description: String,
    pub sram_bytes: u64,
    pub mac_rows: u64,
    pub mac_cols: u64,
    pub widths: Vec<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot read target '{0}': {1}")]
    Io(String, std::io::Error),
    #[error("invalid target '{0}': {1}")]
    Parse(String, String),
}

/// The built-in default target.
pub const GENERIC_NPU: &str = include_str!("../targets/generic-npu.toml");

impl Target {
    pub fn parse(text: &str, name: &str) -> Result<Target, TargetError> {
        let t: Target =
            toml::from_str(text).map_err(|e| TargetError::Parse(name.into(), e.to_string()))?;
        if t.sram_bytes < 1024 || t.mac_rows == 0 || t.mac_cols == 0 {
            return Err(TargetError::Parse(
                name.into(),
                "sram_bytes must be at least 1024 and the MAC array non-empty".into(),
            ));
        }
        if !t.widths.contains(&8) {
            return Err(TargetError::Parse(
                name.into(),
                "nibble needs 8-bit support (widths must contain 8)".into(),
            ));
        }
        Ok(t)
    }
    /// `generic-npu` or a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Target, TargetError> {
        if name_or_path == "generic-npu" {
            return Target::parse(GENERIC_NPU, name_or_path);
        }
        let text = std::fs::read_to_string(name_or_path)
            .map_err(|e| TargetError::Io(name_or_path.into(), e))?;
        Target::parse(&text, name_or_path)
    }
    pub fn generic() -> Target {
        Target::parse(GENERIC_NPU, "generic-npu").expect("the built-in target is valid")
    }
}
