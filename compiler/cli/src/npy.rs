//! Reading .npy files without trusting their headers: the file is memory-mapped and viewed in
//! place (`ndarray_npy::ViewNpyExt`), which checks the declared shape against the bytes really
//! there before anything is read or allocated — a 200-byte file that declares 10^11 samples is
//! an error, not an abort.

use crate::error::{CliError, Res};
use ndarray::{ArrayD, ArrayViewD};
use ndarray_npy::{ViewElement, ViewNpyExt};
use std::path::Path;

/// A memory-mapped .npy file.
pub struct NpyFile {
    map: memmap2::Mmap,
    path: String,
}

impl NpyFile {
    pub fn open(path: &Path) -> Res<NpyFile> {
        let file = std::fs::File::open(path).map_err(|e| CliError::read(path, e))?;
        // Safety: the map is only read; nibble does not write input files while it runs.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| CliError::read(path, e))?;
        Ok(NpyFile {
            map,
            path: path.display().to_string(),
        })
    }

    /// The array in place, its element type `what` (for the error message).
    pub fn view<A: ViewElement>(&self, what: &str) -> Res<ArrayViewD<'_, A>> {
        ArrayViewD::<A>::view_npy(&self.map).map_err(|e| CliError::Npy {
            path: self.path.clone(),
            what: what.into(),
            why: match e {
                ndarray_npy::ViewNpyError::MisalignedData => {
                    "its data is not aligned to its element size (write it with numpy)".into()
                }
                ndarray_npy::ViewNpyError::MissingBytes(n) => {
                    format!("its header declares {n} more bytes than the file holds")
                }
                e => e.to_string(),
            },
        })
    }
}

/// A whole float32 .npy array, read through [`NpyFile`].
pub fn read_f32(path: &Path) -> Res<ArrayD<f32>> {
    Ok(NpyFile::open(path)?.view::<f32>("a float32")?.to_owned())
}

/// A float32 .npy batch checked against the model input shape [1, d1, …]: the number of
/// samples and their values.
pub fn read_batch(path: &Path, input_shape: &[i64]) -> Res<(usize, Vec<f32>)> {
    let file = NpyFile::open(path)?;
    let a = file.view::<f32>("a float32")?;
    let tail: Vec<usize> = input_shape.iter().skip(1).map(|&d| d as usize).collect();
    if a.ndim() != input_shape.len() || a.shape()[1..] != tail[..] {
        return Err(CliError::Input(format!("'{}' has shape {:?}; expected N x {:?} (the model's input without its batch dimension)", path.display(), a.shape(), tail)));
    }
    let n = a.shape()[0];
    Ok((n, a.as_standard_layout().iter().copied().collect()))
}

/// Writes `a` as a .npy file.
pub fn write_f32(path: &Path, a: &ArrayD<f32>) -> Res<()> {
    let file = std::fs::File::create(path).map_err(|e| CliError::write(path, e))?;
    ndarray_npy::WriteNpyExt::write_npy(a, file)
        .map_err(|e| CliError::WriteNpy(path.display().to_string(), e))
}
