//! `nibble compile`: an ONNX model to integer-only C. The driver decides and lowers; this
//! command reads the calibration vectors, owns the output directory and writes what the
//! driver hands it.

use crate::error::{CliError, Res};
use crate::files::{create_dir, import_shape, input_shape, write, Model};
use crate::npy::{batch_in_place, NpyFile};
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
    /// Also write the quantized model for other toolchains: `onnx-qdq` (model.qdq.onnx).
    #[arg(long, value_enum, value_delimiter = ',')]
    emit: Vec<crate::export::Emit>,
    #[command(flatten)]
    options: CompileOptions,
}

pub fn run(mut a: Args) -> Res<()> {
    // The cheap refusals first: a target that does not load or that cannot run the scheme
    // asked for; contradicting flags once the model says whether it carries its grids.
    if a.options.target.target == "help" {
        print!("{}", super::targets::table()?);
        return Ok(());
    }
    let target = a.options.target.load()?;
    a.options.quant.resolve_for(&target)?;
    let driver = crate::plugins::driver()?;
    let graph = driver.import(
        &a.model.model,
        import_shape(a.model.input_shape.as_ref(), a.calib.as_deref())?.as_ref(),
    )?;
    crate::quantized::quantized_model(&graph, &mut a.options, a.calib.is_some())?;
    a.options.check(a.calib.is_some())?;
    // Calibration reads the vectors in place in the file's memory map (no copy on the heap).
    let file = a.calib.as_deref().map(NpyFile::open).transpose()?;
    let (n, data) = match (&a.calib, &file) {
        (Some(c), Some(file)) => {
            let (n, data) = batch_in_place(file, c, &input_shape(&graph))?;
            if n == 0 {
                return Err(CliError::Input(format!(
                    "'{}' holds no calibration samples",
                    c.display()
                )));
            }
            (n, data)
        }
        _ => (0, Default::default()),
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
    if !a.emit.is_empty() {
        // The qnt level again (deterministic: model.quant.mlir), as a function with its
        // locations, which name the ONNX nodes.
        let qnt = driver.run_stage(&graph, nibble_driver::Stage::Quantize(&a.options.quant))?;
        // An accelerator's tile program moves data by DMA; the exports read the same
        // decisions lowered for the host (the same integers).
        let on_accelerator = compiled
            .tile
            .ops
            .iter()
            .any(|o| nibble_tile::is_dma(o) || o.name == nibble_tile::ALLOC);
        let host = if on_accelerator {
            let host = nibble_driver::TargetOption::default();
            Some(driver.run_stage(&qnt, nibble_driver::Stage::Lower(&host))?)
        } else {
            None
        };
        let levels = crate::export::Levels {
            graph: &graph,
            qnt: &qnt,
            tile: host.as_ref().unwrap_or(&compiled.tile),
        };
        written.extend(crate::export::write(
            &a.emit,
            &a.model.model,
            &levels,
            &a.output,
        )?);
    }
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
    for name in OUTPUT_FILES.iter().chain(crate::export::FILES) {
        match std::fs::remove_file(out.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(CliError::Remove(out.join(name).display().to_string(), e))
            }
            _ => {}
        }
    }
    Ok(())
}
