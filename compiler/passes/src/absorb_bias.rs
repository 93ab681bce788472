//! `nibble-absorb-bias`: high-bias absorption (Nagel et al. 2019, data-free quantization). Where
//! a conv A feeds a conv B alone through a ReLU, and channel c of A's output never fell below
//! `m_c > 0` on the calibration vectors (`nibble.channel_min`, written by `nibble compile
//! --equalize`), then `relu(x) = relu(x − m_c) + m_c` for every such x: A's bias gives up m_c and
//! B's bias takes `Σ_taps W_B[o, tap, c]·m_c` instead. The ReLU's output range starts at 0
//! instead of m_c, which a symmetric grid (centred on 0) no longer spends levels on; an
//! asymmetric grid's zero point already did that.
//!
//! Only where B reads no padding (a 1×1 conv, or any conv without padding): a padded tap reads
//! 0, which the shift would turn into −m_c. For inputs below the calibrated minimum the result
//! differs (as any calibrated range clips them).
//!
//! Precondition: graph level after `nibble-fold-batchnorm`, with `nibble.channel_min/max` on A.
//! Postcondition: A's bias and channel ranges lowered by m, B's bias raised by W_B·m.
//!
//! Before:
//! ```mlir
//! %a = tosa.conv2d %x, %wa, %ba … {nibble.channel_min = dense<[0.5, -1.0]>}
//! %r = tosa.clamp %a {min_val = 0.0, max_val = +∞} ; %b = tosa.conv2d %r, %wb, %bb …
//! ```
//! After:
//! ```mlir
//! // ba' = ba − [0.5, 0], bb' = bb + W_B·[0.5, 0]
//! %a = tosa.conv2d %x, %wa, %ba' … {nibble.channel_min = dense<[0.0, -1.0]>}
//! %r = tosa.clamp %a {…} ; %b = tosa.conv2d %r, %wb, %bb' …
//! ```

use crate::{const_f32, set_dense_f32, Options, PassInfo};
use nibble_graph::{attrs, tosa};
use nibble_ir::Func;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-absorb-bias",
    summary: "High-bias absorption: a channel's calibrated minimum through a ReLU into the next conv's bias",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-absorb-bias")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let mut f = f.clone();
    let producers = f.producers();
    let uses = f.use_counts();
    let reader = |f: &Func, v: usize| f.ops.iter().position(|o| o.operands.first() == Some(&v));
    let mut channels = 0;
    for a in 0..f.ops.len() {
        if !matches!(
            f.ops[a].name.as_str(),
            tosa::CONV2D | tosa::DEPTHWISE_CONV2D
        ) {
            continue;
        }
        let Some(lo) = f.ops[a].dense_f32(attrs::CHANNEL_MIN) else {
            continue;
        };
        let y = f.ops[a].results[0];
        let Some(r) = reader(&f, y).filter(|_| uses[y] == 1 && !f.returns.contains(&y)) else {
            continue;
        };
        let relu = f.ops[r].name == tosa::CLAMP
            && f.ops[r].float("min_val").ok() == Some(0.0)
            && f.ops[r]
                .float("max_val")
                .is_ok_and(|m| m >= f32::MAX as f64);
        let z = f.ops[r].results[0];
        let Some(b) = reader(&f, z).filter(|_| relu && uses[z] == 1 && !f.returns.contains(&z))
        else {
            continue;
        };
        let op_b = f.ops[b].clone();
        let unpadded = op_b.ints("pad").is_ok_and(|p| p.iter().all(|&v| v == 0));
        if op_b.name != tosa::CONV2D || !unpadded {
            continue;
        }
        let (Some((ba_i, ba)), Some((_, wb)), Some((bb_i, bb))) = (
            const_f32(&f, &producers, f.ops[a].operands[2]),
            const_f32(&f, &producers, op_b.operands[1]),
            const_f32(&f, &producers, op_b.operands[2]),
        ) else {
            continue;
        };
        let c = lo.len();
        if ba.len() != c || [ba_i, bb_i].iter().any(|&i| uses[f.ops[i].results[0]] != 1) {
            continue;
        }
        let m: Vec<f64> = lo.iter().map(|&v| (v as f64).max(0.0)).collect();
        if m.iter().all(|&v| v == 0.0) {
            continue;
        }
        // B's weights OHWI: input channel of element j is j % c.
        let per = wb.len() / bb.len().max(1);
        let bb2: Vec<f32> = bb
            .iter()
            .enumerate()
            .map(|(o, &v)| {
                let row = &wb[o * per..(o + 1) * per];
                let add: f64 = row
                    .iter()
                    .enumerate()
                    .map(|(j, &w)| w as f64 * m[j % c])
                    .sum();
                (v as f64 + add) as f32
            })
            .collect();
        let ba2: Vec<f32> = ba
            .iter()
            .zip(&m)
            .map(|(&v, &k)| (v as f64 - k) as f32)
            .collect();
        set_dense_f32(&mut f, ba_i, "values", &ba2);
        set_dense_f32(&mut f, bb_i, "values", &bb2);
        for key in [attrs::CHANNEL_MIN, attrs::CHANNEL_MAX] {
            for i in [a, r] {
                if let Some(v) = f.ops[i].dense_f32(key) {
                    // A's range moves down by m; the ReLU's follows (never below 0).
                    let moved: Vec<f32> = v
                        .iter()
                        .zip(&m)
                        .map(|(&x, &k)| {
                            let y = x as f64 - k;
                            (if i == r { y.max(0.0) } else { y }) as f32
                        })
                        .collect();
                    set_dense_f32(&mut f, i, key, &moved);
                }
            }
        }
        channels += m.iter().filter(|&&v| v > 0.0).count();
    }
    tracing::info!(channels, "channel minima absorbed");
    Ok(f)
}
