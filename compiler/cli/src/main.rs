//! `nibble`: compile trained networks to integer-only C for edge accelerators. This file is
//! the dispatcher: the subcommands live in `cmd/`, the compile steps in the `nibble-driver`
//! library.

mod cmd;
mod export;
mod files;
mod metrics;
mod plugins;
mod progress;
mod quantized;
mod report;

use clap::{Parser, Subcommand};
use nibble_cli::{error, npy};

#[derive(Parser)]
#[command(
    name = "nibble",
    version,
    about = "Compile ONNX models to integer-only C for edge AI accelerators",
    long_about = "Compile ONNX models to integer-only C for edge AI accelerators.\n\nPipeline: ONNX → graph level (tosa, f32) → qnt level (quantized) → tile level (integer, tiled for a target) → C99.\nEvery level is MLIR; dump any of them, run them with the reference interpreters, or transform them with `nibble opt`."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Import an ONNX model to the graph level (tosa, f32, NHWC) and print or write it.
    Import(cmd::import::Args),
    /// Run a pass pipeline over an MLIR file, like mlir-opt; nibble and upstream passes mix.
    #[command(after_help = cmd::opt::AFTER_HELP)]
    Opt(cmd::opt::Args),
    /// Compile an ONNX model to integer-only C: calibrate, quantize, fold, lower, emit.
    Compile(Box<cmd::compile::Args>),
    /// Where accuracy goes: FP32 vs every configuration (scheme × granularity × range method)
    /// on an evaluation set, and the per-layer SQNR of the best one; text and an HTML page.
    Report(Box<cmd::report::Args>),
    /// Print the table of supported ONNX ops (Markdown).
    Ops,
    /// Score model outputs: top-1 (or CTC character) accuracy against labels, decision agreement and SQNR against a reference.
    Eval(cmd::eval::Args),
    /// List the shipped targets (host, generic-npu, npu-mcu, npu-edge); `--target` takes one
    /// of them or a TOML file.
    Targets,
    /// The static cycle estimate of a compiled program on its accelerator target, per layer
    /// with the roofline bound, and its latency and FPS.
    Estimate(cmd::estimate::Args),
    /// Why each weight layer got its width: its measured sensitivity against the budget's
    /// marginal price (from OUT/manifest.json).
    Explain(cmd::explain::Args),
    /// Quantization-aware fine-tuning: train a classifier's float weights through nibble's
    /// weight grid at one width (fake quantization, straight-through estimator) and write them
    /// back into the same ONNX graph.
    Finetune(Box<cmd::finetune::Args>),
    /// Run a model with the reference interpreter: .onnx or graph .mlir (float), qnt or tile .mlir (integer, bit-exact).
    Run(cmd::run::Args),
}

fn run(cmd: Cmd) -> error::Res<()> {
    match cmd {
        Cmd::Import(a) => cmd::import::run(a),
        Cmd::Opt(a) => cmd::opt::run(a),
        Cmd::Compile(a) => cmd::compile::run(*a),
        Cmd::Report(a) => cmd::report::run(*a),
        Cmd::Ops => cmd::ops::run(),
        Cmd::Eval(a) => cmd::eval::run(a),
        Cmd::Run(a) => cmd::run::run(a),
        Cmd::Targets => cmd::targets::run(),
        Cmd::Estimate(a) => cmd::estimate::run(a),
        Cmd::Explain(a) => cmd::explain::run(a),
        Cmd::Finetune(a) => cmd::finetune::run(*a),
    }
}

fn main() {
    // A closed pipe (`nibble explain OUT | head`) ends the program quietly, as it does other
    // Unix tools; Rust's default turns it into a panic in println!.
    // SAFETY: called first, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("NIBBLE_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli.cmd) {
        let e = e.to_string();
        // MLIR diagnostics already read `file:line:col: error: …`.
        if e.starts_with("error: ") || e.contains(": error: ") {
            eprintln!("{e}");
        } else {
            eprintln!("error: {e}");
        }
        std::process::exit(1);
    }
}
