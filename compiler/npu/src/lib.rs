//! The `npu` back end: nibble's worked example of a vendor extension. It adds, through the
//! extension points of `nibble_passes::Registry` and without editing a core crate,
//! - the `npu` dialect (`dialects/npu/npu.irdl.mlir`),
//! - the pass `nibble-lower-npu{target=…}` ([`lower`]): a scheduled, planned tile program →
//!   npu commands (DMA transfers with their dependencies, waits, MAC-array and vector ops),
//! - the code generator for targets of kind `npu` ([`codegen`]): C against the intrinsics API
//!   `runtime/npu/npu.h`, with the simulator `runtime/npu/npu_sim.c` and the target's cost
//!   table (`npu_target.h`) next to it, so the program builds and runs on the host.
//!
//! `docs/adding-a-vendor-dialect.md` walks through this crate as the template.

pub mod codegen;
pub mod lower;

use nibble_passes::{Backend, PassError, Registry};

/// The kind of target this back end serves.
pub const KIND: &str = "npu";

/// Registers the dialect, the pass and the back end.
pub fn register(r: &mut Registry) -> Result<(), PassError> {
    r.add_dialect("npu", nibble_npu_dialect::IRDL)?;
    r.add_pass(lower::PASS)?;
    r.add_backend(Backend {
        kind: KIND.into(),
        schedule: None,
        lower: Some(|target| format!("nibble-lower-npu{{target={target}}}")),
        ir_file: Some("model.npu.mlir".into()),
        codegen: codegen::emit,
    })
}
