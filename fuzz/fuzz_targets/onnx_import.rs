//! The ONNX importer on arbitrary bytes, as `nibble import` runs it: decode and import
//! (`nibble_frontend::import_bytes`), then build and verify the MLIR module of what it
//! returned. Any error is fine; a panic or a crash is a finding.
use libfuzzer_sys::fuzz_target;
use nibble_driver::Driver;

thread_local! {
    static DRIVER: Driver = Driver::new().expect("an MLIR context");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = nibble_frontend::import_bytes(data, "fuzz.onnx", None) {
        DRIVER.with(|d| d.capture(|d| d.text(&f).is_ok()));
    }
});

fn main() {
    nibble_fuzz::main()
}
