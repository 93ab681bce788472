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
        }
    }
}
