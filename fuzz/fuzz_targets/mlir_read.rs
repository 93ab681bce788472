//! The MLIR readers of `nibble run` and `nibble opt` on arbitrary text: parse and verify the
//! module and read its function (`Driver::parse`), print it back (`Driver::opt` with no
//! pipeline), and build the interpreter `nibble run` would (float for the graph level, integer
//! for the tile level). Any error is fine; a panic or a crash is a finding.
use libfuzzer_sys::fuzz_target;
use nibble_driver::Driver;
use nibble_interp::{float::FloatProgram, integer::IntProgram};

thread_local! {
    static DRIVER: Driver = Driver::new().expect("an MLIR context");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Diagnostics are captured as records, not printed: fuzzing stays quiet and fast.
    DRIVER.with(|d| d.capture(|d| read(d, text)));
});

fn read(d: &Driver, text: &str) {
    let _ = d.opt(text, "fuzz.mlir", "");
    let Ok(f) = d.parse(text, "fuzz.mlir") else {
        return;
    };
    if f.ops.iter().any(|o| o.name.starts_with("tile.")) {
        let _ = IntProgram::new(&f);
    } else if !f.ops.iter().any(|o| o.name.starts_with("qnt.")) {
        let _ = FloatProgram::new(&f);
    }
}

fn main() {
    nibble_fuzz::main()
}
