//! What the driver tells its caller while it works: progress of the long loops (calibration,
//! channel ranges, GPTQ) and results worth a line. The driver prints nothing itself; `nibble`
//! shows progress bars and messages, tests pass [`Quiet`].

use nibble_passes::Choice;

/// A result of a compile step worth telling the user.
#[derive(Debug)]
pub enum Event<'a> {
    /// GPTQ rounded the weights of `layers` layers; the layers' output errors of the weights
    /// summed over the calibration vectors, for nearest rounding and for GPTQ's.
    Gptq {
        layers: usize,
        nearest_error: f64,
        gptq_error: f64,
    },
    /// `--bits auto` chose these activations for 16 bits.
    Wide(&'a [Choice]),
    /// The width e-graph's choice (`--weight-bits auto`, `--bits auto`).
    Widths(&'a nibble_passes::Widths),
}

/// Receives progress and events. Every method defaults to doing nothing.
pub trait Observer {
    /// A loop of `steps` steps named `what` begins (one loop at a time).
    fn begin(&self, _steps: usize, _what: &str) {}
    /// One step of the current loop is done.
    fn tick(&self) {}
    /// The current loop is over.
    fn end(&self) {}
    fn note(&self, _event: &Event) {}
}

/// Ignores everything.
pub struct Quiet;

impl Observer for Quiet {}
