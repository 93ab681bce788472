//! `nibble targets`: the shipped targets (also `nibble compile --target help`) — name, kind,
//! SRAM, MAC array, weight widths, requantization, clock — and where the schema is documented.

use crate::error::Res;
use nibble_target::{Target, SHIPPED};

/// The table of shipped targets.
pub fn table() -> Res<String> {
    let mut out = String::from(
        "target        kind  SRAM       MAC array  weight bits  requant      clock     description\n",
    );
    for (name, _) in SHIPPED {
        let t = Target::load(name).map_err(nibble_driver::Error::from)?;
        let widths: Vec<String> = t.weight_widths().iter().map(u32::to_string).collect();
        out.push_str(&format!(
            "{:<13} {:<5} {:<10} {:<10} {:<12} {:<12} {:<9} {}\n",
            t.name,
            t.kind,
            format!("{} KiB", t.sram_bytes() / 1024),
            format!("{}x{}", t.mac_array.rows, t.mac_array.cols),
            widths.join(","),
            if t.pow2_only() { "pow2" } else { "per-channel" },
            format!("{} MHz", t.clock_mhz),
            t.description
        ));
    }
    out.push_str(
        "\n`--target NAME` or `--target FILE.toml` (schema 2, docs/targets.md); the default is host.\n",
    );
    Ok(out)
}

pub fn run() -> Res<()> {
    print!("{}", table()?);
    Ok(())
}
