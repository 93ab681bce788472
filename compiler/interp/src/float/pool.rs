//! Pooling in f32 over the shared window loop ([`crate::window::pool2d`]).

use crate::tensor::dims;
use crate::window::pool2d;
use crate::InterpError;
use nibble_graph::tosa;
use nibble_ir::{Func, Op};

/// tosa.max_pool2d and tosa.avg_pool2d (NHWC); an average counts only the taps inside the
/// input (count_include_pad = false).
pub(super) fn eval(f: &Func, op: &Op, x: &[f32]) -> Result<Vec<f32>, InterpError> {
    let (xs, os) = (dims(f, op.operands[0]), dims(f, op.results[0]));
    if op.name == tosa::AVG_POOL2D {
        return pool2d(
            op,
            x,
            &xs,
            &os,
            0.0f32,
            |a, v| a + v,
            |a, taps| a * (1.0 / taps.max(1) as f32),
        );
    }
    pool2d(
        op,
        x,
        &xs,
        &os,
        f32::NEG_INFINITY,
        // f32::max without its NaN case (a NaN tap is skipped either way): one vector max per
        // lane group.
        |a, x| if x > a { x } else { a },
        |a, _| a,
    )
}
