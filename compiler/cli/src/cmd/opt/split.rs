//! `--split-input-file`: a file cut at its marker lines (`// -----`) into parts that are
//! processed one by one, as mlir-opt does. A part keeps the numbers of its lines (it is read
//! after as many empty lines as precede it), so its diagnostics and its `expected-*`
//! annotations point into the file as a whole.

/// The default marker between the parts of an input, and between the parts of the output.
pub const MARKER: &str = "// -----";

/// One part of a split file.
pub struct Chunk {
    /// The number of its first line in the file (from 1).
    first_line: usize,
    text: String,
}

impl Chunk {
    /// The whole file as one part.
    pub fn whole(text: &str) -> Chunk {
        Chunk {
            first_line: 1,
            text: text.to_string(),
        }
    }

    /// The part's text after as many empty lines as come before it in the file.
    pub fn padded(&self) -> String {
        "\n".repeat(self.first_line - 1) + &self.text
    }
}

/// `text` cut at the lines that read `marker` (surrounding blanks aside).
pub fn chunks(text: &str, marker: &str) -> Vec<Chunk> {
    let marker = marker.trim();
    let (mut out, mut lines, mut first_line) = (Vec::new(), Vec::new(), 1);
    for (i, line) in text.split('\n').enumerate() {
        if line.trim() == marker {
            out.push(Chunk {
                first_line,
                text: lines.join("\n"),
            });
            lines.clear();
            first_line = i + 2;
        } else {
            lines.push(line);
        }
    }
    out.push(Chunk {
        first_line,
        text: lines.join("\n"),
    });
    out
}
