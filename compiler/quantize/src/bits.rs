//! Per-tensor bit widths: which activations are stored in 16 bits instead of 8. The decision is
//! the attribute `nibble.bits = 16` on the graph-level op producing the tensor (absent: 8 bits),
//! read by the quantizer (to_qnt) like the ranges calibration leaves; 16-bit activations are
//! symmetric (zero point 0).

use nibble_graph::{attrs, tosa};
use nibble_ir::{Attr, Func};

/// Marks the results of the ops from each named ONNX node (their location; not its constants)
/// as `bits` wide. Every name must match at least one op.
pub fn set_bits(f: &mut Func, names: &[String], bits: u32) -> Result<(), crate::QuantError> {
    for name in names {
        let mut found = false;
        for op in f
            .ops
            .iter_mut()
            .filter(|o| o.loc_name() == *name && !tosa::is_constant(&o.name))
        {
            op.attrs.insert(attrs::BITS.into(), Attr::i64(bits as i64));
            found = true;
        }
        if !found {
            return Err(crate::QuantError::UnknownNode(name.clone()));
        }
    }
    Ok(())
}

/// The most activation bytes live at once when the `wide` values take 2 bytes an element and
/// the others 1: each value from its op to its last reader (the model's outputs to the end; a
/// reshape shares its input's storage, as in the tile level's memory plan). What the activation
/// arena must hold at least.
pub fn peak_activation_bytes(f: &Func, wide: &[bool]) -> usize {
    let producers = f.producers();
    // The value whose storage each value uses (through reshapes).
    let mut root: Vec<usize> = (0..f.values.len()).collect();
    let mut last = vec![0usize; f.values.len()];
    for (i, op) in f.ops.iter().enumerate() {
        if op.name == tosa::RESHAPE {
            root[op.results[0]] = root[op.operands[0]];
        }
        for &v in &op.operands {
            last[root[v]] = i;
        }
    }
    for &r in &f.returns {
        last[root[r]] = f.ops.len();
    }
    let is_const = |v: usize| producers[v].is_some_and(|p| tosa::is_constant(&f.ops[p].name));
    let bytes = |v: usize| f.ty(v).num_elements() * if wide[v] { 2 } else { 1 };
    let mut live: usize = f.args.iter().map(|&a| bytes(a)).sum();
    let mut peak = live;
    let mut ending: Vec<Vec<usize>> = vec![Vec::new(); f.ops.len() + 1];
    for &a in &f.args {
        ending[last[a]].push(a);
    }
    for (i, op) in f.ops.iter().enumerate() {
        for &r in &op.results {
            if root[r] == r && !is_const(r) {
                live += bytes(r);
                ending[last[r].max(i)].push(r);
            }
        }
        peak = peak.max(live);
        for v in std::mem::take(&mut ending[i]) {
            live -= bytes(v);
        }
    }
    peak
}

#[cfg(test)]
mod tests {
    use super::*;
    use nibble_ir::{Elem, Type};

    /// x[100] → a[10] → reshape r → b[50] (reads r and x): x is live until b, a (through its
    /// reshape) until b too, so the peak is at b: 100 + 10 + 50.
    #[test]
    fn peak_bytes_follows_liveness_and_reshape_aliases() {
        let mut f = Func::new("main");
        let t = |n: i64| Type::tensor(&[1, n], Elem::F32);
        let x = f.add_arg(t(100));
        let a = f.push(tosa::CLAMP, &[x], t(10), vec![]);
        let r = f.push(tosa::RESHAPE, &[a], t(10), vec![]);
        let b = f.push(tosa::ADD, &[r, x], t(50), vec![]);
        let c = f.push(tosa::CLAMP, &[b], t(5), vec![]);
        f.returns.push(c);
        let mut wide = vec![false; f.values.len()];
        assert_eq!(peak_activation_bytes(&f, &wide), 160);
        // a in 16 bits: 10 more bytes at the peak (the reshape shares them).
        wide[a] = true;
        assert_eq!(peak_activation_bytes(&f, &wide), 170);
        // c after x, a and r are dead: 50 + 5 never exceeds the peak.
        wide[c] = true;
        assert_eq!(peak_activation_bytes(&f, &wide), 170);
    }
}
