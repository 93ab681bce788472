//! `nibble ops`: the table of supported ONNX ops (Markdown).

use crate::error::Res;

pub fn run() -> Res<()> {
    print!("{}", nibble_frontend::ops_markdown());
    Ok(())
}
