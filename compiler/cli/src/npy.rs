//! Reading .npy files without trusting their headers: the file is memory-mapped and viewed in
//! place (`ndarray_npy::ViewNpyExt`), which checks the declared shape against the bytes really
//! there before anything is read or allocated — a 200-byte file that declares 10^11 samples is
//! an error, not an abort.

use ndarray::{ArrayD, ArrayViewD};
use ndarray_npy::{ViewElement, ViewNpyExt};
use std::path::Path;

/// A memory-mapped .npy file.
pub struct NpyFile {
    map: memmap2::Mmap,
    path: String,
}

impl NpyFile {
    pub fn open(path: &Path) -> Result<NpyFile, String> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        // Safety: the map is only read; nibble does not write input files while it runs.
        let map = unsafe { memmap2::Mmap::map(&file) }
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        Ok(NpyFile {
            map,
            path: path.display().to_string(),
        })
    }

    /// The array in place, its element type `what` (for the error message).
    pub fn view<A: ViewElement>(&self, what: &str) -> Result<ArrayViewD<'_, A>, String> {
        ArrayViewD::<A>::view_npy(&self.map).map_err(|e| {
            format!(
                "'{}' is not {what} .npy array: {}",
                self.path,
                match e {
                    ndarray_npy::ViewNpyError::MisalignedData =>
                        "its data is not aligned to its element size (write it with numpy)".into(),
                    ndarray_npy::ViewNpyError::MissingBytes(n) =>
                        format!("its header declares {n} more bytes than the file holds"),
                    e => e.to_string(),
                }
            )
        })
    }
}

/// A whole float32 .npy array, read through [`NpyFile`].
pub fn read_f32(path: &Path) -> Result<ArrayD<f32>, String> {
    Ok(NpyFile::open(path)?.view::<f32>("a float32")?.to_owned())
}
