//! Text files in and out, every error naming its path; the one model argument every command
//! that reads ONNX takes; the input shape of an imported model.

use crate::error::{CliError, Res};
use nibble_driver::InputShape;
use nibble_ir::Func;
use std::path::{Path, PathBuf};

/// An ONNX model and the shape its dynamic input gets.
#[derive(Clone, Debug, clap::Args)]
pub struct Model {
    /// The ONNX model (.onnx).
    pub model: PathBuf,
    /// Fix the input shape where the model leaves it dynamic: NAME=1,3,48,192.
    #[arg(long, value_parser = nibble_driver::parse::input_shape)]
    pub input_shape: Option<InputShape>,
}

/// The shape to import with: `given` (`--input-shape`) when there is one, else — when `data`
/// is — one sample of `data` with batch 1, so a model's dynamic dimensions come from the
/// calibration (or input) vectors.
pub fn import_shape(given: Option<&InputShape>, data: Option<&Path>) -> Res<Option<InputShape>> {
    match (given, data) {
        (Some(s), _) => Ok(Some(s.clone())),
        (None, None) => Ok(None),
        (None, Some(path)) => {
            let file = crate::npy::NpyFile::open(path)?;
            let a = file.view::<f32>("a float32")?;
            let dims = std::iter::once(1)
                .chain(a.shape().iter().skip(1).map(|&d| d as i64))
                .collect();
            Ok(Some(InputShape {
                name: String::new(),
                dims,
            }))
        }
    }
}

pub fn read_text(path: &Path) -> Res<String> {
    std::fs::read_to_string(path).map_err(|e| CliError::read(path, e))
}

pub fn write(path: &Path, text: &str) -> Res<()> {
    std::fs::write(path, text).map_err(|e| CliError::write(path, e))
}

pub fn create_dir(path: &Path) -> Res<()> {
    std::fs::create_dir_all(path).map_err(|e| CliError::Create(path.display().to_string(), e))
}

/// `text` to `path`, or to standard output without one.
pub fn write_or_print(path: Option<&Path>, text: &str) -> Res<()> {
    match path {
        Some(p) => write(p, text),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// The shape of `f`'s (first) input, batch included.
pub fn input_shape(f: &Func) -> Vec<i64> {
    f.ty(f.args[0]).shape().unwrap_or(&[]).to_vec()
}
