//! Names and fingerprints in the generated C: model-supplied text made safe inside comments,
//! and the model id that ties the files of one compile together.

use std::fmt::Write;

/// `text` made safe inside a C block comment: ASCII letters, digits and ` _./:-[]()#,=+@"`
/// stay, every other byte (`*`, `?`, `\`, `%`, control characters, UTF-8) becomes
/// `%XX`. So no name from a model can close the comment (`*/`), open a nested one, form a
/// trigraph or splice a line: names are data, never code.
pub fn c_comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b" _./:-[]()#,=+@\"".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// 64-bit FNV-1a of `bytes`: a stable fingerprint of the generated model.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `0x…ULL`: the model id as a C constant.
pub(crate) fn model_id(id: u64) -> String {
    format!("0x{id:016X}ULL")
}

/// The preprocessor check model.c and main.c start with: built against a model.h of another
/// compile, they fail to build instead of running on the wrong layout.
pub(crate) fn id_check(id: u64) -> String {
    [
        format!("#if NIBBLE_MODEL_ID != {}", model_id(id)),
        "#error \"these files come from different compiles: compile again into an empty directory\""
            .to_string(),
        "#endif".to_string(),
    ]
    .map(|line| line + "\n")
    .concat()
}
