//! The schedule: the function's ops in order, each given its storage. The host-boundary
//! quantize and dequantizes become the run function's input and outputs, constants file-scope
//! arrays, reshapes aliases of their input, and every other op one runtime call (written by
//! [`crate::kernels`]) whose result lives in the arena at the op's planned offset.

use crate::ext::{Cx, Extension};
use crate::kernels::micro::{self, Micro};
use crate::kernels::{self, arena_ptr, storage_bits, Kernel};
use crate::names::c_comment;
use crate::packing::Packing;
use crate::{arrays, err, func_err, CodegenError};
use nibble_ir::{Func, Op, ValueId};
use nibble_tile as tile;
use std::collections::HashMap;
use std::fmt::Write;

/// The quantization of the model's input (what main.c applies to each float sample).
pub(crate) struct HostInput {
    pub scale: f64,
    pub zero_point: i64,
    /// Elements of one sample.
    pub elems: usize,
}

/// One model output: the integer value copied out and the dequantization main.c applies.
pub(crate) struct HostOutput {
    pub scale: f64,
    pub zero_point: i64,
    /// The integer value (the dequantize's operand).
    pub value: ValueId,
    /// The float result (its shape is the output's).
    pub result: ValueId,
}

/// The function's ops as C: file-scope tables, the statements of `nibble_model_run`, and the
/// host boundary.
pub(crate) struct Schedule {
    /// File-scope arrays: constants, weights and kernel parameters.
    pub weights: String,
    /// The statements of `nibble_model_run`, one call (or block) per op.
    pub body: String,
    /// The C expression for each value's storage.
    pub place: HashMap<ValueId, String>,
    pub input: HostInput,
    pub outputs: Vec<HostOutput>,
    /// Elements of `nb_wscratch`, where packed weights are unpacked (0: none are packed).
    pub scratch: usize,
    /// Bytes of `nbk_scratch`, the microkernels' scratch (0: no layer calls them).
    pub micro_scratch: usize,
}

/// Walks the ops of `f` in order (the extension writes the ops it claims).
pub(crate) fn schedule(f: &Func, ext: &mut dyn Extension) -> Result<Schedule, CodegenError> {
    let mut walk = Walk {
        f,
        weights: String::new(),
        body: String::new(),
        place: HashMap::new(),
        input: None,
        outputs: Vec::new(),
        packed: HashMap::new(),
        scratch: 0,
        micro: micro::plan(f),
    };
    walk.body.push_str(&ext.prologue());
    for (i, op) in f.ops.iter().enumerate() {
        let _ = writeln!(
            walk.body,
            "    /* {} {} */",
            c_comment(&op.name),
            c_comment(op.loc.as_deref().unwrap_or(""))
        );
        let mut cx = Cx {
            f,
            op,
            i,
            place: &mut walk.place,
            tables: &mut walk.weights,
            body: &mut walk.body,
        };
        if !ext.op(&mut cx)? {
            walk.op(i, op, ext)?;
        }
    }
    let input = walk
        .input
        .ok_or_else(|| func_err("the function has no tile.quantize of its input"))?;
    Ok(Schedule {
        weights: walk.weights,
        body: walk.body,
        place: walk.place,
        input,
        outputs: walk.outputs,
        scratch: walk.scratch,
        micro_scratch: walk.micro.scratch,
    })
}

/// The schedule while it is written.
struct Walk<'f> {
    f: &'f Func,
    weights: String,
    body: String,
    place: HashMap<ValueId, String>,
    input: Option<HostInput>,
    outputs: Vec<HostOutput>,
    /// The packed constants, unpacked into `nb_wscratch` before each op that reads them.
    packed: HashMap<ValueId, Packed>,
    /// Elements of `nb_wscratch`: the most any one op unpacks.
    scratch: usize,
    /// The layers that call the int8 microkernels, and the constants only they read.
    micro: Micro,
}

/// A packed constant: its array, packing and number of values.
struct Packed {
    name: String,
    packing: Packing,
    elems: usize,
}

impl Walk<'_> {
    /// Op number `i`: its storage, and its call if it computes anything.
    fn op(&mut self, i: usize, op: &Op, ext: &mut dyn Extension) -> Result<(), CodegenError> {
        let f = self.f;
        let Some(&r) = op.results.first() else {
            return Err(err(op, "the op has no result"));
        };
        let operand = |k: usize| {
            op.operands
                .get(k)
                .copied()
                .ok_or_else(|| err(op, format!("operand {k} is missing")))
        };
        match op.name.as_str() {
            tile::QUANTIZE => {
                if self.input.is_some() || f.args.first() != Some(&operand(0)?) {
                    return Err(err(
                        op,
                        "only one host-boundary quantize, of the function argument, is supported",
                    ));
                }
                let b = tile::Boundary::from_op(op)?;
                self.input = Some(HostInput {
                    scale: b.scale,
                    zero_point: b.zero_point,
                    elems: f.ty(r).num_elements(),
                });
                self.place.insert(r, "input".into());
            }
            tile::DEQUANTIZE => {
                let b = tile::Boundary::from_op(op)?;
                self.outputs.push(HostOutput {
                    scale: b.scale,
                    zero_point: b.zero_point,
                    value: operand(0)?,
                    result: r,
                })
            }
            // Read only by microkernel layers, which have their own packed copy.
            tile::CONST if self.micro.absorbed.contains(&r) => {}
            tile::CONST => {
                let packing = Packing::of(f, op, r)?;
                let name = arrays::constant(op, i, packing, &mut self.weights)?;
                if let Some(packing) = packing {
                    let elems = f.ty(r).num_elements();
                    self.packed.insert(
                        r,
                        Packed {
                            name,
                            packing,
                            elems,
                        },
                    );
                    self.place.insert(r, "nb_wscratch".into());
                } else {
                    self.place.insert(r, name);
                }
            }
            // Aliases its input: same storage.
            tile::RESHAPE => {
                let x = self.place.get(&operand(0)?).cloned();
                let x = x.ok_or_else(|| err(op, "operand 0 has no storage"))?;
                self.place.insert(r, x);
            }
            name => {
                let write = kernels::writer(name).ok_or_else(|| err(op, "no C kernel"))?;
                self.unpack(op)?;
                let (before, after) = ext.around(f, op, i);
                self.body.push_str(&before);
                let mut kernel =
                    Kernel::new(f, op, i, &self.place, &mut self.weights, &mut self.body);
                match self.micro.layer(i) {
                    Some(layer) => micro::write(&mut kernel, layer)?,
                    None => write(&mut kernel)?,
                }
                self.body.push_str(&after);
                let offset = tile::offset(op);
                let ty = if storage_bits(f, r) == 16 {
                    "int16_t"
                } else {
                    "int8_t"
                };
                self.place.insert(r, arena_ptr(offset, ty));
            }
        }
        Ok(())
    }

    /// Unpacks the packed constants `op` reads into `nb_wscratch`, one after the other (a
    /// squeeze-excite reads two), and points their storage there for `op`'s kernel.
    fn unpack(&mut self, op: &Op) -> Result<(), CodegenError> {
        let mut offset = 0;
        let mut seen: Vec<ValueId> = Vec::new();
        for &v in &op.operands {
            let Some(p) = self.packed.get(&v) else {
                continue;
            };
            if seen.contains(&v) {
                continue;
            }
            seen.push(v);
            let at = if offset == 0 {
                "nb_wscratch".to_string()
            } else {
                format!("(nb_wscratch + {offset})")
            };
            let _ = writeln!(
                self.body,
                "    {}({}, {}, {at});",
                p.packing.unpack_fn(),
                p.name,
                p.elems
            );
            self.place.insert(v, at);
            offset += p.elems;
        }
        self.scratch = self.scratch.max(offset);
        Ok(())
    }
}
