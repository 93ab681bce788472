//! The `nibble` binary's .npy reader (`nibble_cli::npy`) on arbitrary bytes, every way the
//! commands use it: a float32 array whole (`eval`), a batch against a model's input shape
//! (`compile`, `run`, `report`: one that fits and MNIST's), and int64 labels (`eval`).
use libfuzzer_sys::fuzz_target;
use nibble_cli::npy::{batch_of, view_bytes};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.npy");
    if let Ok(a) = view_bytes::<f32>(data, "fuzz.npy", "a float32") {
        let whole = a.to_owned();
        assert_eq!(whole.len(), a.len());
        let fits: Vec<i64> = std::iter::once(1)
            .chain(a.shape().iter().skip(1).map(|&d| d as i64))
            .collect();
        if a.ndim() > 0 {
            let (n, values) = batch_of(a.view(), path, &fits).expect("a shape that fits");
            assert_eq!(n * a.shape()[1..].iter().product::<usize>(), values.len());
        }
        let _ = batch_of(a, path, &[1, 1, 28, 28]);
    }
    if let Ok(labels) = view_bytes::<i64>(data, "fuzz.npy", "an int64 label") {
        let _: Vec<i64> = labels.iter().copied().collect();
    }
});

fn main() {
    nibble_fuzz::main()
}
