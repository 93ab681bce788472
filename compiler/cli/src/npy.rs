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
        view_bytes(&self.map, &self.path, what)
    }
}

/// The .npy file `bytes` (named `path` in messages) viewed in place as an array of `A`, its
/// element type `what`: what [`NpyFile::view`] reads, and what `fuzz/` feeds hostile bytes.
pub fn view_bytes<'a, A: ViewElement>(
    bytes: &'a [u8],
    path: &str,
    what: &str,
) -> Res<ArrayViewD<'a, A>> {
    if let Some(depth) = header_depth(bytes).filter(|&d| d > MAX_HEADER_DEPTH) {
        return Err(CliError::Npy {
            path: path.into(),
            what: what.into(),
            why: format!(
                "its header nests brackets {depth} deep (a .npy header of a plain array nests {MAX_HEADER_DEPTH} at most)"
            ),
        });
    }
    ArrayViewD::<A>::view_npy(bytes).map_err(|e| CliError::Npy {
        path: path.into(),
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

/// The deepest bracket nesting a plain array's header needs (`{… 'shape': (…)}`, a structured
/// dtype's `[(…)]` inside), with room to spare.
const MAX_HEADER_DEPTH: usize = 4;

/// How deep the brackets of the header of .npy `bytes` nest, when its preamble is readable:
/// checked before the header parser runs, whose backtracking is exponential in the nesting
/// (a 90-byte header of nested `{` took 26 s, found by `scripts/fuzz.sh`).
fn header_depth(bytes: &[u8]) -> Option<usize> {
    let (len, start): (usize, usize) = match bytes.get(6)? {
        1 => (
            u16::from_le_bytes([*bytes.get(8)?, *bytes.get(9)?]) as usize,
            10,
        ),
        _ => (
            u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize,
            12,
        ),
    };
    let header = bytes.get(start..start.checked_add(len)?.min(bytes.len()))?;
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in header {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Some(deepest)
}

/// A whole float32 .npy array, read through [`NpyFile`].
pub fn read_f32(path: &Path) -> Res<ArrayD<f32>> {
    Ok(NpyFile::open(path)?.view::<f32>("a float32")?.to_owned())
}

/// A float32 .npy batch checked against the model input shape [1, d1, …]: the number of
/// samples and their values.
pub fn read_batch(path: &Path, input_shape: &[i64]) -> Res<(usize, Vec<f32>)> {
    let file = NpyFile::open(path)?;
    let (n, data) = batch_in_place(&file, path, input_shape)?;
    Ok((n, data.into_owned()))
}

/// [`read_batch`] without the copy: the values in the memory map itself (a C-order file, as
/// numpy writes them), so a calibration set of any size is paged in as it is read and costs
/// no heap; a Fortran-order file is copied.
pub fn batch_in_place<'a>(
    file: &'a NpyFile,
    path: &Path,
    input_shape: &[i64],
) -> Res<(usize, std::borrow::Cow<'a, [f32]>)> {
    let a = file.view::<f32>("a float32")?;
    check_batch(&a, path, input_shape)?;
    let n = a.shape()[0];
    Ok((
        n,
        match a.to_slice() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(a.as_standard_layout().iter().copied().collect()),
        },
    ))
}

/// The samples of the array `a` read from `path`, checked against the model input shape.
pub fn batch_of(a: ArrayViewD<f32>, path: &Path, input_shape: &[i64]) -> Res<(usize, Vec<f32>)> {
    check_batch(&a, path, input_shape)?;
    Ok((
        a.shape()[0],
        a.as_standard_layout().iter().copied().collect(),
    ))
}

/// Refuses an array that is not N × the model input without its batch dimension.
fn check_batch(a: &ArrayViewD<f32>, path: &Path, input_shape: &[i64]) -> Res<()> {
    let tail: Vec<usize> = input_shape.iter().skip(1).map(|&d| d as usize).collect();
    if a.ndim() != input_shape.len() || a.shape()[1..] != tail[..] {
        return Err(CliError::Input(format!("'{}' has shape {:?}; expected N x {:?} (the model's input without its batch dimension)", path.display(), a.shape(), tail)));
    }
    Ok(())
}

/// Writes `a` as a .npy file.
pub fn write_f32(path: &Path, a: &ArrayD<f32>) -> Res<()> {
    let file = std::fs::File::create(path).map_err(|e| CliError::write(path, e))?;
    ndarray_npy::WriteNpyExt::write_npy(a, file)
        .map_err(|e| CliError::WriteNpy(path.display().to_string(), e))
}
