//! The parts of the `nibble` binary that other crates use: its error type and its .npy reader,
//! which the fuzz harnesses in `fuzz/` feed hostile bytes. Everything else lives in the binary.

pub mod error;
pub mod npy;
