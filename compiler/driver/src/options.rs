//! The typed options of a compile. Each struct is also its command-line form (`clap::Args`, the
//! doc comments are the `--help`), so `nibble compile` and `nibble report` flatten the same
//! flags, and [`crate::pipeline::pass_pipeline`] builds the pass pipelines from the same values.

use crate::parse;
use nibble_quantize::RangeMethod;

/// The input shape fixed where a model leaves it dynamic (`--input-shape NAME=1,3,48,192`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputShape {
    pub name: String,
    pub dims: Vec<i64>,
}

/// Quantization schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scheme {
    Pow2,
    Symmetric,
    Asymmetric,
}

impl Scheme {
    /// Its name in flags, pass options and report rows.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Pow2 => "pow2",
            Scheme::Symmetric => "symmetric",
            Scheme::Asymmetric => "asymmetric",
        }
    }
    pub fn quant(self) -> nibble_quantize::Scheme {
        match self {
            Scheme::Pow2 => nibble_quantize::Scheme::Pow2,
            Scheme::Symmetric => nibble_quantize::Scheme::Symmetric,
            Scheme::Asymmetric => nibble_quantize::Scheme::Asymmetric,
        }
    }
}

/// Weight-scale granularities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Granularity {
    Tensor,
    Channel,
}

impl Granularity {
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Tensor => "tensor",
            Granularity::Channel => "channel",
        }
    }
}

/// How conv / fully connected weights are rounded to their int8 grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WeightRounding {
    /// Each weight to its nearest grid point.
    Nearest,
    /// GPTQ: least error of each layer's output on the calibration vectors (needs --calib).
    Gptq,
}

/// Range methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Ranges {
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

impl Ranges {
    /// `nibble compile`'s range method when `--ranges` is not given.
    pub const DEFAULT: Ranges = Ranges::Mse;

    /// The calibration method for activations quantized with `scheme`.
    pub fn method(self, p: &RangeOptions, scheme: Scheme) -> RangeMethod {
        match self {
            Ranges::Minmax => RangeMethod::MinMax,
            Ranges::Percentile => RangeMethod::Percentile(p.percentile),
            Ranges::Mse => RangeMethod::Mse {
                symmetric: scheme != Scheme::Asymmetric,
            },
            Ranges::Entropy => RangeMethod::Entropy,
            Ranges::DataFree => RangeMethod::DataFree {
                input: p.input_range,
                sigmas: p.sigmas,
            },
        }
    }
    /// Its name in messages and report rows (`percentile 99.99`).
    pub fn name(self, p: &RangeOptions) -> String {
        match self {
            Ranges::Minmax => "minmax".into(),
            Ranges::Percentile => format!("percentile {}", p.percentile),
            Ranges::Mse => "mse".into(),
            Ranges::Entropy => "entropy".into(),
            Ranges::DataFree => "data-free".into(),
        }
    }
    /// Runs over the calibration vectors (a progress bar's length per vector).
    pub fn passes(self) -> usize {
        match self {
            Ranges::Minmax => 1,
            Ranges::DataFree => 0,
            _ => 2,
        }
    }
}

/// `--weight-bits`: every weight layer at one width, or the width e-graph's choice (`auto`),
/// and the layers given their own width (ONNX node name, width).
#[derive(Clone, Debug, PartialEq)]
pub struct WeightBits {
    /// `None`: the e-graph chooses (`auto`).
    pub all: Option<nibble_quantize::WeightWidth>,
    pub names: Vec<(String, nibble_quantize::WeightWidth)>,
}

impl WeightBits {
    /// Every layer at 8 bits, nothing to choose: the compile of before sub-8-bit widths.
    pub fn is_default(&self) -> bool {
        self.all == Some(nibble_quantize::WeightWidth::W8) && self.names.is_empty()
    }
}

/// `--bits`: the compiler's choice, or (ONNX node name, bits) pairs.
#[derive(Clone, Debug, PartialEq)]
pub enum BitWidths {
    Auto,
    Names(Vec<(String, u32)>),
}

/// How a calibrated graph becomes the qnt level: the options of `nibble-quantize`.
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct QuantOptions {
    /// Quantization scheme: power-of-two scales (shift-only requantization), symmetric, or
    /// asymmetric activations (zero points; weights stay symmetric). Default: asymmetric (the
    /// most accurate on every shared model, docs/numerics.md "Defaults"), or pow2 on a target
    /// that requantizes by shifts only (requant.mode = "pow2").
    #[arg(long, value_enum)]
    pub scheme: Option<Scheme>,
    /// One weight scale per output channel of each conv/fully connected layer, or one per
    /// tensor (per-tensor weights lose the small channels of a layer whose channels differ
    /// in scale: ppocr_rec keeps 0 % of its characters with them, 97 % per channel).
    #[arg(long, value_enum, default_value = "channel")]
    pub granularity: Granularity,
    /// Clamp conv / fully connected weights to mean ± K·σ (per channel with `--granularity
    /// channel`) before choosing their scale, e.g. 2 or 3.
    #[arg(long, value_parser = parse::sigma)]
    pub clamp_sigma: Option<f64>,
    /// Bias correction: each conv / fully connected bias minus the expected error of its
    /// quantized weights, (Q(W) − W)·E[x], E[x] from the calibration vectors (or data-free
    /// statistics).
    #[arg(long)]
    pub bias_correction: bool,
}

impl QuantOptions {
    /// `scheme` and `granularity`, no weight clamping, no bias correction.
    pub fn new(scheme: Scheme, granularity: Granularity) -> QuantOptions {
        QuantOptions {
            scheme: Some(scheme),
            granularity,
            clamp_sigma: None,
            bias_correction: false,
        }
    }
    /// The scheme: as given, else asymmetric.
    pub fn scheme(&self) -> Scheme {
        self.scheme.unwrap_or(Scheme::Asymmetric)
    }

    /// The scheme for `target`: a pow2-only target gets pow2 unless the user asked for another
    /// scheme, which is an error naming the target.
    pub fn resolve_for(&mut self, target: &nibble_target::Target) -> Result<(), crate::Error> {
        if !target.pow2_only() {
            return Ok(());
        }
        match self.scheme {
            None | Some(Scheme::Pow2) => {
                self.scheme = Some(Scheme::Pow2);
                Ok(())
            }
            Some(s) => Err(crate::Error::Options(format!(
                "target '{}' requantizes by power-of-two shifts only (requant.mode = \"pow2\"): \
                 --scheme {} needs multipliers it lacks; drop --scheme (pow2 is its default) \
                 or pass --scheme pow2",
                target.name,
                s.name()
            ))),
        }
    }

    /// The same decisions as the quantizer's configuration (for the steps that call it
    /// directly: GPTQ and the 16-bit choice).
    pub fn config(&self) -> nibble_lower::to_qnt::QuantConfig {
        nibble_lower::to_qnt::QuantConfig {
            scheme: self.scheme().quant(),
            per_channel: self.granularity == Granularity::Channel,
            clamp_sigma: self.clamp_sigma,
            bias_correction: self.bias_correction,
        }
    }
}

/// The parameters of the range methods.
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct RangeOptions {
    /// With `--ranges percentile`: clip |x| at this percentile.
    #[arg(long, default_value_t = 99.99, value_parser = parse::percentile)]
    pub percentile: f64,
    /// With `--ranges data-free`: the range of the model's input (its preprocessing), LO,HI.
    #[arg(long, value_parser = parse::pair, default_value = "-1,1", allow_hyphen_values = true)]
    pub input_range: (f64, f64),
    /// With `--ranges data-free`: ranges span this many standard deviations.
    #[arg(long, default_value_t = 6.0, value_parser = parse::sigma)]
    pub sigmas: f64,
}

/// The target a compile lowers for.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct TargetOption {
    /// Target: a shipped one (`host`, the default: portable C; `generic-npu`, `npu-mcu`,
    /// `npu-edge`: accelerators, see `nibble targets`) or a TOML file (docs/targets.md).
    #[arg(long = "target", default_value = nibble_target::DEFAULT)]
    pub target: String,
}

impl Default for TargetOption {
    fn default() -> TargetOption {
        TargetOption {
            target: nibble_target::DEFAULT.into(),
        }
    }
}

impl TargetOption {
    /// Reads the target (refusing a missing or invalid file before any work is done).
    pub fn load(&self) -> Result<nibble_target::Target, crate::Error> {
        Ok(nibble_target::Target::load(&self.target)?)
    }
}

/// Everything `nibble compile` decides between the imported graph and the C files.
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct CompileOptions {
    #[command(flatten)]
    pub quant: QuantOptions,
    /// How activation ranges come from the calibration vectors (default: mse, the most
    /// accurate on the shared models with the default scheme; docs/numerics.md "Defaults").
    #[arg(long, value_enum, default_value_t = Ranges::DEFAULT)]
    pub ranges: Ranges,
    #[command(flatten)]
    pub range: RangeOptions,
    /// Cross-layer equalization before calibration (`nibble-equalize`): a conv's output
    /// channels (observed on the calibration vectors) rescaled to a common range into the
    /// depthwise conv that reads them, through a ReLU or (symmetric scheme) a hard-swish;
    /// depthwise and pointwise weight ranges balanced.
    #[arg(long)]
    pub equalize: bool,
    /// With --equalize and --calib: high-bias absorption (`nibble-absorb-bias`) first — a
    /// ReLU channel's calibrated minimum moved into the next 1×1 / unpadded conv's bias.
    /// Changes the result for inputs below that minimum (ppocr_cls: float output 55 dB from
    /// FP32; INT8 SQNR lower, not higher): off unless asked for.
    #[arg(long)]
    pub absorb_bias: bool,
    /// How conv / fully connected weights are rounded to their grid: `gptq` minimises each
    /// layer's output error on the calibration vectors (Frantar et al. 2022). Default: gptq
    /// when --calib is given and some weights are below 8 bits (--weight-bits), else nearest.
    #[arg(long, value_enum)]
    pub weight_rounding: Option<WeightRounding>,
    /// 16-bit activations (symmetric; all others are 8-bit): `auto` lets the compiler choose
    /// the tensors whose 8-bit grid is coarse (see --int16-below, --int16-budget);
    /// NAME=16[,NAME=16…] stores the outputs of these ONNX nodes (as `nibble report` names
    /// them) in 16 bits.
    #[arg(long, value_parser = parse::bits)]
    pub bits: Option<BitWidths>,
    /// With `--bits auto`: candidates are tensors whose own 8-bit SQNR on the calibration
    /// vectors is below this many dB.
    #[arg(long, default_value_t = nibble_passes::DEFAULT_MAX_SQNR, value_parser = parse::finite)]
    pub int16_below: f64,
    /// With `--bits auto`: the 16-bit tensors may grow the activation arena (as the tile
    /// level plans it) by at most this fraction (1: double).
    #[arg(long, default_value_t = nibble_passes::DEFAULT_BUDGET, value_parser = parse::fraction)]
    pub int16_budget: f64,
    /// Weight widths of conv, depthwise and fully connected layers: one for all (8, 4, 2,
    /// ternary, binary), or `auto` — the width e-graph chooses each layer's width for the least
    /// measured output noise within --avg-weight-bits or --max-weight-bytes, keeping the first
    /// layer and the heads at 4 bits or more; NAME=W entries
    /// (ONNX node names, as `nibble report` lists them) fix those layers, e.g.
    /// `auto,conv1=8` or `4,fc=8`.
    #[arg(long, value_parser = parse::weight_bits, default_value = "8")]
    pub weight_bits: WeightBits,
    /// With `--weight-bits auto`: the weights' bits averaged over all weight values (layers
    /// nibble keeps at 8 bits count at 8), e.g. 4.5.
    #[arg(long, value_parser = parse::average_bits)]
    pub avg_weight_bits: Option<f64>,
    /// With `--weight-bits auto`: at most this many bytes of weights (packed).
    #[arg(long)]
    pub max_weight_bytes: Option<u64>,
    #[command(flatten)]
    pub target: TargetOption,
}

impl CompileOptions {
    /// The weight rounding a compile uses: `--weight-rounding`, else GPTQ when there are
    /// calibration vectors and weights below 8 bits may be chosen (on 8-bit grids nearest
    /// rounding loses nothing measurable; on 4 bits and below GPTQ keeps accuracy), else nearest.
    pub fn rounding(&self, has_vectors: bool) -> WeightRounding {
        let narrow = self.weight_bits.all != Some(nibble_quantize::WeightWidth::W8)
            || (self.weight_bits.names.iter()).any(|(_, w)| *w != nibble_quantize::WeightWidth::W8);
        match self.weight_rounding {
            Some(r) => r,
            None if has_vectors && narrow => WeightRounding::Gptq,
            None => WeightRounding::Nearest,
        }
    }

    /// The options `flags` give, as on `nibble compile`'s command line (no flags: the
    /// defaults). For tests and tools that build options the way users do.
    pub fn from_flags<I: IntoIterator<Item = S>, S: Into<std::ffi::OsString> + Clone>(
        flags: I,
    ) -> Result<CompileOptions, clap::Error> {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            options: CompileOptions,
        }
        let args = std::iter::once(std::ffi::OsString::from("compile"))
            .chain(flags.into_iter().map(Into::into));
        <Flags as clap::Parser>::try_parse_from(args).map(|f| f.options)
    }

    /// Refuses combinations that cannot work: ranges that need vectors without them
    /// (`has_vectors`: calibration vectors were given), vectors with data-free ranges, high-bias
    /// absorption without equalization or vectors, GPTQ without vectors.
    pub fn check(&self, has_vectors: bool) -> Result<(), crate::Error> {
        let refuse = |m: String| Err(crate::Error::Options(m));
        match (has_vectors, self.ranges == Ranges::DataFree) {
            (false, false) => {
                return refuse(format!(
                    "--ranges {} needs --calib (only data-free needs no vectors)",
                    self.ranges.name(&self.range)
                ))
            }
            (true, true) => return refuse("--calib contradicts --ranges data-free (its ranges come from the model alone): drop one of them".into()),
            _ => {}
        }
        if self.absorb_bias && (!self.equalize || !has_vectors) {
            return refuse(
                "--absorb-bias needs --equalize and --calib (the channels' minima)".into(),
            );
        }
        if self.weight_rounding == Some(WeightRounding::Gptq) && !has_vectors {
            return refuse("--weight-rounding gptq needs --calib (the layers' inputs)".into());
        }
        let budgets = (
            self.avg_weight_bits.is_some(),
            self.max_weight_bytes.is_some(),
        );
        match (self.weight_bits.all.is_none(), budgets) {
            (true, (false, false)) => return refuse(
                "--weight-bits auto needs a budget: --avg-weight-bits B or --max-weight-bytes N"
                    .into(),
            ),
            (_, (true, true)) => {
                return refuse("give --avg-weight-bits or --max-weight-bytes, not both".into())
            }
            (false, (true, _) | (_, true)) => {
                return refuse(
                    "--avg-weight-bits and --max-weight-bytes are budgets of --weight-bits auto"
                        .into(),
                )
            }
            _ => {}
        }
        if self.weight_bits.all.is_none() && !has_vectors {
            return refuse(
                "--weight-bits auto needs --calib (it measures each width's effect on the output)"
                    .into(),
            );
        }
        Ok(())
    }
}
