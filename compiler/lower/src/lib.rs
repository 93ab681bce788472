//! Conversions between levels: [`to_qnt`] (graph → qnt, the quantization decisions) and
//! [`to_tile`] (qnt → tile for a target, with the static memory plan).

pub mod to_qnt;
pub mod to_tile;

#[derive(Debug, thiserror::Error)]
pub enum LowerError {
    #[error("cannot quantize '{op}'{loc}: {msg}")]
    Quantize {
        op: String,
        loc: String,
        msg: String,
    },
    #[error("cannot lower '{op}'{loc} to the tile level: {msg}")]
    Tile {
        op: String,
        loc: String,
        msg: String,
    },
    #[error(transparent)]
    Ir(#[from] nibble_ir::IrError),
    #[error(transparent)]
    Quant(#[from] nibble_quantize::QuantError),
}

pub(crate) fn loc(op: &nibble_ir::Op) -> String {
    op.loc
        .as_deref()
        .map(|l| format!(" at {l}"))
        .unwrap_or_default()
}
