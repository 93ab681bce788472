//! The extension points of nibble: a [`Registry`] of dialects (IRDL text, loaded into every
//! MLIR context the registry creates), passes (found by name in pipeline strings, so they mix
//! with nibble's and upstream passes) and back ends (a code generator and an optional
//! lowering pipeline, chosen by a target's `kind`). nibble's own dialects and passes are
//! registered by [`Registry::builtin`]; the `host` back end by the driver; a vendor crate
//! (like `compiler/npu`, the worked example) adds its own with a `register(&mut Registry)`
//! function and edits no core crate (`docs/adding-a-vendor-dialect.md`).

use crate::{PassError, PassInfo, PASSES};
use nibble_ir::{mlir::Mlir, Func, IrError};
use nibble_target::Target;

/// A dialect: its name and its IRDL definition.
#[derive(Clone, Debug)]
pub struct Dialect {
    pub name: String,
    pub irdl: String,
}

/// A code generator: the C (or other) files of a lowered program for a target.
pub type Codegen = fn(&Func, &Target) -> Result<Vec<(String, String)>, String>;

/// What compiles a scheduled tile program for targets of one kind.
#[derive(Clone, Debug)]
pub struct Backend {
    /// The target `kind` this back end serves (`host`, `npu`, a vendor's).
    pub kind: String,
    /// The tile level's pipeline after `nibble-lower-tile`, given the target option's text,
    /// when the back end schedules differently (default, None: `nibble-tile-size`,
    /// `nibble-schedule`, `nibble-plan-memory` for the target: a DMA schedule for every kind
    /// but `host`).
    pub schedule: Option<fn(&str) -> String>,
    /// Pipeline elements to run after the tile level (e.g. the conversion to the vendor's
    /// dialect), given the target option's text (a shipped name or a path).
    pub lower: Option<fn(&str) -> String>,
    /// The file the lowered module is written to (`model.npu.mlir`) when `lower` is set.
    pub ir_file: Option<String>,
    /// The code generator, on the module after `lower`.
    pub codegen: Codegen,
}

/// Dialects, passes and back ends.
pub struct Registry {
    dialects: Vec<Dialect>,
    passes: Vec<&'static PassInfo>,
    backends: Vec<Backend>,
}

impl Registry {
    /// nibble's own dialects (`qnt`, `tile`) and passes; no back end.
    pub fn builtin() -> Registry {
        Registry {
            dialects: vec![
                Dialect {
                    name: "qnt".into(),
                    irdl: nibble_qnt::IRDL.into(),
                },
                Dialect {
                    name: "tile".into(),
                    irdl: nibble_tile::IRDL.into(),
                },
            ],
            passes: PASSES.iter().collect(),
            backends: Vec::new(),
        }
    }

    /// Adds a dialect (refused if one of that name is registered).
    pub fn add_dialect(&mut self, name: &str, irdl: &str) -> Result<(), PassError> {
        if self.dialects.iter().any(|d| d.name == name) {
            return Err(PassError::Registry(format!(
                "dialect '{name}' is already registered"
            )));
        }
        self.dialects.push(Dialect {
            name: name.into(),
            irdl: irdl.into(),
        });
        Ok(())
    }

    /// Adds a pass (refused if one of that name is registered). The pass lives as long as the
    /// program: MLIR identifies a pass type by its address.
    pub fn add_pass(&mut self, pass: PassInfo) -> Result<(), PassError> {
        if self.pass(pass.name).is_some() {
            let msg = format!("pass '{}' is already registered", pass.name);
            return Err(PassError::Registry(msg));
        }
        self.passes.push(Box::leak(Box::new(pass)));
        Ok(())
    }

    /// Adds a back end (refused if one serves that kind).
    pub fn add_backend(&mut self, b: Backend) -> Result<(), PassError> {
        if self.backend(&b.kind).is_some() {
            let msg = format!(
                "a back end for target kind '{}' is already registered",
                b.kind
            );
            return Err(PassError::Registry(msg));
        }
        self.backends.push(b);
        Ok(())
    }

    /// The pass called `name`.
    pub fn pass(&self, name: &str) -> Option<&'static PassInfo> {
        self.passes.iter().copied().find(|p| p.name == name)
    }

    /// Every registered pass, in registration order.
    pub fn passes(&self) -> &[&'static PassInfo] {
        &self.passes
    }

    /// The registered dialects.
    pub fn dialects(&self) -> &[Dialect] {
        &self.dialects
    }

    /// The back end for target kind `kind`.
    pub fn backend(&self, kind: &str) -> Option<&Backend> {
        self.backends.iter().find(|b| b.kind == kind)
    }

    /// The target kinds with a back end.
    pub fn kinds(&self) -> Vec<&str> {
        self.backends.iter().map(|b| b.kind.as_str()).collect()
    }

    /// An MLIR context with upstream dialects and passes plus every registered dialect.
    pub fn context(&self) -> Result<Mlir, IrError> {
        melior::utility::register_all_passes();
        let d: Vec<(&str, &str)> = (self.dialects.iter())
            .map(|d| (d.name.as_str(), d.irdl.as_str()))
            .collect();
        Mlir::new(&d)
    }
}
