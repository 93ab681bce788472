//! Progress bars (indicatif, on standard error, hidden when it is not a terminal) and the
//! driver's notes as messages: the binary's [`nibble_driver::Observer`].

use indicatif::{ProgressBar, ProgressStyle};
use nibble_driver::{Event, Observer};
use std::cell::RefCell;

/// A progress bar of `n` steps named `what`.
pub fn bar(n: usize, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(n as u64);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_string());
    pb
}

/// Shows the driver's loops as progress bars and its events as messages on standard error.
#[derive(Default)]
pub struct Terminal {
    current: RefCell<Option<ProgressBar>>,
}

impl Observer for Terminal {
    fn begin(&self, steps: usize, what: &str) {
        *self.current.borrow_mut() = Some(bar(steps, what));
    }
    fn tick(&self) {
        if let Some(pb) = self.current.borrow().as_ref() {
            pb.inc(1);
        }
    }
    fn end(&self) {
        if let Some(pb) = self.current.borrow_mut().take() {
            pb.finish_and_clear();
        }
    }
    fn note(&self, event: &Event) {
        match event {
            Event::Gptq {
                layers,
                nearest_error,
                gptq_error,
            } => eprintln!(
                "GPTQ weight rounding: {layers} layers, output error of the weights {:.1} % of nearest rounding's",
                100.0 * gptq_error / nearest_error.max(f64::MIN_POSITIVE)
            ),
            Event::Wide(chosen) => eprintln!(
                "16-bit activations ({} chosen; their 8-bit SQNR on the calibration vectors): {}",
                chosen.len(),
                chosen
                    .iter()
                    .map(|c| format!("{} {:.1} dB", c.name, c.sqnr8))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Event::Widths(w) => print_widths(w),
        }
    }
}

/// The width e-graph's choice: totals, then the layers of each width.
fn print_widths(w: &nibble_driver::Widths) {
    let bits: f64 = w
        .layers
        .iter()
        .map(|l| (l.params * l.width.storage_bits() as u64) as f64)
        .sum::<f64>()
        + 8.0 * w.fixed_weight_bytes as f64;
    let noise = w.solution.cost.noise;
    eprintln!(
        "widths (e-graph of {} classes, {} nodes; ILP): weights {:.2} average bits, {} bytes; predicted output SQNR {:.1} dB",
        w.solution.egraph_size.0,
        w.solution.egraph_size.1,
        bits / w.weight_values.max(1) as f64,
        (bits / 8.0).ceil(),
        if noise > 0.0 { -10.0 * noise.log10() } else { f64::INFINITY }
    );
    for width in nibble_quantize::WeightWidth::ALL {
        let names: Vec<&str> = w
            .layers
            .iter()
            .filter(|l| l.width == width)
            .map(|l| l.name.as_str())
            .collect();
        if !names.is_empty() {
            eprintln!("  {width:>7}: {}", names.join(", "));
        }
    }
    if !w.wide.is_empty() {
        eprintln!("  16-bit activations: {}", w.wide.join(", "));
    }
}
