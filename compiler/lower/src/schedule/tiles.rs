//! The geometry of a layer's tiles: for output rows `[r0, r1)`, columns `[x0, x1)` and
//! channels `[c0, c1)`, the box of every operand the tile reads (input rows and columns with
//! their halo, a channel slice of the weights and bias), the box of the result it writes, and
//! the attributes of its compute op that differ from the layer's (the padding at the tile's
//! edges, the channel slice of per-channel requantization fields). A tile computed by the
//! layer's own op on these boxes gives exactly the layer's values in its output box: pixels
//! outside the image are padding in both, so every window sees the same taps. Columns are
//! split only when a single output row does not fit (wide images on a small SRAM). An
//! elementwise op is cut along two axes of its result, its first axis longer than 1 (rows)
//! and the next one longer than 1 (columns), so a tile of it can be as small as one element
//! of each: every operand's box follows the result's along both (broadcast operands are read
//! whole along an axis they broadcast).

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
    /// NHWC windows (conv, depthwise, pooling): output rows and columns with their input
    /// halo, and channels (output channels of a conv; the channels themselves for the others).
    Window,
    /// Fully connected `[N, K] × [M, K]ᵀ`: output channels only.
    Dense,
    /// Elementwise: rows along `axis` of the result and columns along `col_axis` (the next
    /// axis longer than 1, if any).
    Rows {
        axis: usize,
        col_axis: Option<usize>,
    },
}

/// One spatial axis of a window op: kernel extent, stride, dilation, input extent, padding
/// before.
#[derive(Clone, Copy, Debug, Default)]
pub struct Axis {
    k: i64,
    stride: i64,
    dilation: i64,
    input: i64,
    pad: i64,
}

impl Axis {
    /// Input indices `[a, b)` (inside the input) and the padding before and after that outputs
    /// `[o0, o1)` read.
    pub fn input_range(&self, o0: i64, o1: i64) -> (i64, i64, i64, i64) {
        let first = o0 * self.stride - self.pad;
        let last = (o1 - 1) * self.stride - self.pad + (self.k - 1) * self.dilation;
        let (a, b) = (first.max(0), (last + 1).min(self.input));
        (
            a,
            b.max(a),
            (-first).max(0),
            (last - (self.input - 1)).max(0),
        )
    }
}

/// What a layer's tiling needs to know about its op.
#[derive(Clone, Debug)]
pub struct Layer {
    pub shape: Shape,
    /// Extent of the row axis (output rows; 1 for dense layers).
    pub rows: i64,
    /// Extent of the column axis (output columns of window ops, the column axis of
    /// elementwise ops; 1 otherwise).
    pub cols: i64,
    /// Extent of the channel axis (1 for elementwise ops).
    pub channels: i64,
    /// The window's rows and columns (window ops).
    row: Axis,
    col: Axis,
}

/// One tile: the boxes it reads (one per operand), the box it writes, and attribute overrides.
#[derive(Clone, Debug)]
pub struct Tile {
    pub rows: (i64, i64),
    pub cols: (i64, i64),
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

/// A two-entry integer-array attribute.
fn pair(op: &Op, key: &str) -> Result<[i64; 2], LowerError> {
    match op.ints(key)?[..] {
        [a, b] => Ok([a, b]),
        _ => Err(schedule_err(op, format!("needs {key}[2]"))),
    }
}

impl Layer {
    /// The tiling geometry of `op`, a layer the accelerator computes.
    pub fn of(f: &Func, op: &Op) -> Result<Layer, LowerError> {
        let out = shape(f, op, op.results[0])?;
        let other = |shape: Shape, rows: i64, channels: i64| Layer {
            shape,
            rows,
            cols: 1,
            channels,
            row: Axis::default(),
            col: Axis::default(),
        };
        let (k, s, d) = match op.name.as_str() {
            tile::CONV2D => {
                let w = shape(f, op, op.operands[1])?;
                ([w[1], w[2]], pair(op, "stride")?, pair(op, "dilation")?)
            }
            tile::DEPTHWISE_CONV2D => {
                let w = shape(f, op, op.operands[1])?;
                ([w[0], w[1]], pair(op, "stride")?, pair(op, "dilation")?)
            }
            tile::MAX_POOL2D | tile::AVG_POOL2D => {
                (pair(op, "kernel")?, pair(op, "stride")?, [1, 1])
            }
            tile::FULLY_CONNECTED if out.len() == 2 => return Ok(other(Shape::Dense, 1, out[1])),
            _ => {
                // Elementwise: the first axis longer than 1 (or the last), then the next one.
                let last = out.len().saturating_sub(1);
                let axis = out.iter().position(|&d| d > 1).unwrap_or(last);
                let rows = out.get(axis).copied().unwrap_or(1);
                let col_axis = (axis + 1..out.len()).find(|&a| out[a] > 1);
                let mut l = other(Shape::Rows { axis, col_axis }, rows, 1);
                l.cols = col_axis.map_or(1, |a| out[a]);
                return Ok(l);
            }
        };
        let x = shape(f, op, op.operands[0])?;
        let pad = op.ints("pad")?;
        if x.len() != 4 || out.len() != 4 || pad.len() != 4 {
            return Err(schedule_err(op, "needs NHWC tensors and pad[4]"));
        }
        let axis = |a: usize| Axis {
            k: k[a],
            stride: s[a],
            dilation: d[a],
            input: x[1 + a],
            pad: pad[2 * a],
        };
        Ok(Layer {
            shape: Shape::Window,
            rows: out[1],
            cols: out[2],
            channels: out[3],
            row: axis(0),
            col: axis(1),
        })
    }

    /// The boxes of a window op's tile and its padding.
    fn window(&self, f: &Func, op: &Op, t: &mut Tile) -> Result<(), LowerError> {
        let x = shape(f, op, op.operands[0])?;
        let ((r0, r1), (x0, x1), (c0, c1)) = (t.rows, t.cols, t.chans);
        let (a, b, top, bottom) = self.row.input_range(r0, r1);
        let (l, r, left, right) = self.col.input_range(x0, x1);
        t.attrs
            .push(("pad".into(), Attr::I64s(vec![top, bottom, left, right])));
        // A conv reads all input channels; the others read their own channels.
        let conv = op.name == tile::CONV2D;
        let (xc0, xc) = if conv { (0, x[3]) } else { (c0, c1 - c0) };
        t.inputs.push(TensorBox {
            start: vec![0, a, l, xc0],
            size: vec![1, b - a, r - l, xc],
        });
        if op.operands.len() == 3 {
            let w = shape(f, op, op.operands[1])?;
            t.inputs.push(if conv {
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
            t.inputs.push(TensorBox {
                start: vec![c0],
                size: vec![c1 - c0],
            });
        }
        t.output = TensorBox {
            start: vec![0, r0, x0, c0],
            size: vec![1, r1 - r0, x1 - x0, c1 - c0],
        };
        Ok(())
    }

    /// The boxes of a fully connected layer's tile (channels `[c0, c1)`).
    fn dense(&self, f: &Func, op: &Op, t: &mut Tile) -> Result<(), LowerError> {
        let (x, w) = (shape(f, op, op.operands[0])?, shape(f, op, op.operands[1])?);
        let out = shape(f, op, op.results[0])?;
        let (c0, c1) = t.chans;
        t.inputs = vec![
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
        t.output = TensorBox {
            start: vec![0, c0],
            size: vec![out[0], c1 - c0],
        };
        Ok(())
    }

    /// The boxes of an elementwise op's tile: rows `[r0, r1)` along `axis` and columns
    /// `[x0, x1)` along `col_axis` of the result and of every operand as long (operands
    /// broadcast along an axis are read whole along it).
    fn elementwise(
        f: &Func,
        op: &Op,
        axes: (usize, Option<usize>),
        t: &mut Tile,
    ) -> Result<(), LowerError> {
        let out = shape(f, op, op.results[0])?;
        let cuts: Vec<(usize, (i64, i64))> = std::iter::once((axes.0, t.rows))
            .chain(axes.1.map(|a| (a, t.cols)))
            .collect();
        t.output = TensorBox::whole(&out);
        for &(a, (r0, r1)) in &cuts {
            if let (Some(s), Some(n)) = (t.output.start.get_mut(a), t.output.size.get_mut(a)) {
                *s = r0;
                *n = r1 - r0;
            }
        }
        for &v in &op.operands {
            let s = shape(f, op, v)?;
            let mut b = TensorBox::whole(&s);
            for &(a, (r0, r1)) in &cuts {
                if s.len() == out.len() && s.get(a) == out.get(a) {
                    b.start[a] = r0;
                    b.size[a] = r1 - r0;
                }
            }
            t.inputs.push(b);
        }
        Ok(())
    }

    /// The tile of output rows `rows`, columns `cols` and channels `chans` of `op`.
    pub fn tile(
        &self,
        f: &Func,
        op: &Op,
        rows: (i64, i64),
        cols: (i64, i64),
        chans: (i64, i64),
    ) -> Result<Tile, LowerError> {
        let mut t = Tile {
            rows,
            cols,
            chans,
            inputs: Vec::new(),
            output: TensorBox::whole(&[]),
            attrs: Vec::new(),
        };
        match self.shape {
            Shape::Window => self.window(f, op, &mut t)?,
            Shape::Dense => self.dense(f, op, &mut t)?,
            Shape::Rows { axis, col_axis } => Layer::elementwise(f, op, (axis, col_axis), &mut t)?,
        }
        if per_channel(op) && chans != (0, self.channels) {
            t.attrs.extend(channel_slice(op, chans.0, chans.1));
        }
        Ok(t)
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
