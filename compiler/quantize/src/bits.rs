//! Per-tensor bit widths: which activations are stored in 16 bits instead of 8. The decision is
//! the attribute `nibble.bits = 16` on the graph-level op producing the tensor (absent: 8 bits),
//! read by the quantizer (to_qnt) like the ranges calibration leaves; 16-bit activations are
//! symmetric (zero point 0).

use nibble_ir::{Attr, Func};

/// The graph-level attribute holding a result's bit width.
pub const BITS_ATTR: &str = "nibble.bits";

/// Marks the results of the ops from each named ONNX node (their location; not its constants)
/// as `bits` wide. Every name must match at least one op.
pub fn set_bits(f: &mut Func, names: &[String], bits: u32) -> Result<(), String> {
    for name in names {
        let mut found = false;
        for op in f
            .ops
            .iter_mut()
            .filter(|o| o.loc_name() == name && !o.name.starts_with("tosa.const"))
        {
            op.attrs.insert(BITS_ATTR.into(), Attr::i64(bits as i64));
            found = true;
        }
        if !found {
            return Err(format!(
                "no node named '{name}' in the model (names are ONNX node names, as `nibble report` lists them)"
            ));
        }
    }
    Ok(())
}
