//! `nibble report`: which configurations to evaluate and in what order — every scheme ×
//! granularity × range method, then the best one with the fixes (bias correction,
//! equalization, both, GPTQ, 16-bit activations where `--bits auto` chooses them), the weight
//! widths (uniform 4 and 2 bits, the width e-graph at 6…2 average bits) — and the
//! per-layer SQNR of the best (or `--layers-of`) one. Each configuration is compiled by the
//! driver for `--target`, as `nibble compile` would; `crate::report` evaluates and renders.

use crate::error::{CliError, Res};
use crate::files::{import_shape, input_shape, write, Model};
use crate::metrics::Task;
use crate::npy::read_batch;
use crate::progress::{bar, Terminal};
use crate::report::{self, render, Compiler, Config, EvalSet, Layer, Outcome};
use nibble_driver::{
    Driver, Granularity, QuantOptions, RangeOptions, Ranges, Samples, Scheme, TargetOption,
};
use nibble_graph::attrs;
use nibble_ir::{Attr, Func};
use nibble_passes::{WeightBudget, WidthOptions};
use nibble_quantize::{RangeMethod, WeightWidth};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: Model,
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
    #[command(flatten)]
    range: RangeOptions,
    /// Cross-layer equalization (`nibble-equalize`) before every configuration.
    #[arg(long)]
    equalize: bool,
    /// Show the per-layer SQNR of this configuration (as the table names it, e.g.
    /// "symmetric / channel / minmax") instead of the best one.
    #[arg(long)]
    layers_of: Option<String>,
    /// Also write a self-contained HTML page (tables, per-layer SQNR chart, accuracy vs size).
    #[arg(long)]
    html: Option<PathBuf>,
    #[command(flatten)]
    target: TargetOption,
}

/// The schemes every range method is tried with, in table order.
const SCHEMES: [Scheme; 3] = [Scheme::Symmetric, Scheme::Asymmetric, Scheme::Pow2];

/// The configurations evaluated so far: the calibrated graphs they start from, and each
/// configuration (naming its graph) with its outcome.
struct Study<'a> {
    compiler: Compiler<'a>,
    set: EvalSet<'a>,
    reference: Vec<Vec<Vec<f32>>>,
    graphs: Vec<Func>,
    configs: Vec<Config>,
    outcomes: Vec<Outcome>,
}

impl Study<'_> {
    fn add_graph(&mut self, g: Func) -> usize {
        self.graphs.push(g);
        self.graphs.len() - 1
    }
    fn evaluate(&mut self, c: Config, name: String, tick: &dyn Fn()) {
        let g = &self.graphs[c.ranges];
        let o = report::evaluate(
            &self.compiler,
            g,
            &c,
            name,
            &self.set,
            &self.reference,
            tick,
        );
        self.outcomes.push(o);
        self.configs.push(c);
    }
}

pub fn run(a: Args) -> Res<()> {
    a.target.load()?;
    let driver = crate::plugins::driver()?;
    let obs = Terminal::default();
    let shape = import_shape(a.model.input_shape.as_ref(), a.calib.as_deref())?;
    let mut g = driver.import(&a.model.model, shape.as_ref())?;
    let shape = input_shape(&g);
    let (cdata, edata, m) = read_sets(&a, &shape)?;
    let per = shape.iter().product::<i64>().max(1) as usize;
    let calib = Samples::new(&cdata, per);
    if a.equalize {
        // Every scheme is evaluated on this graph: no hard-swish rescaling, which pow2
        // cannot quantize (the "+ equalize" row below rescales for its own scheme).
        g = driver.equalize(&g, Scheme::Pow2, calib, false, &obs)?;
    }
    let set = EvalSet {
        samples: edata.chunks_exact(per).take(m).collect(),
        task: Task::load(a.labels.as_deref(), a.keys.as_deref(), m)?,
    };
    let wanted = range_methods(&a);
    let graphs = calibrated(&driver, &g, calib, &wanted)?;
    let reference = report::float_outputs(&g, &set)?;
    let mut study = Study {
        compiler: Compiler {
            driver: &driver,
            target: &a.target,
        },
        set,
        reference,
        graphs,
        configs: Vec::new(),
        outcomes: Vec::new(),
    };
    let names: Vec<String> = wanted.iter().map(|w| w.0.clone()).collect();
    let configs = base_configs(&a, &wanted);
    let pb = bar((configs.len() + 1) * m, "evaluating");
    for c in configs {
        let name = report::config_name(&c, &names);
        study.evaluate(c, name, &|| pb.inc(1));
    }
    let best = best(&study.outcomes)?;
    if study.outcomes[best].result.is_ok() {
        let method = wanted[study.configs[best].ranges].1;
        let fixes = fixes(&mut study, best, &g, calib, method, &a, &obs)?;
        let pb = bar(fixes.len() * m, "evaluating the fixes");
        let name = study.outcomes[best].name.clone();
        for (suffix, c) in fixes {
            study.evaluate(c, format!("{name}{suffix}"), &|| pb.inc(1));
        }
        pb.finish_and_clear();
        let sweep = width_sweep(&mut study, best, calib, &a, &obs)?;
        let pb = bar(sweep.len() * m, "evaluating the weight widths");
        for (row, c) in sweep {
            study.evaluate(c, format!("{name}{row}"), &|| pb.inc(1));
        }
        pb.finish_and_clear();
    }
    let shown = shown(&study.outcomes, best, a.layers_of.as_deref())?;
    let layers = if study.outcomes[shown].result.is_ok() {
        let c = &study.configs[shown];
        let g = &study.graphs[c.ranges];
        report::layers(&study.compiler, g, c, &study.set, &|| pb.inc(1))?
    } else {
        Vec::new()
    };
    pb.finish_and_clear();
    show(&a, &study, &g, shown, &layers)
}

/// The calibration and evaluation vectors (none for data-free ranges alone), and how many
/// evaluation samples to use.
fn read_sets(a: &Args, shape: &[i64]) -> Res<(Vec<f32>, Vec<f32>, usize)> {
    let (n, cdata) = match &a.calib {
        Some(c) => read_batch(c, shape)?,
        None if a.ranges.iter().all(|r| *r == Ranges::DataFree) => (0, Vec::new()),
        None => {
            return Err(CliError::Input(
                "--calib is needed unless --ranges data-free".into(),
            ))
        }
    };
    let (m, edata) = read_batch(&a.eval, shape)?;
    if m == 0 || (n == 0 && a.calib.is_some()) {
        return Err(CliError::Input(
            "calibration and evaluation sets must not be empty".into(),
        ));
    }
    Ok((cdata, edata, a.limit.map_or(m, |l| l.min(m))))
}

/// Prints the table and the layers of configuration `shown` (and writes the HTML page).
fn show(a: &Args, study: &Study, g: &Func, shown: usize, layers: &[Layer]) -> Res<()> {
    let ftop = report::float_metric(&study.reference, &study.set)?;
    let metric = study.set.task.metric_name();
    let fbytes = report::float_weight_bytes(g);
    let outcomes = &study.outcomes;
    let name = &outcomes[shown].name;
    print!(
        "{}",
        render::text(ftop, metric, fbytes, outcomes, name, layers)
    );
    if let Some(h) = &a.html {
        let model = a.model.model.display().to_string();
        let page = render::html(&model, ftop, metric, fbytes, outcomes, name, layers)?;
        write(h, &page)?;
        eprintln!("wrote {}", h.display());
    }
    Ok(())
}

/// `g` calibrated by each range method of `wanted`.
fn calibrated(
    driver: &Driver,
    g: &Func,
    calib: Samples,
    wanted: &[(String, RangeMethod)],
) -> Res<Vec<Func>> {
    let pb = bar(calib.len() * (2 * wanted.len()), "calibrating");
    let graphs = wanted
        .iter()
        .map(|(_, method)| driver.calibrate(g, calib, *method, || pb.inc(1)))
        .collect::<Result<_, _>>()?;
    pb.finish_and_clear();
    Ok(graphs)
}

/// The fixes tried on the best configuration `best` (calibrated by `method`; `g` the graph
/// before calibration): bias correction,
/// equalization (unless every configuration has it), both, GPTQ, 16-bit activations (alone
/// and after GPTQ) where the compiler chooses any. Returns each row's name suffix and
/// configuration; their graphs are added to the study.
fn fixes(
    study: &mut Study,
    best: usize,
    g: &Func,
    calib: Samples,
    method: RangeMethod,
    a: &Args,
    obs: &Terminal,
) -> Res<Vec<(&'static str, Config)>> {
    let base = study.configs[best].clone();
    let driver = study.compiler.driver;
    let corrected = QuantOptions {
        bias_correction: true,
        ..base.quant.clone()
    };
    let with = |quant: &QuantOptions, ranges: usize| Config {
        quant: quant.clone(),
        ranges,
    };
    let mut fixes = vec![(" + bias correction", with(&corrected, base.ranges))];
    if !a.equalize {
        let eq = driver.equalize(g, base.quant.scheme(), calib, false, obs)?;
        let eq = driver.calibrate(&eq, calib, method, || {})?;
        let ranges = study.add_graph(eq);
        fixes.push((" + equalize", with(&base.quant, ranges)));
        fixes.push((" + equalize + bias correction", with(&corrected, ranges)));
    }
    // GPTQ weight rounding (`--weight-rounding gptq`), and 16-bit activations where the
    // compiler chooses them (`--bits auto`'s defaults), alone and together.
    let mut rounded = None;
    if !calib.is_empty() {
        let mut r = study.graphs[base.ranges].clone();
        driver.round_weights(&mut r, calib, &base.quant, || {})?;
        let ranges = study.add_graph(r);
        rounded = Some(ranges);
        fixes.push((" + GPTQ", with(&base.quant, ranges)));
    }
    for (suffix, start) in [
        (" + 16-bit (auto)", Some(base.ranges)),
        (" + GPTQ + 16-bit (auto)", rounded),
    ] {
        let Some(start) = start else { continue };
        let (wide, chosen) = driver.choose_bits(
            &study.graphs[start],
            &base.quant,
            nibble_driver::DEFAULT_MAX_SQNR,
            nibble_driver::DEFAULT_BUDGET,
        )?;
        if !chosen.is_empty() {
            let ranges = study.add_graph(wide);
            fixes.push((suffix, with(&base.quant, ranges)));
        }
    }
    Ok(fixes)
}

/// The configuration whose layers are shown: `layers_of` by name, else the best.
fn shown(outcomes: &[Outcome], best: usize, layers_of: Option<&str>) -> Res<usize> {
    let Some(name) = layers_of else {
        return Ok(best);
    };
    outcomes.iter().position(|o| o.name == name).ok_or_else(|| {
        CliError::Input(format!(
            "--layers-of '{name}' is not one of the configurations ({})",
            outcomes
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

/// One range method per distinct calibration (mse differs by scheme), with its row name.
fn range_methods(a: &Args) -> Vec<(String, RangeMethod)> {
    let mut wanted: Vec<(String, RangeMethod)> = Vec::new();
    for r in &a.ranges {
        for &scheme in &SCHEMES {
            let m = r.method(&a.range, scheme);
            if !wanted.iter().any(|w| w.1 == m) {
                wanted.push((r.name(&a.range), m));
            }
        }
    }
    wanted
}

/// The table's configurations: every range method × scheme × granularity, each naming the
/// graph calibrated by its method (`wanted`'s order).
fn base_configs(a: &Args, wanted: &[(String, RangeMethod)]) -> Vec<Config> {
    let mut configs = Vec::new();
    for r in &a.ranges {
        for &scheme in &SCHEMES {
            let m = r.method(&a.range, scheme);
            let graph = wanted.iter().position(|w| w.1 == m).unwrap_or(0);
            for granularity in [Granularity::Tensor, Granularity::Channel] {
                configs.push(Config {
                    quant: QuantOptions::new(scheme, granularity),
                    ranges: graph,
                });
            }
        }
    }
    configs
}

/// The best configuration: task metric, then agreement, then SQNR (the first of equals).
fn best(outcomes: &[Outcome]) -> Res<usize> {
    let key = |o: &Outcome| match &o.result {
        Ok(r) => (r.metric.unwrap_or(0.0), r.agreement, r.sqnr),
        Err(_) => (f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY),
    };
    (0..outcomes.len())
        .max_by(|&a, &b| {
            key(&outcomes[a])
                .partial_cmp(&key(&outcomes[b]))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.cmp(&a))
        })
        .ok_or_else(|| CliError::Input("no configuration".into()))
}

/// The weight widths swept on the best configuration `best` when the target has widths below
/// 8 bits and there are calibration vectors: uniform 4- and 2-bit weights, then the width
/// e-graph's choice at 6, 5, 4, 3 and 2 average bits (from one sensitivity measurement), every
/// one GPTQ-rounded as `nibble compile` rounds weights below 8 bits. Budgets no choice fits are
/// left out. Returns each row's name suffix and configuration; their graphs join the study.
fn width_sweep(
    study: &mut Study,
    best: usize,
    calib: Samples,
    a: &Args,
    obs: &Terminal,
) -> Res<Vec<(String, Config)>> {
    let (allowed, _) = nibble_driver::target_widths(&a.target.load()?);
    if calib.is_empty() || allowed.len() < 2 {
        return Ok(Vec::new());
    }
    let base = study.configs[best].clone();
    let driver = study.compiler.driver;
    let g = study.graphs[base.ranges].clone();
    let mut graphs: Vec<(String, Func)> = Vec::new();
    for w in [WeightWidth::W4, WeightWidth::W2] {
        if allowed.contains(&w) {
            let mut u = g.clone();
            for i in nibble_quantize::sensitivity::weight_layers(&g) {
                u.ops[i]
                    .attrs
                    .insert(attrs::WEIGHT_BITS.into(), Attr::Str(w.name().into()));
            }
            graphs.push((format!(" + {w}-bit weights"), u));
        }
    }
    let measured = driver.measure_sensitivity(&g, calib, &base.quant, false, obs)?;
    for bits in [6.0, 5.0, 4.0, 3.0, 2.0] {
        let wo = WidthOptions {
            weights: WeightBudget::AverageBits(bits),
            widths: allowed.clone(),
            wide: false,
            act_budget: 0.0,
            macs_per_cycle: [1.0; 5],
            fixed: Vec::new(),
            floor4: nibble_quantize::sensitivity::end_layers(&g),
        };
        if let Ok(w) = nibble_passes::choose_widths(&measured, &base.quant.config(), &wo) {
            graphs.push((format!(" + widths auto ≤ {bits} bits"), w.graph));
        }
    }
    let pb = bar(
        graphs.len() * calib.len(),
        "weight rounding (GPTQ) for the widths",
    );
    let mut rows = Vec::new();
    for (name, mut w) in graphs {
        driver.round_weights(&mut w, calib, &base.quant, || pb.inc(1))?;
        let ranges = study.add_graph(w);
        rows.push((
            name,
            Config {
                quant: base.quant.clone(),
                ranges,
            },
        ));
    }
    pb.finish_and_clear();
    Ok(rows)
}
