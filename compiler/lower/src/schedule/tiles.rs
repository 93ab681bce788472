//! The geometry of a layer's tiles: for output rows `[r0, r1)` and channels `[c0, c1)`, the
//! box of every operand the tile reads (input rows with their halo, a channel slice of the
//! weights and bias), the box of the result it writes, and the attributes of its compute op
//! that differ from the layer's (the padding at the tile's edges, the channel slice of
//! per-channel requantization fields). A tile computed by the layer's own op on these boxes
//! gives exactly the layer's values in its output box: rows outside the image are padding in
//! both, so every window sees the same taps.

use crate::{schedule_err, LowerError};
use nibble_ir::{Attr, Func, Op};
use nibble_tile as tile;

/// A box of a tensor: where it starts and its size, per dimension.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TensorBox {
    pub start: Vec<i64>,
    pub size: Vec<i64>,
}

impl TensorBox {
    /// The whole of a tensor of `shape`.
    pub fn whole(shape: &[i64]) -> TensorBox {
        TensorBox {
            start: vec![0; shape.len()],
            size: shape.to_vec(),
        }
    }
    pub fn elements(&self) -> i64 {
        self.size.iter().product()
    }
}

/// How a layer is cut into tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// NHWC windows (conv, depthwise, pooling): output rows with their input halo, and
    /// channels (output channels of a conv; the channels themselves for the others).
    Window,
    /// Fully connected `[N, K] × [M, K]ᵀ`: output channels only.
    Dense,
    /// Elementwise: rows along `axis` of the result.
    Rows { axis: usize },
}

/// What a layer's tiling needs to know about its op.
#[derive(Clone, Debug)]
pub struct Layer {
    pub shape: Shape,
    /// Extent of the row axis (output rows; 1 for dense layers).
    pub rows: i64,
    /// Extent of the channel axis (1 for elementwise ops).
    pub channels: i64,
    /// Kernel height, stride and dilation along rows, and the input's height (window ops).
    kh: i64,
    stride: i64,
    dilation: i64,
    in_h: i64,
    pad_top: i64,
}

/// One tile: the boxes it reads (one per operand), the box it writes, and attribute overrides.
#[derive(Clone, Debug)]
pub struct Tile {
    pub rows: (i64, i64),
    pub chans: (i64, i64),
    pub inputs: Vec<TensorBox>,
    pub output: TensorBox,
    pub attrs: Vec<(String, Attr)>,
}

/// The shape of `v`.
fn shape(f: &Func, op: &Op, v: usize) -> Result<Vec<i64>, LowerError> {
    f.ty(v)
        .shape()
        .map(<[i64]>::to_vec)
        .ok_or_else(|| schedule_err(op, "scheduling needs ranked tensors"))
}

/// Whether the layer's op tiles along channels with per-channel requantization fields.
fn per_channel(op: &Op) -> bool {
    matches!(
        op.name.as_str(),
        tile::CONV2D | tile::DEPTHWISE_CONV2D | tile::FULLY_CONNECTED
    )
}

impl Layer {
    /// The tiling geometry of `op`, a layer the accelerator computes.
    pub fn of(f: &Func, op: &Op) -> Result<Layer, LowerError> {
        let out = shape(f, op, op.results[0])?;
        let win = |kh: i64, stride: i64, dilation: i64| -> Result<Layer, LowerError> {
            let x = shape(f, op, op.operands[0])?;
            let pad = op.ints("pad")?;
            if x.len() != 4 || out.len() != 4 || pad.len() != 4 {
                return Err(schedule_err(op, "needs NHWC tensors and pad[4]"));
            }
            Ok(Layer {
                shape: Shape::Window,
                rows: out[1],
                channels: out[3],
                kh,
                stride,
                dilation,
                in_h: x[1],
                pad_top: pad[0],
            })
        };
        let geometry = || -> Result<(i64, i64), LowerError> {
            let (s, d) = (op.ints("stride")?, op.ints("dilation")?);
            match (s.first(), d.first()) {
                (Some(&s), Some(&d)) => Ok((s, d)),
                _ => Err(schedule_err(op, "needs stride[2] and dilation[2]")),
            }
        };
        match op.name.as_str() {
            tile::CONV2D => {
                let (s, d) = geometry()?;
                win(shape(f, op, op.operands[1])?[1], s, d)
            }
            tile::DEPTHWISE_CONV2D => {
                let (s, d) = geometry()?;
                win(shape(f, op, op.operands[1])?[0], s, d)
            }
            tile::MAX_POOL2D | tile::AVG_POOL2D => {
                let (k, s) = (op.ints("kernel")?, op.ints("stride")?);
                match (k.first(), s.first()) {
                    (Some(&k), Some(&s)) => win(k, s, 1),
                    _ => Err(schedule_err(op, "needs kernel[2] and stride[2]")),
                }
            }
            tile::FULLY_CONNECTED if out.len() == 2 => Ok(Layer {
                shape: Shape::Dense,
                rows: 1,
                channels: out[1],
                kh: 1,
                stride: 1,
                dilation: 1,
                in_h: 1,
                pad_top: 0,
            }),
            _ => {
                // Elementwise: the first axis longer than 1 (or the last).
                let axis = out
                    .iter()
                    .position(|&d| d > 1)
                    .unwrap_or(out.len().saturating_sub(1));
                Ok(Layer {
                    shape: Shape::Rows { axis },
                    rows: out.get(axis).copied().unwrap_or(1),
                    channels: 1,
                    kh: 1,
                    stride: 1,
                    dilation: 1,
                    in_h: 1,
                    pad_top: 0,
                })
            }
        }
    }

    /// Input rows `[a, b)` (inside the image) and the padding above and below that output rows
    /// `[r0, r1)` of a window op read.
    pub fn input_rows(&self, r0: i64, r1: i64) -> (i64, i64, i64, i64) {
        let first = r0 * self.stride - self.pad_top;
        let last = (r1 - 1) * self.stride - self.pad_top + (self.kh - 1) * self.dilation;
        let (a, b) = (first.max(0), (last + 1).min(self.in_h));
        (
            a,
            b.max(a),
            (-first).max(0),
            (last - (self.in_h - 1)).max(0),
        )
    }

    /// The tile of output rows `[r0, r1)` and channels `[c0, c1)` of `op`.
    pub fn tile(
        &self,
        f: &Func,
        op: &Op,
        rows: (i64, i64),
        chans: (i64, i64),
    ) -> Result<Tile, LowerError> {
        let out = shape(f, op, op.results[0])?;
        let (r0, r1) = rows;
        let (c0, c1) = chans;
        let mut attrs = Vec::new();
        let (inputs, output) = match self.shape {
            Shape::Window => {
                let x = shape(f, op, op.operands[0])?;
                let (a, b, top, bottom) = self.input_rows(r0, r1);
                let mut pad = op.ints("pad")?;
                pad[0] = top;
                pad[1] = bottom;
                attrs.push(("pad".to_string(), Attr::I64s(pad)));
                let conv = op.name == tile::CONV2D;
                // A conv reads all input channels; the others read their own channels.
                let (xc0, xc) = if conv { (0, x[3]) } else { (c0, c1 - c0) };
                let mut inputs = vec![TensorBox {
                    start: vec![0, a, 0, xc0],
                    size: vec![1, b - a, x[2], xc],
                }];
                if op.operands.len() == 3 {
                    let w = shape(f, op, op.operands[1])?;
                    inputs.push(if conv {
                        TensorBox {
                            start: vec![c0, 0, 0, 0],
                            size: vec![c1 - c0, w[1], w[2], w[3]],
                        }
                    } else {
                        TensorBox {
                            start: vec![0, 0, c0, 0],
                            size: vec![w[0], w[1], c1 - c0, w[3]],
                        }
                    });
                    inputs.push(TensorBox {
                        start: vec![c0],
                        size: vec![c1 - c0],
                    });
                }
                let output = TensorBox {
                    start: vec![0, r0, 0, c0],
                    size: vec![1, r1 - r0, out[2], c1 - c0],
                };
                (inputs, output)
            }
            Shape::Dense => {
                let (x, w) = (shape(f, op, op.operands[0])?, shape(f, op, op.operands[1])?);
                let inputs = vec![
                    TensorBox::whole(&x),
                    TensorBox {
                        start: vec![c0, 0],
                        size: vec![c1 - c0, w[1]],
                    },
                    TensorBox {
                        start: vec![c0],
                        size: vec![c1 - c0],
                    },
                ];
                let output = TensorBox {
                    start: vec![0, c0],
                    size: vec![out[0], c1 - c0],
                };
                (inputs, output)
            }
            Shape::Rows { axis } => {
                let mut output = TensorBox::whole(&out);
                if let (Some(s), Some(n)) = (output.start.get_mut(axis), output.size.get_mut(axis))
                {
                    *s = r0;
                    *n = r1 - r0;
                }
                let mut inputs = Vec::new();
                for &v in &op.operands {
                    let s = shape(f, op, v)?;
                    let mut b = TensorBox::whole(&s);
                    if s.len() == out.len() && s[axis] == out[axis] {
                        b.start[axis] = r0;
                        b.size[axis] = r1 - r0;
                    }
                    inputs.push(b);
                }
                (inputs, output)
            }
        };
        if per_channel(op) && (c0, c1) != (0, self.channels) {
            attrs.extend(channel_slice(op, c0, c1));
        }
        Ok(Tile {
            rows,
            chans,
            inputs,
            output,
            attrs,
        })
    }
}

/// The per-channel requantization fields of `op` restricted to channels `[c0, c1)` (a field
/// with one entry applies to every channel and stays).
fn channel_slice(op: &Op, c0: i64, c1: i64) -> Vec<(String, Attr)> {
    let (a, b) = (c0 as usize, c1 as usize);
    let mut out = Vec::new();
    for key in ["multiplier", "shift", "neg_multiplier", "neg_shift"] {
        if let Some(Attr::I32s(v)) = op.attrs.get(key) {
            if v.len() > 1 && b <= v.len() {
                out.push((key.to_string(), Attr::I32s(v[a..b].to_vec())));
            }
        }
    }
    if let Some(Attr::I64s(h)) = op.attrs.get("hswish") {
        if h.len() > 5 && 2 + 3 * b <= h.len() {
            let mut s = h[..2].to_vec();
            s.extend_from_slice(&h[2 + 3 * a..2 + 3 * b]);
            out.push(("hswish".to_string(), Attr::I64s(s)));
        }
    }
    out
}
