//! `nibble compile`: an ONNX model to integer-only C. The driver decides and lowers; this
//! command reads the calibration vectors, owns the output directory and writes what the
//! driver hands it.

use crate::error::{CliError, Res};
use crate::files::{create_dir, import_shape, input_shape, write, Model};
use crate::npy::read_batch;
use crate::progress::Terminal;
use nibble_driver::{CompileOptions, Samples, OUTPUT_FILES};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: Model,
    /// Calibration inputs: float32 .npy, N x the model's input shape (not with
    /// `--ranges data-free`).
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Output directory (model.{graph,quant,tile}.mlir, model.c/.h, runtime, main.c).
    #[arg(short, long)]
    output: PathBuf,
    /// Also write main.c: a program that reads a .npy batch and writes outK.npy.
    #[arg(long)]
    emit_main: bool,
    #[command(flatten)]
    options: CompileOptions,
}

pub fn run(mut a: Args) -> Res<()> {
    // The cheap refusals first: contradicting flags, a target that does not load or that
    // cannot run the scheme asked for.
    if a.options.target.target == "help" {
        print!("{}", super::targets::table()?);
        return Ok(());
    }
    a.options.check(a.calib.is_some())?;
    let target = a.options.target.load()?;
    a.options.quant.resolve_for(&target)?;
    let driver = crate::plugins::driver()?;
    let graph = driver.import(
        &a.model.model,
        import_shape(a.model.input_shape.as_ref(), a.calib.as_deref())?.as_ref(),
    )?;
    let (n, data) = match &a.calib {
        None => (0, Vec::new()),
        Some(c) => {
            let (n, data) = read_batch(c, &input_shape(&graph))?;
            if n == 0 {
                return Err(CliError::Input(format!(
                    "'{}' holds no calibration samples",
                    c.display()
                )));
            }
            (n, data)
        }
    };
    let samples = Samples::new(&data, data.len().checked_div(n).unwrap_or(1));
    let obs = Terminal::default();
    let graph = driver.prepare(graph, samples, &a.options, &obs)?;
    let mut written: Vec<String> = Vec::new();
    let compiled = driver.emit(&graph, &a.options, |name, text| {
        if written.is_empty() {
            clear(&a.output)?;
        }
        if name == "main.c" && !a.emit_main {
            return Ok(());
        }
        written.push(name.to_string());
        write(&a.output.join(name), text)
    })?;
    eprintln!("wrote {}: {}", a.output.display(), written.join(", "));
    let arena = compiled.arena_bytes().map_or("?".into(), |n| n.to_string());
    eprintln!(
        "memory: {} bytes of weights and biases, an activation arena of {arena} bytes",
        compiled.weight_bytes()
    );
    Ok(())
}

/// Creates the output directory and removes the files an earlier compile wrote there: OUT
/// holds one compile, so a failed or different compile never leaves another model's main.c
/// or model.h behind.
fn clear(out: &Path) -> Res<()> {
    create_dir(out)?;
    for name in OUTPUT_FILES {
        match std::fs::remove_file(out.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(CliError::Remove(out.join(name).display().to_string(), e))
            }
            _ => {}
        }
    }
    Ok(())
}
