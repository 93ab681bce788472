//! `nibble`: compile trained networks to integer-only C for edge accelerators.

mod metrics;
mod npy;
mod report;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::ArrayD;
use nibble_ir::{mlir::Mlir, Func};
use std::path::{Path, PathBuf};

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
    Import {
        model: PathBuf,
        /// Fix the input shape where the model leaves it dynamic: NAME=1,3,48,192.
        #[arg(long, value_parser = parse_input_shape)]
        input_shape: Option<(String, Vec<i64>)>,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run a pass pipeline over an MLIR file, like mlir-opt; nibble and upstream passes mix.
    #[command(
        after_help = "nibble passes: nibble-fold-constants, nibble-fold-batchnorm, nibble-recognize-layers, nibble-fuse-activations, nibble-dce, nibble-absorb-bias, nibble-equalize{scheme=…}, nibble-choose-bits{scheme=… granularity=… max-sqnr=DB budget=FRACTION}, nibble-quantize{scheme=… granularity=… clamp-sigma=K bias-correction=true}, nibble-fold-requant, nibble-lower-tile, nibble-tile-size{target=generic-npu|PATH.toml}, nibble-plan-memory\nExample: nibble opt model.quant.mlir --pass-pipeline='builtin.module(nibble-fold-requant,nibble-lower-tile,nibble-tile-size,nibble-plan-memory)'"
    )]
    Opt {
        /// Input file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        #[arg(long = "pass-pipeline", default_value = "")]
        pass_pipeline: String,
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Compile an ONNX model to integer-only C: calibrate, quantize, fold, lower, emit.
    Compile {
        model: PathBuf,
        /// Fix the input shape where the model leaves it dynamic: NAME=1,3,48,192.
        #[arg(long, value_parser = parse_input_shape)]
        input_shape: Option<(String, Vec<i64>)>,
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
        /// Quantization scheme: power-of-two scales (shift-only requantization), symmetric, or
        /// asymmetric activations (zero points; weights stay symmetric).
        #[arg(long, value_enum, default_value = "symmetric")]
        scheme: SchemeArg,
        /// One weight scale per output channel of each conv/fully connected layer, or one per
        /// tensor (per-tensor weights lose the small channels of a layer whose channels differ
        /// in scale: ppocr_rec keeps 0 % of its characters with them, 97 % per channel).
        #[arg(long, value_enum, default_value = "channel")]
        granularity: Granularity,
        /// How activation ranges come from the calibration vectors.
        #[arg(long, value_enum, default_value = "minmax")]
        ranges: Ranges,
        /// With `--ranges percentile`: clip |x| at this percentile.
        #[arg(long, default_value_t = 99.99, value_parser = parse_percentile)]
        percentile: f64,
        /// Clamp conv / fully connected weights to mean ± K·σ (per channel with `--granularity
        /// channel`) before choosing their scale, e.g. 2 or 3.
        #[arg(long, value_parser = parse_sigma)]
        clamp_sigma: Option<f64>,
        /// Bias correction: each conv / fully connected bias minus the expected error of its
        /// quantized weights, (Q(W) − W)·E[x], E[x] from the calibration vectors (or data-free
        /// statistics).
        #[arg(long)]
        bias_correction: bool,
        /// Cross-layer equalization before calibration (`nibble-equalize`): a conv's output
        /// channels (observed on the calibration vectors) rescaled to a common range into the
        /// depthwise conv that reads them, through a ReLU or (symmetric scheme) a hard-swish;
        /// depthwise and pointwise weight ranges balanced.
        #[arg(long)]
        equalize: bool,
        /// With --equalize and --calib: high-bias absorption (`nibble-absorb-bias`) first — a
        /// ReLU channel's calibrated minimum moved into the next 1×1 / unpadded conv's bias.
        /// Changes the result for inputs below that minimum (ppocr_cls: float output 55 dB from
        /// FP32; INT8 SQNR lower, not higher): off unless asked for.
        #[arg(long)]
        absorb_bias: bool,
        /// How conv / fully connected weights are rounded to their grid: `gptq` minimises each
        /// layer's output error on the calibration vectors (Frantar et al. 2022).
        #[arg(long, value_enum, default_value = "nearest")]
        weight_rounding: WeightRounding,
        /// With `--ranges data-free`: the range of the model's input (its preprocessing), LO,HI.
        #[arg(long, value_parser = parse_pair, default_value = "-1,1", allow_hyphen_values = true)]
        input_range: (f64, f64),
        /// With `--ranges data-free`: ranges span this many standard deviations.
        #[arg(long, default_value_t = 6.0, value_parser = parse_sigma)]
        sigmas: f64,
        /// 16-bit activations (symmetric; all others are 8-bit): `auto` lets the compiler choose
        /// the tensors whose 8-bit grid is coarse (see --int16-below, --int16-budget);
        /// NAME=16[,NAME=16…] stores the outputs of these ONNX nodes (as `nibble report` names
        /// them) in 16 bits.
        #[arg(long, value_parser = parse_bits)]
        bits: Option<BitWidths>,
        /// With `--bits auto`: candidates are tensors whose own 8-bit SQNR on the calibration
        /// vectors is below this many dB.
        #[arg(long, default_value_t = nibble_passes::DEFAULT_MAX_SQNR, value_parser = parse_finite)]
        int16_below: f64,
        /// With `--bits auto`: the 16-bit tensors may grow the activation arena (as the tile
        /// level plans it) by at most this fraction (1: double).
        #[arg(long, default_value_t = nibble_passes::DEFAULT_BUDGET, value_parser = parse_fraction)]
        int16_budget: f64,
        /// Target accelerator: `generic-npu` or a TOML file.
        #[arg(long, default_value = "generic-npu")]
        target: String,
    },
    /// Where accuracy goes: FP32 vs every configuration (scheme × granularity × range method)
    /// on an evaluation set, and the per-layer SQNR of the best one; text and an HTML page.
    Report {
        model: PathBuf,
        /// Fix the input shape where the model leaves it dynamic: NAME=1,3,48,192.
        #[arg(long, value_parser = parse_input_shape)]
        input_shape: Option<(String, Vec<i64>)>,
        /// Calibration inputs: float32 .npy, N x the model's input shape (not needed for
        /// data-free alone).
        #[arg(long)]
        calib: Option<PathBuf>,
        /// Evaluation inputs: float32 .npy.
        #[arg(long)]
        eval: PathBuf,
        /// Labels of the evaluation inputs: integer classes (.npy, N) for top-1 accuracy, or text
        /// lines (.txt; needs --keys) for CTC character accuracy.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Character set of a CTC text output (one character per line): decisions are decoded
        /// lines.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Use at most this many evaluation inputs.
        #[arg(long)]
        limit: Option<usize>,
        /// Range methods to compare (comma-separated).
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "minmax,percentile,mse,entropy,data-free"
        )]
        ranges: Vec<Ranges>,
        /// Percentile of the `percentile` range method.
        #[arg(long, default_value_t = 99.99, value_parser = parse_percentile)]
        percentile: f64,
        /// Cross-layer equalization (`nibble-equalize`) before every configuration.
        #[arg(long)]
        equalize: bool,
        /// Show the per-layer SQNR of this configuration (as the table names it, e.g.
        /// "symmetric / channel / minmax") instead of the best one.
        #[arg(long)]
        layers_of: Option<String>,
        /// Input range of the `data-free` method, LO,HI.
        #[arg(long, value_parser = parse_pair, default_value = "-1,1", allow_hyphen_values = true)]
        input_range: (f64, f64),
        /// Standard deviations spanned by `data-free` ranges.
        #[arg(long, default_value_t = 6.0, value_parser = parse_sigma)]
        sigmas: f64,
        /// Also write a self-contained HTML page (tables, per-layer SQNR chart, accuracy vs size).
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Print the table of supported ONNX ops (Markdown).
    Ops,
    /// Score model outputs: top-1 (or CTC character) accuracy against labels, decision agreement and SQNR against a reference.
    Eval {
        /// Outputs as written by `nibble run` or the generated program: float32 .npy [N, …] (the first output).
        outputs: PathBuf,
        /// Labels: integer classes (.npy, N), or text lines (.txt, one per sample; needs --keys).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Character set of a CTC text output [N, T, keys + 2] (one character per line): decode
        /// greedily, score character accuracy and exact lines.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Reference outputs (e.g. the float model's) for top-1 agreement and SQNR.
        #[arg(long)]
        reference: Option<PathBuf>,
    },
    /// Run a model with the reference interpreter: .onnx or graph .mlir (float), qnt or tile .mlir (integer, bit-exact).
    Run {
        file: PathBuf,
        /// For .onnx files: fix the input shape where the model leaves it dynamic: NAME=1,3,48,192.
        #[arg(long, value_parser = parse_input_shape)]
        input_shape: Option<(String, Vec<i64>)>,
        /// float32 .npy, N x the model's input shape.
        #[arg(long)]
        input: PathBuf,
        /// Directory for out0.npy, out1.npy, …
        #[arg(long)]
        out_dir: PathBuf,
        /// Print the median and total interpreter time per sample (single thread).
        #[arg(long)]
        timing: bool,
    },
}

type Res<T> = Result<T, String>;

/// Quantization schemes offered on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum SchemeArg {
    Pow2,
    Symmetric,
    Asymmetric,
}

impl SchemeArg {
    fn name(self) -> &'static str {
        match self {
            SchemeArg::Pow2 => "pow2",
            SchemeArg::Symmetric => "symmetric",
            SchemeArg::Asymmetric => "asymmetric",
        }
    }
}

/// Weight-scale granularities offered on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Granularity {
    Tensor,
    Channel,
}

/// How conv / fully connected weights are rounded to their int8 grid.
#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
enum WeightRounding {
    /// Each weight to its nearest grid point.
    Nearest,
    /// GPTQ: least error of each layer's output on the calibration vectors (needs --calib).
    Gptq,
}

/// Range methods offered on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Ranges {
    /// The observed minimum and maximum.
    Minmax,
    /// Clip rare outliers: the --percentile of |x| (two passes over the vectors).
    Percentile,
    /// The clipped range whose 8-bit grid has the least expected squared error (two passes).
    Mse,
    /// The |x| threshold with the least KL divergence after 128-level quantization (two passes).
    Entropy,
    /// No vectors: Gaussian statistics from --input-range and BatchNorm/LayerNorm parameters,
    /// ranges at ± --sigmas standard deviations.
    DataFree,
}

/// The parameters of the range methods.
#[derive(Clone, Copy, Debug)]
struct RangeParams {
    percentile: f64,
    input_range: (f64, f64),
    sigmas: f64,
}

impl Ranges {
    /// The calibration method for activations quantized with `scheme`.
    fn method(
        self,
        p: RangeParams,
        scheme: nibble_quantize::Scheme,
    ) -> nibble_quantize::RangeMethod {
        use nibble_quantize::RangeMethod as M;
        match self {
            Ranges::Minmax => M::MinMax,
            Ranges::Percentile => M::Percentile(p.percentile),
            Ranges::Mse => M::Mse {
                symmetric: scheme != nibble_quantize::Scheme::Asymmetric,
            },
            Ranges::Entropy => M::Entropy,
            Ranges::DataFree => M::DataFree {
                input: p.input_range,
                sigmas: p.sigmas,
            },
        }
    }
    fn name(self, percentile: f64) -> String {
        match self {
            Ranges::Minmax => "minmax".into(),
            Ranges::Percentile => format!("percentile {percentile}"),
            Ranges::Mse => "mse".into(),
            Ranges::Entropy => "entropy".into(),
            Ranges::DataFree => "data-free".into(),
        }
    }
}

fn parse_pair(s: &str) -> Result<(f64, f64), String> {
    let bad = || format!("'{s}' is not LO,HI with LO < HI");
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) if a < b && a.is_finite() && b.is_finite() => Ok((a, b)),
        _ => Err(bad()),
    }
}

/// `--bits`: the compiler's choice, or (ONNX node name, bits) pairs.
#[derive(Clone, Debug)]
enum BitWidths {
    Auto,
    Names(Vec<(String, u32)>),
}

fn parse_bits(s: &str) -> Result<BitWidths, String> {
    if s == "auto" {
        return Ok(BitWidths::Auto);
    }
    s.split(',')
        .map(|item| match item.rsplit_once('=') {
            Some((name, b)) if !name.is_empty() => match b.trim().parse::<u32>() {
                Ok(bits @ (8 | 16)) => Ok((name.trim().to_string(), bits)),
                _ => Err(format!("'{item}': activations are 8 or 16 bits")),
            },
            _ => Err(format!("'{item}' is not NAME=BITS (e.g. conv1=16)")),
        })
        .collect::<Result<_, _>>()
        .map(BitWidths::Names)
}

fn parse_finite(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("'{s}' is not a finite number")),
    }
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a non-negative number")),
    }
}

fn parse_sigma(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(k) if k > 0.0 && k.is_finite() => Ok(k),
        _ => Err(format!(
            "'{s}' is not a positive number of standard deviations"
        )),
    }
}

fn parse_percentile(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if p > 0.0 && p <= 100.0 {
        Ok(p)
    } else {
        Err(format!("{p} is not in (0, 100]"))
    }
}

fn parse_input_shape(s: &str) -> Result<(String, Vec<i64>), String> {
    let (name, dims) = s.split_once('=').ok_or("expected NAME=D0,D1,…")?;
    let dims = dims
        .split(',')
        .map(|d| {
            d.trim()
                .parse::<i64>()
                .map_err(|_| format!("'{d}' is not a dimension"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((name.to_string(), dims))
}

fn import(model: &Path, shape: &Option<(String, Vec<i64>)>) -> Res<Func> {
    nibble_frontend::import_file(
        model,
        shape.as_ref().map(|(n, d)| (n.as_str(), d.as_slice())),
    )
    .map_err(|e| e.to_string())
}
/// Runs one input sample through an interpreter, returning every output.
type RunOne<'a> = dyn Fn(&[f32]) -> Res<Vec<Vec<f32>>> + 'a;

fn context() -> Res<Mlir> {
    nibble_passes::context().map_err(|e| e.to_string())
}

fn read_text(path: &Path) -> Res<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Res<()> {
    std::fs::write(path, text).map_err(|e| format!("cannot write '{}': {e}", path.display()))
}

/// Prints a function as verified MLIR text.
fn mlir_text(mlir: &Mlir, f: &Func) -> Res<String> {
    let m = mlir.module_of(f).map_err(|e| e.to_string())?;
    Ok(format!("{}\n", m.as_operation().to_string().trim_end()))
}

/// Reads a float32 .npy batch and checks it against the model input shape [1, d1, …].
fn read_batch(path: &Path, input_shape: &[i64]) -> Res<(usize, Vec<f32>)> {
    let file = npy::NpyFile::open(path)?;
    let a = file.view::<f32>("a float32")?;
    let tail: Vec<usize> = input_shape.iter().skip(1).map(|&d| d as usize).collect();
    if a.ndim() != input_shape.len() || a.shape()[1..] != tail[..] {
        return Err(format!("'{}' has shape {:?}; expected N x {:?} (the model's input without its batch dimension)", path.display(), a.shape(), tail));
    }
    let n = a.shape()[0];
    Ok((n, a.as_standard_layout().iter().copied().collect()))
}

fn read_f32(path: &Path) -> Res<ArrayD<f32>> {
    npy::read_f32(path)
}

fn argmax(v: impl Iterator<Item = f32>) -> usize {
    v.enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, x)| {
            if x > bv {
                (i, x)
            } else {
                (bi, bv)
            }
        })
        .0
}

fn progress(n: usize, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(n as u64);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_string());
    pb
}

/// The graph-level clean-up pipeline every imported model goes through.
const GRAPH_CLEANUP: &str =
    "builtin.module(nibble-fold-constants,nibble-fold-batchnorm,nibble-recognize-layers,nibble-fuse-activations,nibble-dce)";

fn graph_cleanup(mlir: &Mlir, f: &Func) -> Res<Func> {
    run_pipeline_on(mlir, f, GRAPH_CLEANUP)
}

/// Runs one pass over a graph-level function (through MLIR, verified).
fn run_graph_pass(mlir: &Mlir, f: &Func, pass: &str) -> Res<Func> {
    run_pipeline_on(mlir, f, &format!("builtin.module({pass})"))
}

/// `nibble-equalize` for `scheme` (after `nibble-absorb-bias` with `absorb`), on the channel
/// ranges observed on `samples` (none: equalization from BatchNorm statistics).
fn equalized<'a>(
    mlir: &Mlir,
    f: &Func,
    scheme: &str,
    samples: impl ExactSizeIterator<Item = &'a [f32]>,
    absorb: bool,
) -> Res<Func> {
    let mut g = f.clone();
    if samples.len() > 0 {
        let pb = progress(samples.len(), "channel ranges");
        nibble_quantize::annotate_channel_ranges(&mut g, samples, || pb.inc(1))
            .map_err(|e| e.to_string())?;
        pb.finish_and_clear();
    }
    run_graph_pass(
        mlir,
        &g,
        &format!(
            "{}nibble-equalize{{scheme={scheme}}}",
            if absorb { "nibble-absorb-bias," } else { "" }
        ),
    )
}

fn run_pipeline_on(mlir: &Mlir, f: &Func, pipeline: &str) -> Res<Func> {
    let mut m = mlir.module_of(f).map_err(|e| e.to_string())?;
    nibble_passes::run_pipeline(mlir, &mut m, pipeline).map_err(|e| e.to_string())?;
    nibble_ir::mlir::read_func(m.as_operation()).map_err(|e| e.to_string())
}

/// The files `nibble compile` writes into its output directory.
const OWNED_FILES: [&str; 8] = [
    "model.graph.mlir",
    "model.quant.mlir",
    "model.tile.mlir",
    "model.c",
    "model.h",
    "nibble_runtime.c",
    "nibble_runtime.h",
    "main.c",
];

fn module_text(m: &melior::ir::Module) -> String {
    format!("{}\n", m.as_operation().to_string().trim_end())
}

fn load_func(mlir: &Mlir, path: &Path) -> Res<Func> {
    let text = read_text(path)?;
    let m = mlir
        .parse(&text, &path.display().to_string())
        .map_err(|e| e.to_string())?;
    nibble_ir::mlir::read_func(m.as_operation()).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(cmd: Cmd) -> Res<()> {
    match cmd {
        Cmd::Import {
            model,
            input_shape,
            output,
        } => {
            let f = import(&model, &input_shape)?;
            let mlir = context()?;
            let text = mlir_text(&mlir, &f)?;
            match output {
                Some(o) => write(&o, &text),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
        Cmd::Opt {
            file,
            pass_pipeline,
            output,
        } => {
            let mlir = context()?;
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| e.to_string())?;
                s
            } else {
                read_text(&file)?
            };
            let mut m = mlir
                .parse(&text, &file.display().to_string())
                .map_err(|e| e.to_string())?;
            if !pass_pipeline.trim().is_empty() {
                nibble_passes::run_pipeline(&mlir, &mut m, &pass_pipeline)
                    .map_err(|e| e.to_string())?;
            }
            let out = format!("{}\n", m.as_operation().to_string().trim_end());
            match output {
                Some(o) => write(&o, &out),
                None => {
                    print!("{out}");
                    Ok(())
                }
            }
        }
        Cmd::Compile {
            model,
            input_shape,
            calib,
            output,
            emit_main,
            scheme,
            granularity,
            ranges,
            percentile,
            clamp_sigma,
            bias_correction,
            equalize,
            absorb_bias,
            weight_rounding,
            input_range,
            sigmas,
            bits,
            int16_below,
            int16_budget,
            target,
        } => {
            let f = import(&model, &input_shape)?;
            nibble_target::Target::load(&target).map_err(|e| e.to_string())?;
            // Graph-level clean-up before calibration, so ranges are those of the folded layers.
            let mlir = context()?;
            let mut f = graph_cleanup(&mlir, &f)?;
            let shape = f.ty(f.args[0]).shape().unwrap_or(&[]).to_vec();
            let params = RangeParams {
                percentile,
                input_range,
                sigmas,
            };
            let method = ranges.method(params, scheme.name().parse()?);
            let (n, data) = match (&calib, ranges) {
                (None, Ranges::DataFree) => (0, Vec::new()),
                (None, _) => {
                    return Err(format!(
                        "--ranges {} needs --calib (only data-free needs no vectors)",
                        ranges.name(percentile)
                    ))
                }
                (Some(_), Ranges::DataFree) => {
                    return Err("--calib contradicts --ranges data-free (its ranges come from the model alone): drop one of them".into())
                }
                (Some(c), _) => {
                    let (n, data) = read_batch(c, &shape)?;
                    if n == 0 {
                        return Err(format!("'{}' holds no calibration samples", c.display()));
                    }
                    (n, data)
                }
            };
            let per = data.len().checked_div(n).unwrap_or(1).max(1);
            if absorb_bias && (!equalize || n == 0) {
                return Err(
                    "--absorb-bias needs --equalize and --calib (the channels' minima)".into(),
                );
            }
            if equalize {
                f = equalized(
                    &mlir,
                    &f,
                    scheme.name(),
                    data.chunks_exact(per),
                    absorb_bias,
                )?;
            }
            let passes = match ranges {
                Ranges::Minmax => 1,
                Ranges::DataFree => 0,
                _ => 2,
            };
            let pb = progress(n * passes, "calibrating");
            let table =
                nibble_quantize::calibrate(&f, data.chunks_exact(per), method, || pb.inc(1))
                    .map_err(|e| e.to_string())?;
            pb.finish_and_clear();
            nibble_quantize::annotate(&mut f, &table);
            // The quantization the flags ask for (weight rounding and the 16-bit choice use it;
            // nibble-quantize gets the same flags as pass options below).
            let cfg = nibble_lower::to_qnt::QuantConfig {
                clamp_sigma,
                bias_correction,
                ..nibble_lower::to_qnt::QuantConfig::new(
                    scheme.name().parse()?,
                    matches!(granularity, Granularity::Channel),
                )
            };
            if weight_rounding == WeightRounding::Gptq {
                if n == 0 {
                    return Err("--weight-rounding gptq needs --calib (the layers' inputs)".into());
                }
                let pb = progress(n, "weight rounding (GPTQ)");
                let hs = nibble_quantize::hessians(&f, data.chunks_exact(per), || pb.inc(1))
                    .map_err(|e| e.to_string())?;
                pb.finish_and_clear();
                let rounded = nibble_quantize::round_weights(
                    &mut f,
                    &hs,
                    cfg.scheme,
                    cfg.per_channel,
                    cfg.clamp_sigma,
                )
                .map_err(|e| e.to_string())?;
                let (near, gptq) = rounded.iter().fold((0.0, 0.0), |a, r| {
                    (a.0 + r.nearest_error, a.1 + r.gptq_error)
                });
                eprintln!(
                    "GPTQ weight rounding: {} layers, output error of the weights {:.1} % of nearest rounding's",
                    rounded.len(),
                    100.0 * gptq / near.max(f64::MIN_POSITIVE)
                );
            }
            match bits {
                None => {}
                Some(BitWidths::Names(names)) => {
                    for (name, b) in names {
                        nibble_quantize::set_bits(&mut f, &[name], b)?;
                    }
                }
                Some(BitWidths::Auto) => {
                    let (g, chosen) =
                        nibble_passes::choose_bits(&f, &cfg, int16_below, int16_budget)?;
                    f = g;
                    eprintln!("16-bit activations ({} chosen; their 8-bit SQNR on the calibration vectors): {}", chosen.len(), chosen.iter().map(|c| format!("{} {:.1} dB", c.name, c.sqnr8)).collect::<Vec<_>>().join(", "));
                }
            }
            std::fs::create_dir_all(&output)
                .map_err(|e| format!("cannot create '{}': {e}", output.display()))?;
            // OUT holds one compile: the files an earlier compile wrote go first, so a failed
            // or different compile never leaves another model's main.c or model.h behind.
            for name in OWNED_FILES {
                match std::fs::remove_file(output.join(name)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(format!(
                            "cannot remove '{}': {e}",
                            output.join(name).display()
                        ))
                    }
                    _ => {}
                }
            }
            let mut m = mlir.module_of(&f).map_err(|e| e.to_string())?;
            write(&output.join("model.graph.mlir"), &module_text(&m))?;
            nibble_passes::run_pipeline(
                &mlir,
                &mut m,
                &format!(
                    "builtin.module(nibble-quantize{{scheme={} granularity={}{}{}}},nibble-fold-requant)",
                    scheme.name(),
                    if matches!(granularity, Granularity::Channel) { "channel" } else { "tensor" },
                    clamp_sigma.map(|k| format!(" clamp-sigma={k}")).unwrap_or_default(),
                    if bias_correction { " bias-correction=true" } else { "" }
                ),
            )
            .map_err(|e| e.to_string())?;
            write(&output.join("model.quant.mlir"), &module_text(&m))?;
            nibble_passes::run_pipeline(
                &mlir,
                &mut m,
                &format!("builtin.module(nibble-lower-tile,nibble-tile-size{{target={target}}},nibble-plan-memory)"),
            )
            .map_err(|e| e.to_string())?;
            write(&output.join("model.tile.mlir"), &module_text(&m))?;
            let tile = nibble_ir::mlir::read_func(m.as_operation()).map_err(|e| e.to_string())?;
            for (name, text) in nibble_codegen_c::emit(&tile).map_err(|e| e.to_string())? {
                if name == "main.c" && !emit_main {
                    continue;
                }
                write(&output.join(&name), &text)?;
            }
            eprintln!("wrote {}: model.{{graph,quant,tile}}.mlir, model.c, model.h, nibble_runtime.{{c,h}}{}", output.display(), if emit_main { ", main.c" } else { "" });
            let arena = nibble_tile::arena_bytes(&tile).map_or("?".into(), |n| n.to_string());
            eprintln!(
                "memory: {} bytes of weights and biases, an activation arena of {arena} bytes",
                report::weight_bytes(&tile)
            );
            Ok(())
        }
        Cmd::Report {
            model,
            input_shape,
            calib,
            eval,
            labels,
            keys,
            limit,
            ranges,
            percentile,
            equalize,
            layers_of,
            input_range,
            sigmas,
            html,
        } => {
            let mlir = context()?;
            let mut g = graph_cleanup(&mlir, &import(&model, &input_shape)?)?;
            let shape = g.ty(g.args[0]).shape().unwrap_or(&[]).to_vec();
            let params = RangeParams {
                percentile,
                input_range,
                sigmas,
            };
            let (n, cdata) = match &calib {
                Some(c) => read_batch(c, &shape)?,
                None if ranges.iter().all(|r| matches!(r, Ranges::DataFree)) => (0, Vec::new()),
                None => return Err("--calib is needed unless --ranges data-free".into()),
            };
            let (m, edata) = read_batch(&eval, &shape)?;
            if m == 0 || (n == 0 && calib.is_some()) {
                return Err("calibration and evaluation sets must not be empty".into());
            }
            let m = limit.map_or(m, |l| l.min(m));
            let per = shape.iter().product::<i64>().max(1) as usize;
            if equalize {
                // Every scheme is evaluated on this graph: no hard-swish rescaling, which pow2
                // cannot quantize (the "+ equalize" row below rescales for its own scheme).
                g = equalized(&mlir, &g, "pow2", cdata.chunks_exact(per), false)?;
            }
            let set = report::EvalSet {
                samples: edata.chunks_exact(per).take(m).collect(),
                task: metrics::Task::load(labels.as_deref(), keys.as_deref(), m)?,
            };
            // One calibrated graph per distinct range method (mse differs by scheme).
            let schemes = [
                nibble_quantize::Scheme::Symmetric,
                nibble_quantize::Scheme::Asymmetric,
                nibble_quantize::Scheme::Pow2,
            ];
            let mut wanted: Vec<(String, nibble_quantize::RangeMethod)> = Vec::new();
            for r in &ranges {
                for &scheme in &schemes {
                    let m = r.method(params, scheme);
                    if !wanted.iter().any(|w| w.1 == m) {
                        wanted.push((r.name(percentile), m));
                    }
                }
            }
            let pb = progress(n * (2 * wanted.len()), "calibrating");
            let mut graphs = Vec::new();
            for (_, method) in &wanted {
                let table =
                    nibble_quantize::calibrate(&g, cdata.chunks_exact(per), *method, || pb.inc(1))
                        .map_err(|e| e.to_string())?;
                let mut a = g.clone();
                nibble_quantize::annotate(&mut a, &table);
                graphs.push(a);
            }
            pb.finish_and_clear();
            let names: Vec<String> = wanted.iter().map(|m| m.0.clone()).collect();
            let reference = report::float_outputs(&g, &set)?;
            let mut configs = Vec::new();
            for r in &ranges {
                for &scheme in &schemes {
                    let m = r.method(params, scheme);
                    let graph = wanted.iter().position(|w| w.1 == m).unwrap_or(0);
                    for per_channel in [false, true] {
                        configs.push(report::Config {
                            scheme,
                            per_channel,
                            ranges: graph,
                            bias_correction: false,
                        });
                    }
                }
            }
            let pb = progress((configs.len() + 1) * m, "evaluating");
            let mut outcomes: Vec<report::Outcome> = configs
                .iter()
                .map(|c| {
                    report::evaluate(
                        &graphs[c.ranges],
                        c,
                        report::config_name(c, &names),
                        &set,
                        &reference,
                        &|| pb.inc(1),
                    )
                })
                .collect();
            // The best configuration: task metric, then agreement, then SQNR.
            let key = |o: &report::Outcome| match &o.result {
                Ok(r) => (r.metric.unwrap_or(0.0), r.agreement, r.sqnr),
                Err(_) => (f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY),
            };
            let best = (0..configs.len())
                .max_by(|&a, &b| {
                    key(&outcomes[a])
                        .partial_cmp(&key(&outcomes[b]))
                        .unwrap_or(std::cmp::Ordering::Equal)
                        .then(b.cmp(&a))
                })
                .ok_or("no configuration")?;
            // The fixes, on the best configuration: bias correction, equalization, both.
            if outcomes[best].result.is_ok() {
                let base = configs[best].clone();
                let mut variants = vec![(
                    " + bias correction",
                    report::Config {
                        bias_correction: true,
                        ..base.clone()
                    },
                )];
                if !equalize {
                    let eq = equalized(
                        &mlir,
                        &g,
                        report::scheme_name(base.scheme),
                        cdata.chunks_exact(per),
                        false,
                    )?;
                    let table = nibble_quantize::calibrate(
                        &eq,
                        cdata.chunks_exact(per),
                        wanted[base.ranges].1,
                        || {},
                    )
                    .map_err(|e| e.to_string())?;
                    let mut a = eq;
                    nibble_quantize::annotate(&mut a, &table);
                    graphs.push(a);
                    let ranges = graphs.len() - 1;
                    variants.push((
                        " + equalize",
                        report::Config {
                            ranges,
                            ..base.clone()
                        },
                    ));
                    variants.push((
                        " + equalize + bias correction",
                        report::Config {
                            ranges,
                            bias_correction: true,
                            ..base.clone()
                        },
                    ));
                }
                // GPTQ weight rounding (`--weight-rounding gptq`), and 16-bit activations where
                // the compiler chooses them (`--bits auto`'s defaults), alone and together.
                let mut rounded = None;
                if n > 0 {
                    let mut r = graphs[base.ranges].clone();
                    let hs = nibble_quantize::hessians(&r, cdata.chunks_exact(per), || {})
                        .map_err(|e| e.to_string())?;
                    nibble_quantize::round_weights(
                        &mut r,
                        &hs,
                        base.scheme,
                        base.per_channel,
                        None,
                    )
                    .map_err(|e| e.to_string())?;
                    graphs.push(r);
                    rounded = Some(graphs.len() - 1);
                    variants.push((
                        " + GPTQ",
                        report::Config {
                            ranges: graphs.len() - 1,
                            ..base.clone()
                        },
                    ));
                }
                for (suffix, start) in [
                    (" + 16-bit (auto)", Some(base.ranges)),
                    (" + GPTQ + 16-bit (auto)", rounded),
                ] {
                    let Some(start) = start else { continue };
                    let (wide, chosen) = nibble_passes::choose_bits(
                        &graphs[start],
                        &base.quant(),
                        nibble_passes::DEFAULT_MAX_SQNR,
                        nibble_passes::DEFAULT_BUDGET,
                    )?;
                    if !chosen.is_empty() {
                        graphs.push(wide);
                        variants.push((
                            suffix,
                            report::Config {
                                ranges: graphs.len() - 1,
                                ..base.clone()
                            },
                        ));
                    }
                }
                let pb = progress(variants.len() * m, "evaluating the fixes");
                for (suffix, c) in variants {
                    let name = format!("{}{suffix}", outcomes[best].name);
                    outcomes.push(report::evaluate(
                        &graphs[c.ranges],
                        &c,
                        name,
                        &set,
                        &reference,
                        &|| pb.inc(1),
                    ));
                    configs.push(c);
                }
                pb.finish_and_clear();
            }
            let best = match &layers_of {
                None => best,
                Some(name) => outcomes
                    .iter()
                    .position(|o| &o.name == name)
                    .ok_or_else(|| {
                        format!(
                            "--layers-of '{name}' is not one of the configurations ({})",
                            outcomes
                                .iter()
                                .map(|o| o.name.as_str())
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    })?,
            };
            let layers = if outcomes[best].result.is_ok() {
                report::layers(&graphs[configs[best].ranges], &configs[best], &set, &|| {
                    pb.inc(1)
                })?
            } else {
                Vec::new()
            };
            pb.finish_and_clear();
            let ftop = report::float_metric(&reference, &set)?;
            let metric = set.task.metric_name();
            let fbytes = report::float_weight_bytes(&g);
            print!(
                "{}",
                report::text(
                    ftop,
                    metric,
                    fbytes,
                    &outcomes,
                    &outcomes[best].name,
                    &layers
                )
            );
            if let Some(h) = html {
                let page = report::html(
                    &model.display().to_string(),
                    ftop,
                    metric,
                    fbytes,
                    &outcomes,
                    &outcomes[best].name,
                    &layers,
                )?;
                write(&h, &page)?;
                eprintln!("wrote {}", h.display());
            }
            Ok(())
        }
        Cmd::Ops => {
            print!("{}", nibble_frontend::ops_markdown());
            Ok(())
        }
        Cmd::Eval {
            outputs,
            labels,
            keys,
            reference,
        } => {
            let out = read_f32(&outputs)?;
            let n = out.shape().first().copied().unwrap_or(0);
            if n == 0 || out.ndim() < 2 {
                return Err(format!(
                    "'{}' must be a non-empty [N, …] array",
                    outputs.display()
                ));
            }
            let task = metrics::Task::load(labels.as_deref(), keys.as_deref(), n)?;
            let decide = |a: &ndarray::ArrayD<f32>| -> Result<Vec<String>, String> {
                a.outer_iter()
                    .map(|r| task.decode(&r.iter().copied().collect::<Vec<_>>()))
                    .collect()
            };
            let decisions = decide(&out)?;
            let mut parts = Vec::new();
            if let Some((metric, exact)) = task.score(&decisions) {
                parts.push(format!("{} {metric:.2} %", task.metric_name()));
                if let Some(e) = exact {
                    parts.push(format!("lines exact {e:.2} %"));
                }
            }
            if let Some(r) = reference {
                let refa = read_f32(&r)?;
                if refa.shape() != out.shape() {
                    return Err(format!(
                        "reference shape {:?} differs from outputs {:?}",
                        refa.shape(),
                        out.shape()
                    ));
                }
                let agree = metrics::agreement(&decisions, &decide(&refa)?);
                let (sig, noise) = refa
                    .iter()
                    .zip(out.iter())
                    .fold((0f64, 0f64), |(s, e), (&a, &b)| {
                        (s + (a as f64).powi(2), e + ((a - b) as f64).powi(2))
                    });
                parts.push(format!(
                    "decisions equal to the reference's {agree:.2} %, SQNR {:.1} dB",
                    10.0 * (sig / noise.max(1e-30)).log10()
                ));
            }
            println!("{}", parts.join("; "));
            Ok(())
        }
        Cmd::Run {
            file,
            input_shape,
            input,
            out_dir,
            timing,
        } => {
            let mlir = context()?;
            let is_onnx = file.extension().is_some_and(|e| e == "onnx");
            let f = if is_onnx {
                let f = import(&file, &input_shape)?;
                graph_cleanup(&mlir, &f)?
            } else {
                load_func(&mlir, &file)?
            };
            let level = if f.ops.iter().any(|o| o.name.starts_with("tile.")) {
                "tile"
            } else if f.ops.iter().any(|o| o.name.starts_with("qnt.")) {
                "qnt"
            } else {
                "graph"
            };
            // The qnt level means what its lowering to the tile level computes.
            let f = if level == "qnt" {
                nibble_lower::to_tile::to_tile(&f, &nibble_target::Target::generic())
                    .map_err(|e| e.to_string())?
            } else {
                f
            };
            let shape = f.ty(f.args[0]).shape().unwrap_or(&[]).to_vec();
            let (n, data) = read_batch(&input, &shape)?;
            let per = data.len().checked_div(n).unwrap_or(0);
            let mut outs: Vec<Vec<f32>> = vec![Vec::new(); f.returns.len()];
            let pb = progress(n, "running");
            let run_one: Box<RunOne> = if level == "graph" {
                let p = nibble_interp::float::FloatProgram::new(&f).map_err(|e| e.to_string())?;
                Box::new(move |x| p.run(x, |_, _| {}).map_err(|e| e.to_string()))
            } else {
                let p = nibble_interp::integer::IntProgram::new(&f).map_err(|e| e.to_string())?;
                Box::new(move |x| p.run(x).map_err(|e| e.to_string()))
            };
            let mut times = Vec::with_capacity(n);
            for s in 0..n {
                let start = std::time::Instant::now();
                let result = run_one(&data[s * per..(s + 1) * per])?;
                times.push(start.elapsed().as_secs_f64() * 1e3);
                for (o, v) in outs.iter_mut().zip(result) {
                    o.extend(v);
                }
                pb.inc(1);
            }
            pb.finish_and_clear();
            if timing && n > 0 {
                let total: f64 = times.iter().sum();
                times.sort_by(f64::total_cmp);
                eprintln!("{level} interpreter: median {:.3} ms per sample over {n} samples (min {:.3} ms, total {:.1} ms, one thread)", times[n / 2], times[0], total);
            }
            std::fs::create_dir_all(&out_dir)
                .map_err(|e| format!("cannot create '{}': {e}", out_dir.display()))?;
            for (k, (o, &r)) in outs.into_iter().zip(&f.returns).enumerate() {
                let mut shape: Vec<usize> = vec![n];
                shape.extend(
                    f.ty(r)
                        .shape()
                        .unwrap_or(&[])
                        .iter()
                        .skip(1)
                        .map(|&d| d as usize),
                );
                let a = ArrayD::from_shape_vec(shape, o).map_err(|e| e.to_string())?;
                let path = out_dir.join(format!("out{k}.npy"));
                let file = std::fs::File::create(&path)
                    .map_err(|e| format!("cannot write '{}': {e}", path.display()))?;
                ndarray_npy::WriteNpyExt::write_npy(&a, file)
                    .map_err(|e| format!("cannot write '{}': {e}", path.display()))?;
            }
            Ok(())
        }
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("NIBBLE_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli.cmd) {
        // MLIR diagnostics already read `file:line:col: error: …`.
        if e.starts_with("error: ") || e.contains(": error: ") {
            eprintln!("{e}");
        } else {
            eprintln!("error: {e}");
        }
        std::process::exit(1);
    }
}
