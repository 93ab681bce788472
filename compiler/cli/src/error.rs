//! The one error type of the `nibble` binary: the driver's and the interpreters' errors
//! (`#[from]`), file access, and inputs that do not fit (shapes, labels). `main` prints it as
//! one line.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Driver(#[from] nibble_driver::Error),
    #[error(transparent)]
    Interp(#[from] nibble_interp::InterpError),
    #[error("cannot read '{0}': {1}")]
    Read(String, std::io::Error),
    #[error("cannot write '{0}': {1}")]
    Write(String, std::io::Error),
    #[error("cannot create '{0}': {1}")]
    Create(String, std::io::Error),
    #[error("cannot remove '{0}': {1}")]
    Remove(String, std::io::Error),
    /// A .npy file that is not the array expected: `'PATH' is not a float32 .npy array: why`.
    #[error("'{path}' is not {what} .npy array: {why}")]
    Npy {
        path: String,
        what: String,
        why: String,
    },
    /// Inputs that do not fit the model or each other (shapes, label counts, output formats).
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Chart(#[from] plotters::drawing::DrawingAreaErrorKind<std::io::Error>),
    #[error(transparent)]
    Array(#[from] ndarray::ShapeError),
    #[error("cannot write '{0}': {1}")]
    WriteNpy(String, ndarray_npy::WriteNpyError),
    /// `nibble opt` with `--split-input-file` or `--verify-diagnostics`: the failures of the
    /// parts of its input, each already `…error: …` lines.
    #[error("{0}")]
    Opt(String),
}

impl CliError {
    pub fn read(path: &Path, e: std::io::Error) -> CliError {
        CliError::Read(path.display().to_string(), e)
    }
    pub fn write(path: &Path, e: std::io::Error) -> CliError {
        CliError::Write(path.display().to_string(), e)
    }
}

pub type Res<T> = Result<T, CliError>;
