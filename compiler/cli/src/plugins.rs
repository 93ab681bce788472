//! The back ends this `nibble` binary is built with: nibble's own (`host`) and the example
//! accelerator's (`npu`, the `nibble-npu` crate). A vendor adds its crate's `register` here —
//! the one line a binary with a vendor extension differs by (docs/adding-a-vendor-dialect.md).

use crate::error::Res;
use nibble_driver::Driver;
use nibble_passes::Registry;

/// Every dialect, pass and back end of this binary.
pub fn registry() -> Res<Registry> {
    let mut r = nibble_driver::registry();
    nibble_npu::register(&mut r).map_err(nibble_driver::Error::from)?;
    Ok(r)
}

/// A driver with [`registry`].
pub fn driver() -> Res<Driver> {
    Ok(Driver::with_registry(registry()?)?)
}
