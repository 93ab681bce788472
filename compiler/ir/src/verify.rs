//! The check behind `nibble opt --verify-diagnostics`, as MLIR's
//! `SourceMgrDiagnosticVerifierHandler` does it (the C API does not reach that class): the
//! `expected-*` annotations of a source text against the diagnostics processing it emitted,
//! failing on a mismatch in either direction.
//!
//! An annotation is `expected-(error|note|remark|warning)(-re)? @WHERE {{text}}` anywhere on a
//! line; WHERE is empty (this line), `+N`/`-N` (N lines below/above), `above`/`below` (the
//! nearest line without an annotation) or `unknown` (a diagnostic without a file position).
//! The text must occur in the message; with `-re`, `{{…}}` groups inside it are regular
//! expressions. Each note counts as a diagnostic of its own. Two differences from MLIR, both
//! for nibble's passes: a diagnostic at line 0 (the implicit module's location, where nibble's
//! passes report their failures) counts as one without a file position (`@unknown`); and the
//! `see current operation` notes, which mlir-opt turns off under `--verify-diagnostics`, are
//! skipped.

use crate::diagnostics::{Diagnostic, Position, Severity};
use regex::Regex;
use std::sync::OnceLock;

/// One `expected-*` annotation.
struct Expected {
    severity: Severity,
    /// The line the diagnostic is expected on; `None` for `@unknown`.
    line: Option<u32>,
    /// Where the annotation is written (line, column), for the report.
    at: (u32, u32),
    text: String,
    /// For `-re`: the text as a regular expression.
    pattern: Option<Regex>,
    matched: bool,
}

impl Expected {
    fn matches(&self, message: &str) -> bool {
        match &self.pattern {
            Some(re) => re.is_match(message),
            None => message.contains(&self.text),
        }
    }
}

fn annotation() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"expected-(error|note|remark|warning)(-re)? *(@([+-][0-9]+|above|below|unknown))? *\{\{(.*)\}\}$",
        )
        .expect("a valid regular expression")
    })
}

/// `-re` text: `{{…}}` groups are regular expressions, the rest is literal.
fn pattern(text: &str) -> Result<Regex, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&regex::escape(&rest[..start]));
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or("found start of regex with no end '}}'")?;
        out.push_str(&format!("({})", &after[..end]));
        rest = &after[end + 2..];
    }
    out.push_str(&regex::escape(rest));
    Regex::new(&out).map_err(|e| format!("invalid regex: {e}"))
}

/// The annotations of `text`, or the messages (`line`, `column`, why) of those that are malformed.
fn expectations(text: &str) -> (Vec<Expected>, Vec<(u32, u32, String)>) {
    let lines: Vec<&str> = text.split('\n').collect();
    let (mut found, mut bad) = (Vec::new(), Vec::new());
    let mut last_plain = 0u32; // the last line without an annotation (counted from 1; 0: none)
    let mut waiting: Vec<usize> = Vec::new(); // `@below` annotations for the next such line
    for (i, line) in lines.iter().enumerate() {
        let no = i as u32 + 1;
        let Some(c) = annotation().captures(line.trim_end()) else {
            for w in waiting.drain(..) {
                let e: &mut Expected = &mut found[w];
                e.line = Some(no);
            }
            last_plain = no;
            continue;
        };
        let column = c.get(0).map_or(0, |m| m.start()) as u32 + 1;
        let text = c[5].to_string();
        let pattern = match c.get(2) {
            Some(_) => match pattern(&text) {
                Ok(p) => Some(p),
                Err(why) => {
                    bad.push((no, column, why));
                    continue;
                }
            },
            None => None,
        };
        let line = match c.get(4).map(|m| m.as_str()) {
            None => Some(no),
            Some("unknown") => None,
            Some("above") => Some(last_plain),
            Some("below") => {
                waiting.push(found.len());
                Some(lines.len() as u32) // where a dangling `@below` ends up, as in MLIR
            }
            Some(offset) => {
                let n: i64 = offset.parse().unwrap_or(0);
                Some((no as i64 + n).max(0) as u32)
            }
        };
        found.push(Expected {
            severity: Severity::from_name(&c[1]).unwrap_or(Severity::Error),
            line,
            at: (no, column),
            text,
            pattern,
            matched: false,
        });
    }
    (found, bad)
}

/// Checks the diagnostics emitted while processing `text` against its annotations. `source`
/// names the text in the report; `ours` tells whether a position lies in the text (and not in
/// another file). Returns one `error:` line per mismatch: nothing when all agree.
pub fn verify(
    text: &str,
    source: &str,
    diagnostics: &[Diagnostic],
    ours: impl Fn(&Position) -> bool,
) -> Vec<String> {
    let (mut expected, bad) = expectations(text);
    let mut report: Vec<String> = bad
        .into_iter()
        .map(|(l, c, why)| format!("{source}:{l}:{c}: error: {why}"))
        .collect();
    let flat = diagnostics.iter().flat_map(|d| {
        std::iter::once(d).chain(
            d.notes
                .iter()
                .filter(|n| !n.message.starts_with("see current operation:")),
        )
    });
    for d in flat {
        if let Some(problem) = check(&mut expected, d, source, &ours) {
            report.push(problem);
        }
    }
    for e in expected.iter().filter(|e| !e.matched) {
        report.push(format!(
            "{source}:{}:{}: error: expected {} \"{}\" was not produced",
            e.at.0,
            e.at.1,
            e.severity.name(),
            e.text
        ));
    }
    report
}

/// Marks the annotation `d` fulfils; otherwise the mismatch to report.
fn check(
    expected: &mut [Expected],
    d: &Diagnostic,
    source: &str,
    ours: &impl Fn(&Position) -> bool,
) -> Option<String> {
    // `None`: no file position (or line 0); `Some(None)`: a position in another file.
    let line = match &d.position {
        Some(p) if p.line == 0 => None,
        Some(p) if ours(p) => Some(Some(p.line)),
        Some(_) => Some(None),
        None => None,
    };
    let mut near = None;
    for e in expected.iter_mut() {
        let here = match line {
            None => e.line.is_none(),
            Some(l) => l.is_some() && e.line == l,
        };
        if here && e.matches(&d.message) {
            if e.severity == d.severity {
                e.matched = true;
                return None;
            }
            near = Some((e.at, e.severity));
        }
    }
    Some(match near {
        Some(((l, c), want)) => format!(
            "{source}:{l}:{c}: error: '{}' diagnostic emitted when expecting a '{}'",
            d.severity.name(),
            want.name()
        ),
        None => {
            let place = match &d.position {
                Some(p) if ours(p) => format!("{source}:{}:{}: ", p.line, p.column),
                Some(p) => format!("{}:{}:{}: ", p.file, p.line, p.column),
                None => String::new(),
            };
            format!(
                "{place}error: unexpected {}: {}",
                d.severity.name(),
                d.message
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(severity: Severity, line: u32, message: &str) -> Diagnostic {
        Diagnostic {
            severity,
            position: Some(Position {
                file: "t.mlir".into(),
                line,
                column: 3,
            }),
            message: message.into(),
            notes: vec![],
        }
    }

    fn run(text: &str, diags: &[Diagnostic]) -> Vec<String> {
        verify(text, "t.mlir", diags, |p| p.file == "t.mlir")
    }

    const TEXT: &str = "// expected-error @+1 {{bad op}}\n\
                        %0 = op\n\
                        %1 = other // expected-warning {{careful}}\n\
                        // expected-remark @below {{later}}\n\
                        // expected-error @above {{twice}}\n\
                        %2 = last\n\
                        // expected-error @unknown {{nowhere}}\n";

    #[test]
    fn every_designator_finds_its_line() {
        let diags = [
            diag(Severity::Error, 2, "the bad op here"),
            diag(Severity::Warning, 3, "be careful"),
            diag(Severity::Remark, 6, "later on"),
            diag(Severity::Error, 2, "twice"),
            diag(Severity::Error, 0, "from nowhere"),
        ];
        assert_eq!(run(TEXT, &diags), Vec::<String>::new());
    }

    #[test]
    fn mismatches_are_reported_both_ways() {
        let diags = [
            diag(Severity::Error, 3, "bad op"),
            diag(Severity::Error, 3, "careful"),
        ];
        let report = run(TEXT, &diags);
        assert!(report.contains(&"t.mlir:3:3: error: unexpected error: bad op".to_string()));
        assert!(report.contains(
            &"t.mlir:3:15: error: 'error' diagnostic emitted when expecting a 'warning'"
                .to_string()
        ));
        assert!(report.contains(
            &"t.mlir:1:4: error: expected error \"bad op\" was not produced".to_string()
        ));
        assert_eq!(report.len(), 7);
    }

    #[test]
    fn notes_count_alone_and_current_operation_is_skipped() {
        let mut d = diag(Severity::Error, 1, "x");
        d.notes = vec![
            diag(Severity::Note, 1, "see current operation: %0 = op"),
            diag(Severity::Note, 1, "because"),
        ];
        let text = "op // expected-error {{x}}\n// expected-note @-1 {{because}}";
        assert_eq!(run(text, &[d]), Vec::<String>::new());
    }

    #[test]
    fn regex_groups_and_positions_elsewhere() {
        let text = "op // expected-error-re {{value {{[0-9]+}} (too big)}}";
        assert!(run(text, &[diag(Severity::Error, 1, "value 42 (too big)")]).is_empty());
        assert_eq!(
            run(text, &[diag(Severity::Error, 1, "value x (too big)")]).len(),
            2
        );
        let mut other = diag(Severity::Error, 1, "value 42 (too big)");
        if let Some(p) = other.position.as_mut() {
            p.file = "other.mlir".into();
        }
        assert_eq!(
            run(text, &[other])[0],
            "other.mlir:1:3: error: unexpected error: value 42 (too big)"
        );
        let bad = run("// expected-error-re {{a {{[0-9]+}}", &[]);
        assert!(
            bad[0].contains("found start of regex with no end"),
            "{bad:?}"
        );
    }
}
