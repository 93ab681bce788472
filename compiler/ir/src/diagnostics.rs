//! MLIR diagnostics as records — severity, the file position the diagnostic points at, message
//! and notes — captured while a closure runs, instead of collected as error text. `nibble opt`
//! checks them against a file's `expected-*` annotations ([`crate::verify`]) and, for a part
//! of a split input file, prints them with the file's name and line.

use crate::mlir::{bytes_of, display_lossy, Mlir};
use melior::diagnostic::DiagnosticSeverity;
use mlir_sys as sys;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// How grave a diagnostic is (MLIR's four kinds, as `expected-<kind>` spells them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Note,
    Remark,
}

impl Severity {
    /// `error`, `warning`, `note` or `remark`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
            Severity::Remark => "remark",
        }
    }

    /// The severity named `error`, `warning`, `note` or `remark`.
    pub fn from_name(name: &str) -> Option<Severity> {
        [
            Severity::Error,
            Severity::Warning,
            Severity::Note,
            Severity::Remark,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// A place in a source buffer: its name (a path, or MLIR's name for text parsed from memory),
/// line and column, both counted from 1 (0 for a whole buffer, the implicit module's location).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// One diagnostic: where MLIR's `findInstanceOf<FileLineColLoc>` finds a file position in its
/// location (`None`: an unknown or purely named location), its text and its notes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub position: Option<Position>,
    pub message: String,
    pub notes: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: error: message`, one `  note: …` line per note.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.position {
            write!(f, "{}:{}:{}: ", p.file, p.line, p.column)?;
        }
        write!(f, "{}: {}", self.severity.name(), self.message)?;
        for n in &self.notes {
            write!(f, "\n  note: {}", n.message)?;
        }
        Ok(())
    }
}

impl Mlir {
    /// Runs `f` and returns, with its result, the diagnostics MLIR emitted meanwhile. They are
    /// taken before the context's own collecting handler sees them (MLIR asks the handler
    /// attached last first), so errors made of them read "not a valid MLIR module" or "the
    /// pass pipeline failed": the records are the detail.
    pub fn capture<R>(&self, f: impl FnOnce() -> R) -> (R, Vec<Diagnostic>) {
        let sink = Rc::new(RefCell::new(Vec::new()));
        let into = sink.clone();
        let id =
            self.context
                .attach_diagnostic_handler(move |d: melior::diagnostic::Diagnostic| {
                    into.borrow_mut().push(record(&d));
                    true
                });
        let result = f();
        self.context.detach_diagnostic_handler(id);
        let records = std::mem::take(&mut *sink.borrow_mut());
        (result, records)
    }
}

/// The record of an MLIR diagnostic and its notes.
fn record(d: &melior::diagnostic::Diagnostic) -> Diagnostic {
    let severity = match d.severity() {
        DiagnosticSeverity::Error => Severity::Error,
        DiagnosticSeverity::Warning => Severity::Warning,
        DiagnosticSeverity::Note => Severity::Note,
        DiagnosticSeverity::Remark => Severity::Remark,
    };
    let notes = (0..d.note_count())
        .filter_map(|i| d.note(i).ok())
        .map(|n| record(&n))
        .collect();
    Diagnostic {
        severity,
        position: position(d.location().to_raw()),
        message: display_lossy(d),
        notes,
    }
}

/// The first file position in `loc`, searched as MLIR's `findInstanceOf<FileLineColLoc>`
/// does: a name's child, a call site's callee then caller, each part of a fused location.
fn position(loc: sys::MlirLocation) -> Option<Position> {
    unsafe {
        if sys::mlirLocationIsAFileLineColRange(loc) {
            let name = sys::mlirIdentifierStr(sys::mlirLocationFileLineColRangeGetFilename(loc));
            return Some(Position {
                file: String::from_utf8_lossy(bytes_of(&name)).into_owned(),
                line: sys::mlirLocationFileLineColRangeGetStartLine(loc).max(0) as u32,
                column: sys::mlirLocationFileLineColRangeGetStartColumn(loc).max(0) as u32,
            });
        }
        if sys::mlirLocationIsAName(loc) {
            return position(sys::mlirLocationNameGetChildLoc(loc));
        }
        if sys::mlirLocationIsACallSite(loc) {
            return position(sys::mlirLocationCallSiteGetCallee(loc))
                .or_else(|| position(sys::mlirLocationCallSiteGetCaller(loc)));
        }
        if sys::mlirLocationIsAFused(loc) {
            let n = sys::mlirLocationFusedGetNumLocations(loc) as usize;
            let mut parts = vec![sys::mlirLocationUnknownGet(sys::mlirLocationGetContext(loc)); n];
            sys::mlirLocationFusedGetLocations(loc, parts.as_mut_ptr());
            return parts.into_iter().find_map(position);
        }
        None
    }
}
