//! The runtime's microkernels (`runtime/c/nibble_kernels*.c`) against its reference: builds
//! `runtime/c/tests/kernels_test.c` with the documented flags and runs it on random shapes and
//! the shared models' layer shapes, every ISA variant this CPU runs compared byte for byte with
//! exact sums + `nb_requant`; again under ASan + UBSan; and for AArch64 (NEON with and without
//! the dot-product extension) cross-compiled and run under qemu-aarch64 (scripts/setup.sh
//! installs gcc-aarch64-linux-gnu and qemu-user).

use std::path::PathBuf;
use std::process::Command;

/// `runtime/c` of this checkout.
fn runtime_dir() -> PathBuf {
    crate::root().join("runtime/c")
}

/// The C sources of the test program: the test, the runtime and the kernels.
fn sources() -> Vec<PathBuf> {
    let dir = runtime_dir();
    let mut files = vec![dir.join("tests/kernels_test.c")];
    let mut runtime: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("runtime/c is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("nibble_") && name.ends_with(".c")
        })
        .collect();
    runtime.sort();
    files.extend(runtime);
    files
}

/// Builds the test with `cc` and `flags` into a fresh directory and runs it (through `runner`,
/// if any) on `cases` random problems; panics with its output unless every output matched.
fn build_and_run(tag: &str, cc: &str, flags: &[&str], runner: &[&str], cases: u32) {
    let dir = std::env::temp_dir().join(format!("nibble-kernels-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let exe = dir.join("kernels_test");
    let build = Command::new(cc)
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .args(flags)
        .arg("-I")
        .arg(runtime_dir())
        .args(sources())
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("{cc} must be installed (scripts/setup.sh): {e}"));
    assert!(
        build.status.success(),
        "{tag}: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let mut cmd = match runner.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    let run = cmd
        .arg(cases.to_string())
        .output()
        .unwrap_or_else(|e| panic!("{tag}: cannot run the test ({runner:?}): {e}"));
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && out.contains(" 0 failed"),
        "{tag}: {out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kernels_are_bit_exact_on_this_cpu() {
    build_and_run("host", "cc", &["-O2"], &[], 1500);
}

#[test]
fn kernels_are_bit_exact_under_sanitizers() {
    let flags = ["-O1", "-g", "-fsanitize=address,undefined"];
    build_and_run(
        "asan",
        "cc",
        &[&flags[..], &["-fno-sanitize-recover=all"]].concat(),
        &[],
        300,
    );
}

#[test]
fn neon_kernels_are_bit_exact_under_qemu() {
    let qemu = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"];
    let cc = "aarch64-linux-gnu-gcc";
    build_and_run(
        "a64-dotprod",
        cc,
        &["-O2", "-march=armv8.2-a+dotprod"],
        &qemu,
        300,
    );
    build_and_run("a64-v8", cc, &["-O2", "-march=armv8-a"], &qemu, 300);
}
