//! The report as text for the terminal and as a self-contained HTML page (tables, the
//! per-layer SQNR chart, accuracy against weight bytes).

use super::{Layer, Outcome};
use crate::error::Res;
use std::fmt::Write;

/// Own SQNR below this is flagged (red in the HTML page).
const OWN_BAD_DB: f64 = 25.0;

/// Whether any configuration has a cycle estimate (an accelerator target).
fn has_speed(outcomes: &[Outcome]) -> bool {
    outcomes
        .iter()
        .any(|o| o.result.as_ref().is_ok_and(|r| r.speed.is_some()))
}

/// ` CYCLES FPS` of a configuration's estimate (empty without one).
fn speed_text(speed: Option<(u64, f64)>) -> String {
    speed.map_or(String::new(), |(c, f)| format!(" {c:>12} {f:>10.1}"))
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
    let speed = has_speed(outcomes);
    let _ = writeln!(
        s,
        "{:<w$} {:>9} {:>10} {:>9} {:>12}{}",
        "configuration",
        metric_name,
        "agreement",
        "SQNR",
        "weights",
        if speed {
            format!(" {:>12} {:>10}", "cycles", "FPS")
        } else {
            String::new()
        }
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
                    "{:<w$} {:>9} {:>9.2} % {:>6.1} dB {:>12}{}",
                    o.name,
                    fmt_pct(r.metric),
                    r.agreement,
                    r.sqnr,
                    format!("{} B", r.weight_bytes),
                    speed_text(r.speed)
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
fn layer_chart(layers: &[Layer]) -> Res<String> {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let width = (layers.len() as u32 * 8).clamp(640, 2400);
        let root = SVGBackend::with_string(&mut svg, (width, 360)).into_drawing_area();
        root.fill(&WHITE)?;
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
            .build_cartesian_2d(0usize..layers.len().max(1), 0f64..top)?;
        chart.configure_mesh().x_desc("layer").y_desc("dB").draw()?;
        chart.draw_series(layers.iter().enumerate().map(|(i, l)| {
            let v = if l.sqnr.is_finite() {
                l.sqnr.max(0.0)
            } else {
                top
            };
            let color = if l.own < OWN_BAD_DB { RED } else { BLUE };
            Rectangle::new([(i, 0.0), (i + 1, v)], color.mix(0.7).filled())
        }))?;
        root.present()?;
    }
    Ok(svg)
}

/// Task metric (or agreement) against weight bytes, FP32 included.
fn size_chart(float: (usize, f64), points: &[(String, usize, f64)], metric: &str) -> Res<String> {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 360)).into_drawing_area();
        root.fill(&WHITE)?;
        let xmax = points.iter().map(|p| p.1).max().unwrap_or(0).max(float.0) as f64 * 1.1 + 1.0;
        let ymin = points.iter().map(|p| p.2).fold(float.1, f64::min).floor() - 1.0;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{metric} vs weight bytes"), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..xmax, ymin.max(0.0)..100.5)?;
        chart
            .configure_mesh()
            .x_desc("weight bytes")
            .x_label_formatter(&|v| format!("{:.0} KB", v / 1000.0))
            .y_desc(metric)
            .draw()?;
        chart.draw_series(std::iter::once(Circle::new(
            (float.0 as f64, float.1),
            5,
            BLACK.filled(),
        )))?;
        chart.draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.1 as f64, p.2), 4, BLUE.mix(0.6).filled())),
        )?;
        root.present()?;
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
) -> Res<String> {
    let mut s = String::new();
    let _ = write!(s, "<!doctype html><html><head><meta charset=\"utf-8\"><title>nibble report: {m}</title><style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}.bad{{color:#b00}}</style></head><body><h1>nibble report: {m}</h1>", m = escape(model));
    let speed = has_speed(outcomes);
    let (speed_th, speed_na) = if speed {
        (
            "<th>estimated cycles</th><th>FPS</th>",
            "<td>—</td><td>—</td>",
        )
    } else {
        ("", "")
    };
    let _ = write!(s, "<h2>Configurations</h2><table><tr><th>configuration</th><th>{metric_name}</th><th>decisions equal to FP32</th><th>output SQNR</th><th>weight bytes</th>{speed_th}</tr><tr><td>FP32</td><td>{}</td><td>100.00 %</td><td>—</td><td>{float_bytes}</td>{speed_na}</tr>", fmt_pct(float_metric));
    let mut points = Vec::new();
    for o in outcomes {
        match &o.result {
            Ok(r) => {
                let cols = match r.speed {
                    Some((c, f)) => format!("<td>{c}</td><td>{f:.1}</td>"),
                    None if speed => speed_na.to_string(),
                    None => String::new(),
                };
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{:.2} %</td><td>{:.1} dB</td><td>{}</td>{cols}</tr>",
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
                    escape(&e.to_string())
                );
            }
        }
    }
    s.push_str("</table>");
    // The target as the tile programs record it (`nibble.target`): what `--target` lowered for.
    let mut targets: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .map(|r| r.target.as_str())
        .collect();
    targets.sort_unstable();
    targets.dedup();
    let _ = write!(
        s,
        "<p>Tile programs lowered for target: {}</p>",
        escape(&targets.join(", "))
    );
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
