//! The work of each tile-level op on a target, the one place that turns shapes into cycles
//! (through `nibble_target::cost`): what the schedule's choices, `nibble estimate`, the
//! manifest and the simulator's cycle counts all rest on. A MAC-array op is a matrix product
//! ([`Gemm`]); a vector-unit op a number of element operations; an op the controller CPU runs
//! a number of operations (MACs or elements) at the CPU's rate.

use super::engine::{act_bits, weight_bits};
use nibble_ir::{Elem, Func, Op};
use nibble_target::cost::{self, Gemm};
use nibble_target::{Dataflow, Target};
use nibble_tile as tile;

/// What an op costs, by the unit that computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// A MAC-array tile: the product, weight and activation widths.
    Mac {
        gemm: Gemm,
        weight_bits: u32,
        act_bits: u32,
    },
    /// Element operations on the vector unit.
    Vector(u64),
    /// Operations on the controller CPU.
    Cpu(u64),
    /// Nothing to compute.
    Free,
}

/// The shapes an op's cost depends on (its own types, or a tile's boxes).
pub struct Shapes<'a> {
    pub inputs: Vec<&'a [i64]>,
    pub output: &'a [i64],
}

fn prod(s: &[i64]) -> u64 {
    s.iter().map(|&d| d.max(0) as u64).product()
}

/// The matrix product a conv2d / fully connected op of these shapes is.
pub fn gemm(name: &str, s: &Shapes) -> Option<Gemm> {
    let w = s.inputs.get(1)?;
    match name {
        tile::CONV2D if s.output.len() == 4 && w.len() == 4 => Some(Gemm {
            m: prod(&s.output[1..3]),
            n: s.output[3] as u64,
            k: prod(&w[1..]),
        }),
        tile::FULLY_CONNECTED if s.output.len() == 2 && w.len() == 2 => Some(Gemm {
            m: s.output[0] as u64,
            n: s.output[1] as u64,
            k: w[1] as u64,
        }),
        _ => None,
    }
}

/// Multiply-accumulates of an op of these shapes (0 for ops without a reduction).
pub fn macs(op: &Op, s: &Shapes) -> u64 {
    if let Some(g) = gemm(&op.name, s) {
        return g.macs();
    }
    let out = prod(s.output);
    match op.name.as_str() {
        tile::DEPTHWISE_CONV2D => s.inputs.get(1).map_or(0, |w| out * prod(&w[..2])),
        tile::TRANSPOSE_CONV2D => s.inputs.get(1).map_or(0, |w| out * prod(&w[1..])),
        tile::MATMUL => s
            .inputs
            .first()
            .map_or(0, |a| out * a.last().copied().unwrap_or(1) as u64),
        _ => 0,
    }
}

/// Kernel taps of a pooling op.
fn taps(op: &Op) -> u64 {
    op.ints("kernel").map(|k| prod(&k)).unwrap_or(1)
}

/// Element operations of an op of these shapes on the vector unit or the CPU: MACs for the
/// layers with a reduction, taps for pooling, a few per element for normalisations, one per
/// element (and per operand) otherwise.
pub fn element_ops(op: &Op, s: &Shapes) -> u64 {
    let out = prod(s.output);
    match op.name.as_str() {
        tile::MAX_POOL2D | tile::AVG_POOL2D => out * taps(op),
        tile::ADD | tile::MUL => out * 2,
        tile::SOFTMAX | tile::LAYER_NORM => out * 4,
        tile::SQUEEZE_EXCITE => {
            let x = s.inputs.first().map_or(out, |x| prod(x));
            let w = s.inputs.get(1).map_or(0, |w| prod(w));
            2 * x + 2 * w
        }
        _ => macs(op, s).max(out),
    }
}

/// The work of `op` (of shapes `s`) on the unit that computes it: on SRAM tiles when
/// `on_sram` (MAC array for conv2d/fully connected, else the vector unit), else the CPU.
pub fn work(f: &Func, op: &Op, s: &Shapes, on_sram: bool) -> Work {
    match op.name.as_str() {
        tile::CONST | tile::RESHAPE | tile::QUANTIZE | tile::DEQUANTIZE => return Work::Free,
        tile::ALLOC | tile::DMA_LOAD | tile::DMA_STORE => return Work::Free,
        _ => {}
    }
    if !on_sram {
        return Work::Cpu(element_ops(op, s));
    }
    match gemm(&op.name, s) {
        Some(gemm) => Work::Mac {
            gemm,
            weight_bits: weight_bits(f, op),
            act_bits: act_bits(f, op),
        },
        None => Work::Vector(element_ops(op, s)),
    }
}

/// The shapes of `op`'s operands and result.
pub fn shapes_of<'f>(f: &'f Func, op: &Op) -> Shapes<'f> {
    let shape = |v: usize| f.ty(v).shape().unwrap_or(&[]);
    Shapes {
        inputs: op.operands.iter().map(|&v| shape(v)).collect(),
        output: op.results.first().map_or(&[][..], |&r| shape(r)),
    }
}

/// The dataflow of a MAC-array op: its `dataflow` attribute, else the target's first.
pub fn dataflow(op: &Op, t: &Target) -> Dataflow {
    match op.attrs.get(tile::DATAFLOW) {
        Some(nibble_ir::Attr::Str(s)) if s == "os" => Dataflow::Os,
        Some(nibble_ir::Attr::Str(s)) if s == "ws" => Dataflow::Ws,
        _ => t
            .mac_array
            .dataflows
            .first()
            .copied()
            .unwrap_or(Dataflow::Ws),
    }
}

/// Cycles of `work` on target `t` with dataflow `df` for MAC-array work.
pub fn cycles(t: &Target, w: Work, df: Dataflow) -> u64 {
    match w {
        Work::Mac {
            gemm,
            weight_bits,
            act_bits,
        } => cost::mac_cycles(t, df, gemm, weight_bits, act_bits),
        Work::Vector(ops) => cost::vector_cycles(t, ops),
        Work::Cpu(ops) => cost::cpu_cycles(t, ops),
        Work::Free => 0,
    }
}

/// Bytes of an element of `v`'s type (i8 1, i16 2, i32 4).
pub fn elem_bytes(f: &Func, v: usize) -> u64 {
    match f.ty(v).elem() {
        Some(Elem::Int(b)) => u64::from(*b).div_ceil(8).max(1),
        Some(Elem::F32) => 4,
        _ => 1,
    }
}

/// The DMA cycles of a DMA op on `t`: its box's contiguous runs in the DRAM tensor.
pub fn dma_op_cycles(f: &Func, op: &Op, t: &Target) -> u64 {
    let (dram, tile) = match op.name.as_str() {
        tile::DMA_LOAD => (op.operands.first(), op.results.first()),
        tile::DMA_STORE => (op.operands.get(1), op.operands.first()),
        _ => (None, None),
    };
    let (Some(&d), Some(&s)) = (dram, tile) else {
        return 0;
    };
    let shape = |v: usize| f.ty(v).shape().unwrap_or(&[]).to_vec();
    let (runs, elems) = nibble_target::cost::runs(&shape(d), &shape(s));
    cost::dma_cycles(t, runs, elems * elem_bytes(f, s))
}

/// Bytes a DMA op moves (its SRAM tile: a load's result, a store's first operand).
pub fn dma_bytes(f: &Func, op: &Op) -> u64 {
    let v = match op.name.as_str() {
        tile::DMA_LOAD => op.results.first(),
        tile::DMA_STORE => op.operands.first(),
        _ => None,
    };
    v.map_or(0, |&v| f.ty(v).num_elements() as u64 * elem_bytes(f, v))
}
