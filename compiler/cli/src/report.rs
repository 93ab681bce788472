//! `nibble report`: where accuracy goes. Every quantization configuration (scheme ×
//! granularity × range method) is compiled in-process to the tile level and run by the integer
//! interpreter on an evaluation set next to the FP32 graph (then the best one with the fixes:
//! bias correction, equalization, both, 16-bit activations where `--bits auto` chooses them): task metric (top-1 or CTC character accuracy with labels),
//! decisions equal to FP32 (class or decoded line), output SQNR and weight bytes per configuration; then, for the best
//! configuration, the SQNR of every quantized layer against its FP32 value (total) and against
//! its exact output from its own quantized inputs (own: a second float run that reads each
//! layer's quantized output in place of its float one, so a layer is not blamed for upstream
//! noise, nor for a constant offset that changes its signal power). Text for the terminal, and a self-contained HTML page with
//! the per-layer SQNR chart and accuracy against model size.

use nibble_interp::float::FloatProgram;
use nibble_interp::integer::IntProgram;
use nibble_ir::{Func, ValueId};
use nibble_quantize::Scheme;
use std::collections::HashMap;
use std::fmt::Write;

/// One quantization configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub scheme: Scheme,
    pub per_channel: bool,
    /// Index into the calibrated graphs (one per range method, and equalized variants).
    pub ranges: usize,
    pub bias_correction: bool,
}

impl Config {
    pub fn quant(&self) -> nibble_lower::to_qnt::QuantConfig {
        nibble_lower::to_qnt::QuantConfig {
            bias_correction: self.bias_correction,
            ..nibble_lower::to_qnt::QuantConfig::new(self.scheme, self.per_channel)
        }
    }
}

/// The evaluation set and what to score it against.
pub struct EvalSet<'a> {
    pub samples: Vec<&'a [f32]>,
    pub task: crate::metrics::Task,
}

/// A configuration's end-to-end numbers (or why it failed).
pub struct Outcome {
    pub name: String,
    pub result: Result<Scores, String>,
}

pub struct Scores {
    /// The task metric (top-1 or character accuracy) where there are labels.
    pub metric: Option<f64>,
    pub agreement: f64,
    pub sqnr: f64,
    pub weight_bytes: usize,
}

/// Per-layer fidelity of one configuration.
pub struct Layer {
    pub name: String,
    /// The layer's output against FP32 (all the noise up to here).
    pub sqnr: f64,
    /// The layer's own rounding: its quantized output against its exact output computed in
    /// float from its quantized inputs (a fused chain of ops counts as one layer).
    pub own: f64,
}

/// Own SQNR below this is flagged (red in the HTML page).
const OWN_BAD_DB: f64 = 25.0;

pub fn scheme_name(s: Scheme) -> &'static str {
    match s {
        Scheme::Pow2 => "pow2",
        Scheme::Symmetric => "symmetric",
        Scheme::Asymmetric => "asymmetric",
    }
}

pub fn config_name(c: &Config, range_names: &[String]) -> String {
    format!(
        "{} / {} / {}",
        scheme_name(c.scheme),
        if c.per_channel { "channel" } else { "tensor" },
        range_names[c.ranges]
    )
}

fn db(sig: f64, noise: f64) -> f64 {
    if noise <= 0.0 {
        f64::INFINITY
    } else {
        10.0 * (sig / noise).log10()
    }
}

/// FP32 outputs of the graph for every sample.
pub fn float_outputs(g: &Func, set: &EvalSet) -> Result<Vec<Vec<Vec<f32>>>, String> {
    let p = FloatProgram::new(g).map_err(|e| e.to_string())?;
    set.samples
        .iter()
        .map(|s| p.run(s, |_, _| {}).map_err(|e| e.to_string()))
        .collect()
}

/// The tile-level program of a configuration: quantize, fold requant chains, lower.
fn compile(g: &Func, c: &Config) -> Result<Func, String> {
    let q = nibble_lower::to_qnt::to_qnt(g, &c.quant()).map_err(|e| e.to_string())?;
    let (q, _) = nibble_eqsat::fold_requant(&q).map_err(|e| e.to_string())?;
    nibble_lower::to_tile::to_tile(&q, &nibble_target::Target::generic()).map_err(|e| e.to_string())
}

pub fn weight_bytes(t: &Func) -> usize {
    t.ops
        .iter()
        .filter(|o| o.name == nibble_tile::CONST)
        .map(|o| {
            let ty = t.ty(o.results[0]);
            ty.num_elements()
                * match ty.elem() {
                    Some(nibble_ir::Elem::Int(32)) => 4,
                    _ => 1,
                }
        })
        .sum()
}

/// FP32 weight bytes of the graph (f32 constants).
pub fn float_weight_bytes(g: &Func) -> usize {
    g.ops
        .iter()
        .filter(|o| o.name == "tosa.const")
        .map(|o| g.ty(o.results[0]))
        .filter(|t| t.elem() == Some(&nibble_ir::Elem::F32))
        .map(|t| t.num_elements() * 4)
        .sum()
}

/// The decisions of output 0 of every sample.
fn decisions(outs: &[Vec<Vec<f32>>], set: &EvalSet) -> Result<Vec<String>, String> {
    outs.iter().map(|o| set.task.decode(&o[0])).collect()
}

/// Scores the outputs `got` against FP32 `reference`: (task metric, decision agreement, SQNR
/// of all outputs).
fn score(
    got: &[Vec<Vec<f32>>],
    reference: &[Vec<Vec<f32>>],
    set: &EvalSet,
) -> Result<(Option<f64>, f64, f64), String> {
    let (mut sig, mut noise) = (0.0, 0.0);
    for (g, r) in got.iter().zip(reference) {
        for (go, ro) in g.iter().zip(r) {
            for (&a, &b) in go.iter().zip(ro) {
                sig += (b as f64).powi(2);
                noise += ((a - b) as f64).powi(2);
            }
        }
    }
    let d = decisions(got, set)?;
    Ok((
        set.task.score(&d).map(|s| s.0),
        crate::metrics::agreement(&d, &decisions(reference, set)?),
        db(sig, noise),
    ))
}

/// The task metric of the FP32 outputs (where there are labels).
pub fn float_metric(reference: &[Vec<Vec<f32>>], set: &EvalSet) -> Result<Option<f64>, String> {
    Ok(set.task.score(&decisions(reference, set)?).map(|s| s.0))
}

/// Compiles and evaluates one configuration.
pub fn evaluate(
    g: &Func,
    c: &Config,
    name: String,
    set: &EvalSet,
    reference: &[Vec<Vec<f32>>],
    tick: &dyn Fn(),
) -> Outcome {
    let result = (|| {
        let t = compile(g, c)?;
        let p = IntProgram::new(&t).map_err(|e| e.to_string())?;
        let mut got = Vec::with_capacity(set.samples.len());
        for s in &set.samples {
            got.push(p.run(s).map_err(|e| e.to_string())?);
            tick();
        }
        let (metric, agreement, sqnr) = score(&got, reference, set)?;
        Ok(Scores {
            metric,
            agreement,
            sqnr,
            weight_bytes: weight_bytes(&t),
        })
    })();
    Outcome { name, result }
}

/// Per-layer SQNR of configuration `c`: every graph value that has a per-tensor quantized
/// counterpart at the tile level, dequantized and compared with its FP32 value. Measured on the
/// program before requant folding, so every layer's own output is observable.
pub fn layers(g: &Func, c: &Config, set: &EvalSet, tick: &dyn Fn()) -> Result<Vec<Layer>, String> {
    let (q, gq) = nibble_lower::to_qnt::to_qnt_mapped(g, &c.quant()).map_err(|e| e.to_string())?;
    let (t, qt) = nibble_lower::to_tile::to_tile_mapped(&q, &nibble_target::Target::generic())
        .map_err(|e| e.to_string())?;
    // graph value → (tile value, scale, zero point), in program order.
    let mut watched: Vec<(ValueId, ValueId, f64, i64)> = Vec::new();
    for op in &g.ops {
        let Some(&r) = op.results.first() else {
            continue;
        };
        let (Some(&qv), true) = (gq.get(&r), op.name != "tosa.const") else {
            continue;
        };
        let (Some(&tv), Some(qty)) = (qt.get(&qv), q.ty(qv).quant()) else {
            continue;
        };
        if q.ty(qv).num_elements() == g.ty(r).num_elements() {
            watched.push((r, tv, qty.scale, qty.zero_point));
        }
    }
    let by_tile: HashMap<ValueId, usize> =
        watched.iter().enumerate().map(|(i, w)| (w.1, i)).collect();
    let by_graph: HashMap<ValueId, usize> =
        watched.iter().enumerate().map(|(i, w)| (w.0, i)).collect();
    let fp = FloatProgram::new(g).map_err(|e| e.to_string())?;
    let ip = IntProgram::new(&t).map_err(|e| e.to_string())?;
    // (signal, noise) sums: against FP32, and against the layer's exact output from its
    // quantized inputs.
    let mut acc = vec![(0f64, 0f64); watched.len()];
    let mut own = vec![(0f64, 0f64); watched.len()];
    let mut floats: Vec<Option<Vec<f32>>> = vec![None; g.values.len()];
    let mut dequantized: Vec<Option<Vec<f32>>> = vec![None; watched.len()];
    for s in &set.samples {
        fp.run(s, |v, d| {
            if by_graph.contains_key(&v) {
                floats[v] = Some(d.to_vec());
            }
        })
        .map_err(|e| e.to_string())?;
        ip.run_observed(s, |v, ints| {
            let Some(&i) = by_tile.get(&v) else { return };
            let (_, _, scale, zp) = watched[i];
            dequantized[i] = Some(
                ints.iter()
                    .map(|&q| (scale * (q as i64 - zp) as f64) as f32)
                    .collect(),
            );
        })
        .map_err(|e| e.to_string())?;
        for (i, &(gv, ..)) in watched.iter().enumerate() {
            if let (Some(x), Some(y)) = (floats[gv].as_ref(), dequantized[i].as_ref()) {
                add_noise(&mut acc[i], x, y);
            }
        }
        fp.run_replacing(s, |v, d| {
            let &i = by_graph.get(&v)?;
            let y = dequantized[i].as_ref()?;
            add_noise(&mut own[i], d, y);
            Some(y.clone())
        })
        .map_err(|e| e.to_string())?;
        tick();
    }
    let producers = g.producers();
    Ok(watched
        .iter()
        .enumerate()
        .map(|(i, &(gv, ..))| {
            let op = &g.ops[producers[gv].unwrap_or(0)];
            let mut what = match op.attrs.get("operator_name") {
                Some(nibble_ir::Attr::Str(n)) => n.clone(),
                _ => op.name.trim_start_matches("tosa.").to_string(),
            };
            if op.int(nibble_quantize::BITS_ATTR).ok() == Some(16) {
                what.push_str(", 16-bit");
            }
            Layer {
                name: format!("{} ({what})", op.loc_name()),
                sqnr: db(acc[i].0, acc[i].1),
                own: db(own[i].0, own[i].1),
            }
        })
        .collect())
}

/// Adds the power of `reference` and of `reference − got` to `(signal, noise)`.
fn add_noise(sums: &mut (f64, f64), reference: &[f32], got: &[f32]) {
    for (&x, &y) in reference.iter().zip(got) {
        sums.0 += (x as f64).powi(2);
        sums.1 += (x as f64 - y as f64).powi(2);
    }
}

fn fmt_pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2} %")).unwrap_or_else(|| "—".into())
}

/// The terminal text: the configuration table and the layers that lose the most.
pub fn text(
    float_metric: Option<f64>,
    metric_name: &str,
    float_bytes: usize,
    outcomes: &[Outcome],
    best: &str,
    layers: &[Layer],
) -> String {
    let mut s = String::new();
    let w = outcomes
        .iter()
        .map(|o| o.name.chars().count())
        .fold(40, usize::max);
    let _ = writeln!(
        s,
        "{:<w$} {:>9} {:>10} {:>9} {:>12}",
        "configuration", metric_name, "agreement", "SQNR", "weights"
    );
    let _ = writeln!(
        s,
        "{:<w$} {:>9} {:>10} {:>9} {:>12}",
        "FP32",
        fmt_pct(float_metric),
        "100.00 %",
        "—",
        format!("{float_bytes} B")
    );
    for o in outcomes {
        match &o.result {
            Ok(r) => {
                let _ = writeln!(
                    s,
                    "{:<w$} {:>9} {:>9.2} % {:>6.1} dB {:>12}",
                    o.name,
                    fmt_pct(r.metric),
                    r.agreement,
                    r.sqnr,
                    format!("{} B", r.weight_bytes)
                );
            }
            Err(e) => {
                let _ = writeln!(s, "{:<w$} FAILED: {e}", o.name);
            }
        }
    }
    let _ = writeln!(
        s,
        "\nper-layer SQNR of {best}; the 10 layers whose own rounding loses the most\n(own: the layer's output against its exact value from its quantized inputs; total: against FP32):"
    );
    let mut worst: Vec<&Layer> = layers.iter().collect();
    worst.sort_by(|a, b| a.own.total_cmp(&b.own));
    for l in worst.iter().take(10) {
        let _ = writeln!(
            s,
            "  own {:>6.1} dB  total {:>6.1} dB  {}",
            l.own, l.sqnr, l.name
        );
    }
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Per-layer SQNR bar chart as an SVG string.
fn layer_chart(layers: &[Layer]) -> Result<String, String> {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let width = (layers.len() as u32 * 8).clamp(640, 2400);
        let root = SVGBackend::with_string(&mut svg, (width, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let top = layers
            .iter()
            .map(|l| l.sqnr)
            .filter(|v| v.is_finite())
            .fold(10.0, f64::max)
            + 5.0;
        let mut chart = ChartBuilder::on(&root)
            .caption("per-layer SQNR (dB), program order", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0usize..layers.len().max(1), 0f64..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("layer")
            .y_desc("dB")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(layers.iter().enumerate().map(|(i, l)| {
                let v = if l.sqnr.is_finite() {
                    l.sqnr.max(0.0)
                } else {
                    top
                };
                let color = if l.own < OWN_BAD_DB { RED } else { BLUE };
                Rectangle::new([(i, 0.0), (i + 1, v)], color.mix(0.7).filled())
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Task metric (or agreement) against weight bytes, FP32 included.
fn size_chart(
    float: (usize, f64),
    points: &[(String, usize, f64)],
    metric: &str,
) -> Result<String, String> {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let xmax = points.iter().map(|p| p.1).max().unwrap_or(0).max(float.0) as f64 * 1.1 + 1.0;
        let ymin = points.iter().map(|p| p.2).fold(float.1, f64::min).floor() - 1.0;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{metric} vs weight bytes"), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..xmax, ymin.max(0.0)..100.5)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("weight bytes")
            .y_desc(metric)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (float.0 as f64, float.1),
                5,
                BLACK.filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.1 as f64, p.2), 4, BLUE.mix(0.6).filled())),
            )
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The self-contained HTML page.
pub fn html(
    model: &str,
    float_metric: Option<f64>,
    metric_name: &str,
    float_bytes: usize,
    outcomes: &[Outcome],
    best: &str,
    layers: &[Layer],
) -> Result<String, String> {
    let mut s = String::new();
    let _ = write!(s, "<!doctype html><html><head><meta charset=\"utf-8\"><title>nibble report: {m}</title><style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}.bad{{color:#b00}}</style></head><body><h1>nibble report: {m}</h1>", m = escape(model));
    let _ = write!(s, "<h2>Configurations</h2><table><tr><th>configuration</th><th>{metric_name}</th><th>decisions equal to FP32</th><th>output SQNR</th><th>weight bytes</th></tr><tr><td>FP32</td><td>{}</td><td>100.00 %</td><td>—</td><td>{float_bytes}</td></tr>", fmt_pct(float_metric));
    let mut points = Vec::new();
    for o in outcomes {
        match &o.result {
            Ok(r) => {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{:.2} %</td><td>{:.1} dB</td><td>{}</td></tr>",
                    escape(&o.name),
                    fmt_pct(r.metric),
                    r.agreement,
                    r.sqnr,
                    r.weight_bytes
                );
                points.push((
                    o.name.clone(),
                    r.weight_bytes,
                    r.metric.unwrap_or(r.agreement),
                ));
            }
            Err(e) => {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td class=\"bad\" colspan=\"4\">FAILED: {}</td></tr>",
                    escape(&o.name),
                    escape(e)
                );
            }
        }
    }
    s.push_str("</table>");
    let metric = if float_metric.is_some() {
        format!("{metric_name} %")
    } else {
        "decisions equal to FP32 %".to_string()
    };
    s.push_str(&size_chart(
        (float_bytes, float_metric.unwrap_or(100.0)),
        &points,
        &metric,
    )?);
    let _ = write!(s, "<h2>Per-layer SQNR: {}</h2><p>Each quantized layer's output, dequantized, against its FP32 value over the evaluation set (total; before requant folding), and against its exact output computed in float from its own quantized inputs (own: the rounding this layer adds). Red: own SQNR below {OWN_BAD_DB} dB.</p>", escape(best));
    s.push_str(&layer_chart(layers)?);
    s.push_str("<table><tr><th>#</th><th>layer</th><th>total SQNR</th><th>own SQNR</th></tr>");
    for (i, l) in layers.iter().enumerate() {
        let class = if l.own < OWN_BAD_DB {
            " class=\"bad\""
        } else {
            ""
        };
        let _ = write!(s, "<tr{class}><td>{i}</td><td style=\"text-align:left\">{}</td><td>{:.1} dB</td><td>{:.1} dB</td></tr>", escape(&l.name), l.sqnr, l.own);
    }
    s.push_str("</table></body></html>\n");
    Ok(s)
}
