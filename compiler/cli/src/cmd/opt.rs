//! `nibble opt`: a pass pipeline over an MLIR file, like `mlir-opt`; nibble and upstream passes
//! mix in one pipeline.

use crate::error::{CliError, Res};
use crate::files::{read_text, write_or_print};
use std::path::PathBuf;

/// The nibble passes and an example, for `--help`.
pub const AFTER_HELP: &str = "nibble passes: nibble-fold-constants, nibble-fold-batchnorm, nibble-recognize-layers, nibble-fuse-activations, nibble-dce, nibble-absorb-bias, nibble-equalize{scheme=…}, nibble-choose-bits{scheme=… granularity=… max-sqnr=DB budget=FRACTION}, nibble-quantize{scheme=… granularity=… clamp-sigma=K bias-correction=true}, nibble-fold-requant, nibble-lower-tile, nibble-tile-size{target=generic-npu|PATH.toml}, nibble-plan-memory\nExample: nibble opt model.quant.mlir --pass-pipeline='builtin.module(nibble-fold-requant,nibble-lower-tile,nibble-tile-size,nibble-plan-memory)'";

#[derive(clap::Args)]
pub struct Args {
    /// Input file, or `-` for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
    #[arg(long = "pass-pipeline", default_value = "")]
    pass_pipeline: String,
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(a: Args) -> Res<()> {
    let driver = crate::plugins::driver()?;
    let text = if a.file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| CliError::Read("-".into(), e))?;
        s
    } else {
        read_text(&a.file)?
    };
    let out = driver.opt(&text, &a.file.display().to_string(), &a.pass_pipeline)?;
    write_or_print(a.output.as_deref(), &out)
}
