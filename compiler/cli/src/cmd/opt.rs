//! `nibble opt`: a pass pipeline over an MLIR file, like `mlir-opt`; nibble and upstream passes
//! mix in one pipeline. As in mlir-opt, `--split-input-file` processes each part of a file
//! between `// -----` lines on its own (the outputs joined by the same marker), and
//! `--verify-diagnostics` checks the diagnostics against the file's `expected-*` annotations
//! instead of printing them (see `nibble_ir::verify`).

mod split;

use crate::error::{CliError, Res};
use crate::files::{read_text, write_or_print};
use nibble_driver::Driver;
use nibble_ir::diagnostics::{Diagnostic, Position};
use split::Chunk;
use std::path::{Path, PathBuf};

/// The nibble passes and an example, for `--help`.
pub const AFTER_HELP: &str = "nibble passes: nibble-fold-constants, nibble-fold-batchnorm, nibble-recognize-layers, nibble-fuse-activations, nibble-dce, nibble-absorb-bias, nibble-equalize{scheme=…}, nibble-choose-bits{scheme=… granularity=… max-sqnr=DB budget=FRACTION}, nibble-quantize{scheme=… granularity=… clamp-sigma=K bias-correction=true}, nibble-fold-requant, nibble-lower-tile, nibble-check-accumulators, nibble-tile-size{target=generic-npu|PATH.toml}, nibble-plan-memory\nExample: nibble opt model.quant.mlir --pass-pipeline='builtin.module(nibble-fold-requant,nibble-lower-tile,nibble-tile-size,nibble-plan-memory)'\nAnnotations for --verify-diagnostics: `// expected-error @+1 {{text}}` (also -warning, -note, -remark; -re for {{regex}} groups; @-N, @above, @below, or @unknown for a diagnostic without a line, such as a nibble pass's failure).";

/// The name MLIR gives text parsed from memory (standard input, a part of a split file).
const MEMORY: &str = "-";

#[derive(clap::Args)]
pub struct Args {
    /// Input file, or `-` for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
    #[arg(long = "pass-pipeline", default_value = "")]
    pass_pipeline: String,
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Cut the input at its `// -----` lines (or MARKER's) and process each part on its own;
    /// the outputs are joined with `// -----` lines.
    #[arg(long, value_name = "MARKER", num_args = 0..=1, default_missing_value = split::MARKER)]
    split_input_file: Option<String>,
    /// Check the diagnostics against the input's `expected-error` (-warning, -note, -remark)
    /// annotations instead of printing them; fail on a mismatch either way.
    #[arg(long)]
    verify_diagnostics: bool,
}

pub fn run(a: Args) -> Res<()> {
    let driver = crate::plugins::driver()?;
    let text = read_input(&a.file)?;
    let name = a.file.display().to_string();
    if a.split_input_file.is_none() && !a.verify_diagnostics {
        let out = driver.opt(&text, &name, &a.pass_pipeline)?;
        return write_or_print(a.output.as_deref(), &out);
    }
    let chunks = match &a.split_input_file {
        Some(marker) => split::chunks(&text, marker),
        None => vec![Chunk::whole(&text)],
    };
    let (mut outputs, mut failures) = (Vec::new(), Vec::new());
    for chunk in &chunks {
        match process(&driver, chunk, &name, &a) {
            Ok(out) => outputs.push(out),
            Err(why) => {
                outputs.push(String::new());
                failures.push(why);
            }
        }
    }
    let out = outputs.join(&format!("{}\n", split::MARKER));
    if failures.is_empty() {
        return write_or_print(a.output.as_deref(), &out);
    }
    // Like mlir-opt: the parts that worked are still printed, but no output file is written.
    if a.output.is_none() {
        print!("{out}");
    }
    Err(CliError::Opt(failures.join("\n")))
}

fn read_input(file: &Path) -> Res<String> {
    if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| CliError::Read("-".into(), e))?;
        Ok(s)
    } else {
        read_text(file)
    }
}

/// One part of the input through the pipeline: its output, or why it failed (`error:` lines).
fn process(driver: &Driver, chunk: &Chunk, name: &str, a: &Args) -> Result<String, String> {
    let text = chunk.padded();
    let (result, diagnostics) = driver.capture(|d| d.opt(&text, name, &a.pass_pipeline));
    let ours = |p: &Position| p.file == name || p.file == MEMORY;
    let mut problems = match a.verify_diagnostics {
        true => nibble_ir::verify::verify(&text, name, &diagnostics, ours),
        false => Vec::new(),
    };
    match result {
        Ok(out) if problems.is_empty() => return Ok(out),
        // A failure without a diagnostic (a pipeline that does not parse) is never expected.
        Err(e) if diagnostics.is_empty() => problems.insert(0, error_line(&e.to_string())),
        Err(_) if !a.verify_diagnostics => problems.extend(
            diagnostics
                .into_iter()
                .map(|d| in_file(d, name, &ours).to_string()),
        ),
        Err(_) if problems.is_empty() => return Ok(String::new()),
        _ => {}
    }
    Err(problems.join("\n"))
}

/// `d` with the positions in the input named after the input file.
fn in_file(mut d: Diagnostic, name: &str, ours: &impl Fn(&Position) -> bool) -> Diagnostic {
    if let Some(p) = d.position.as_mut().filter(|p| ours(p)) {
        p.file = name.to_string();
    }
    d.notes = d
        .notes
        .into_iter()
        .map(|n| in_file(n, name, ours))
        .collect();
    d
}

/// An error's text as `nibble` prints it: MLIR's diagnostics already read `…error: …`.
fn error_line(e: &str) -> String {
    if e.starts_with("error: ") || e.contains(": error: ") {
        e.to_string()
    } else {
        format!("error: {e}")
    }
}
