//! The `main` of every Rust harness. The MLIR libraries nibble links include mlir-opt's `main`
//! (libMLIRMlirOptMain.a), which the linker would pick over libFuzzer's; so each harness has
//! its own `main` that hands its arguments to libFuzzer (`LLVMFuzzerRunDriver`) with the
//! `LLVMFuzzerTestOneInput` that `libfuzzer_sys::fuzz_target!` defines.

use std::ffi::{c_char, c_int, CString};

extern "C" {
    fn LLVMFuzzerRunDriver(
        argc: *mut c_int,
        argv: *mut *mut *mut c_char,
        one: unsafe extern "C" fn(*const u8, usize) -> c_int,
    ) -> c_int;
    fn LLVMFuzzerTestOneInput(data: *const u8, size: usize) -> c_int;
}

/// Runs libFuzzer with this process's arguments (`-help=1` lists them) and exits with its status.
pub fn main() -> ! {
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.into_encoded_bytes()).expect("an argument without NUL"))
        .collect();
    let mut ptrs: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr() as *mut c_char).collect();
    ptrs.push(std::ptr::null_mut());
    let mut argc = args.len() as c_int;
    let mut argv = ptrs.as_mut_ptr();
    // SAFETY: argv holds argc valid NUL-terminated strings and a final null, alive until exit;
    // the callback is the harness's entry point, which takes any bytes.
    let status = unsafe { LLVMFuzzerRunDriver(&mut argc, &mut argv, LLVMFuzzerTestOneInput) };
    std::process::exit(status)
}
