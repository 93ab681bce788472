//! C for an npu program: codegen-c's printer with an [`Extension`] that writes the npu
//! commands as calls of `runtime/npu/npu.h` ([`calls`]), announces each CPU op to the
//! simulator's timeline (`npu_cpu`), marks the layers (`npu_layer`) and brackets a run with
//! `npu_frame_begin`/`npu_frame_end`; plus the API, the simulator and the target's cost table
//! (`npu_target.h`, [`target_h`]). `cc -std=c99 -O2 -Wall -Wextra -Werror OUT/*.c` builds it.

mod calls;

use nibble_codegen_c::ext::{emit_with, Cx, Extension};
use nibble_codegen_c::CodegenError;
use nibble_ir::{Attr, Elem, Func, Op};
use nibble_lower::schedule::cost::{element_ops, shapes_of};
use nibble_npu_dialect as npu;
use nibble_target::Target;
use nibble_tile as tile;
use std::collections::HashMap;

pub const NPU_H: &str = include_str!("../../../../runtime/npu/npu.h");
pub const NPU_SIM_C: &str = include_str!("../../../../runtime/npu/npu_sim.c");

/// The files of an npu program for `t`.
pub fn emit(f: &Func, t: &Target) -> Result<Vec<(String, String)>, String> {
    let mut ext = Npu::new(f);
    let mut files = emit_with(f, &mut ext).map_err(|e| e.to_string())?;
    files.push(("npu.h".into(), NPU_H.into()));
    files.push(("npu_sim.c".into(), NPU_SIM_C.into()));
    files.push(("npu_target.h".into(), target_h(t)));
    Ok(files)
}

/// The name of the layer of a command, as the estimate groups them.
fn layer_of(op: &Op, i: usize) -> String {
    match op.attrs.get(tile::LAYER) {
        Some(Attr::Str(s)) => s.clone(),
        _ => nibble_lower::schedule::layer_name(op, i),
    }
}

/// Whether `op` is a command (a DMA, a compute op, a CPU op).
fn is_command(op: &Op) -> bool {
    op.attrs.contains_key(npu::ID) && op.name != npu::DMA_WAIT
}

/// The npu printer: the layers of the program (in order) and which layer each command opens.
struct Npu {
    commands: i64,
    layers: Vec<String>,
    opens: HashMap<usize, usize>,
}

impl Npu {
    fn new(f: &Func) -> Npu {
        let commands = match f.attrs.get("npu.commands") {
            Some(Attr::Int(n, _)) => *n,
            _ => f.ops.len() as i64,
        };
        let (mut layers, mut opens) = (Vec::<String>::new(), HashMap::new());
        for (i, op) in f.ops.iter().enumerate() {
            if !is_command(op) {
                continue;
            }
            let name = layer_of(op, i);
            if layers.last() != Some(&name) {
                opens.insert(i, layers.len());
                layers.push(name);
            }
        }
        Npu {
            commands,
            layers,
            opens,
        }
    }

    /// `npu_layer(k);` if op `i` opens layer k.
    fn layer_mark(&self, i: usize) -> String {
        self.opens
            .get(&i)
            .map(|k| format!("    npu_layer({k});\n"))
            .unwrap_or_default()
    }
}

/// A C string literal of `s` (printable ASCII; anything else escaped in octal).
fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            b'?' => out.push_str("\\?"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push('"');
    out
}

impl Extension for Npu {
    fn includes(&self) -> String {
        let names: Vec<String> = self.layers.iter().map(|n| c_string(n)).collect();
        format!(
            "#include \"npu.h\"\n\n/* The layers of the schedule (the simulator reports cycles per layer). */\n\
             static const char *const npu_layer_names[{}] = {{{}}};\n",
            self.layers.len().max(1),
            if names.is_empty() { "\"\"".into() } else { names.join(", ") }
        )
    }

    fn prologue(&self) -> String {
        format!(
            "    npu_frame_begin({}, {}, npu_layer_names);\n",
            self.commands,
            self.layers.len()
        )
    }

    fn epilogue(&self) -> String {
        "    npu_frame_end();\n".into()
    }

    fn op(&mut self, cx: &mut Cx) -> Result<bool, CodegenError> {
        let name = cx.op.name.as_str();
        if name == tile::ALLOC {
            let r = result(cx)?;
            let off = cx.op.int("offset")?;
            cx.place.insert(r, arena(cx.f, r, off));
            return Ok(true);
        }
        if !name.starts_with("npu.") {
            return Ok(false);
        }
        let mark = self.layer_mark(cx.i);
        cx.body.push_str(&mark);
        calls::write(cx)?;
        Ok(true)
    }

    fn around(&mut self, f: &Func, op: &Op, i: usize) -> (String, String) {
        let Ok(id) = op.int(npu::ID) else {
            return (String::new(), String::new());
        };
        let ops = element_ops(op, &shapes_of(f, op));
        (
            format!("{}    npu_cpu({id}, {ops}ULL);\n", self.layer_mark(i)),
            String::new(),
        )
    }
}

/// The op's result.
fn result(cx: &Cx) -> Result<usize, CodegenError> {
    cx.op
        .results
        .first()
        .copied()
        .ok_or_else(|| CodegenError::Op {
            op: cx.op.name.clone(),
            loc: String::new(),
            msg: "the op has no result".into(),
        })
}

/// `((TYPE *)(nb_arena + OFF))` for DRAM value `v` (int16 storage for 16-bit values).
fn arena(f: &Func, v: usize, off: i64) -> String {
    let ty = match f.ty(v).elem() {
        Some(Elem::Int(16)) => "int16_t",
        _ => "int8_t",
    };
    format!("(({ty} *)(nb_arena + {off}))")
}

/// `npu_target.h`: the target's cost table as the simulator reads it.
pub fn target_h(t: &Target) -> String {
    let mut rates = String::new();
    for w in t.weight_widths() {
        let r = t.macs_per_cycle(w).unwrap_or(0);
        rates.push_str(&format!("    case {w}: return {r}ULL;\n"));
    }
    format!(
        "/* Generated by nibble: the cost table of target {name} (docs/targets.md). */\n\
         #ifndef NPU_TARGET_H\n#define NPU_TARGET_H\n\
         #define NPU_TARGET_NAME {qname}\n\
         #define NPU_CLOCK_MHZ {clock:?}\n\
         #define NPU_SRAM_BYTES {sram}ULL\n\
         #define NPU_DRAM_BYTES_PER_CYCLE {bw}ULL\n\
         #define NPU_DMA_SETUP_CYCLES {setup}ULL\n\
         #define NPU_ROWS {rows}ULL\n\
         #define NPU_COLS {cols}ULL\n\
         #define NPU_VECTOR_LANES {lanes}ULL\n\
         #define NPU_CPU_OPS_PER_CYCLE {cpu}ULL\n\
         /* MACs per cycle at each weight width (0: the array does not multiply it). */\n\
         static inline unsigned long long npu_macs_per_cycle(int bits) {{\n\
         \x20   switch (bits) {{\n{rates}    default: return 0ULL;\n    }}\n}}\n#endif\n",
        name = t.name.replace("*/", "* /"),
        qname = c_string(&t.name),
        clock = t.clock_mhz,
        sram = t.sram_bytes(),
        bw = t.memory.dram_bytes_per_cycle,
        setup = t.memory.dma_setup_cycles,
        rows = t.mac_array.rows,
        cols = t.mac_array.cols,
        lanes = t.vector.lanes,
        cpu = t.cpu.ops_per_cycle,
    )
}
