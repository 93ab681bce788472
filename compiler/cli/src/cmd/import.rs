//! `nibble import`: an ONNX model at the graph level (tosa, f32, NHWC) as MLIR text, as
//! imported (before the clean-up pipeline).

use crate::error::Res;
use crate::files::{write_or_print, Model};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: Model,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(a: Args) -> Res<()> {
    let driver = crate::plugins::driver()?;
    let f = driver.import_onnx(&a.model.model, a.model.input_shape.as_ref())?;
    write_or_print(a.output.as_deref(), &driver.text(&f)?)
}
