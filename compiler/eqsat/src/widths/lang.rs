//! The width e-graph's language and analysis.
//!
//! Every e-class is one tensor of the program at one storage width; its e-nodes are the ways to
//! compute it: `(node <form> inputs…)` — the program's op `form.op`, its weights at
//! `form.weights` (weight layers only) and its result stored in `form.out_bits` — or
//! `(narrow x)`, the tensor requantized from its 16-bit class to 8 bits.

use egg::{define_language, Analysis, DidMerge, EGraph, Id};
use std::fmt;
use std::str::FromStr;

pub use nibble_quantize::WeightWidth;

/// How an op computes its result: which op, its weights' grid, its result's storage bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Form {
    pub op: u32,
    pub weights: Option<WeightWidth>,
    pub out_bits: u8,
}

impl FromStr for Form {
    type Err = String;
    /// `opN/wW/aB` (`w-` without weights).
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("bad form '{s}'");
        let mut it = s.split('/');
        let op = it
            .next()
            .and_then(|p| p.strip_prefix("op"))
            .ok_or_else(bad)?;
        let w = it
            .next()
            .and_then(|p| p.strip_prefix('w'))
            .ok_or_else(bad)?;
        let a = it
            .next()
            .and_then(|p| p.strip_prefix('a'))
            .ok_or_else(bad)?;
        Ok(Form {
            op: op.parse().map_err(|_| bad())?,
            weights: if w == "-" { None } else { Some(w.parse()?) },
            out_bits: a.parse().map_err(|_| bad())?,
        })
    }
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.weights.map_or("-".to_string(), |w| w.to_string());
        write!(f, "op{}/w{w}/a{}", self.op, self.out_bits)
    }
}

/// A function argument, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arg(pub u32);

impl FromStr for Arg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.strip_prefix("arg")
            .and_then(|i| i.parse().ok())
            .map(Arg)
            .ok_or_else(|| format!("not an argument: {s}"))
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arg{}", self.0)
    }
}

define_language! {
    /// `(node <form> inputs…)`, `(narrow x)` and the program's arguments.
    pub enum Wl {
        "narrow" = Narrow(Id),
        Input(Arg),
        Node(Form, Vec<Id>),
    }
}

/// What every e-node of a class computes: a tensor of the program (by value index) stored in
/// `bits` bits. Two classes of the same tensor at different widths never merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tensor {
    pub value: u32,
    pub bits: u8,
}

/// The analysis: each class's tensor. The output value of each op comes from the problem.
#[derive(Default)]
pub struct Tensors {
    /// The result value of each op (by op index) and the value of each argument.
    pub op_value: Vec<u32>,
    pub arg_value: Vec<u32>,
    /// One class per (value, bits): the rules add each new node to its tensor's class.
    pub classes: std::collections::HashMap<(u32, u8), Id>,
}

impl Analysis<Wl> for Tensors {
    type Data = Tensor;
    fn make(egraph: &mut EGraph<Wl, Self>, enode: &Wl, _id: Id) -> Tensor {
        match enode {
            Wl::Input(a) => Tensor {
                value: egraph.analysis.arg_value[a.0 as usize],
                bits: 8,
            },
            Wl::Node(form, _) => Tensor {
                value: egraph.analysis.op_value[form.op as usize],
                bits: form.out_bits,
            },
            Wl::Narrow(x) => Tensor {
                value: egraph[*x].data.value,
                bits: 8,
            },
        }
    }
    fn merge(&mut self, a: &mut Tensor, b: Tensor) -> DidMerge {
        // Only equal tensors at equal widths are ever unioned (the rules guarantee it); a
        // mismatch would be a bug in a rule, and keeping `a` keeps the graph consistent.
        debug_assert_eq!(*a, b, "merged e-classes of different tensors");
        DidMerge(false, false)
    }
}

/// The class of `id`'s tensor.
pub fn tensor(g: &EGraph<Wl, Tensors>, id: Id) -> Tensor {
    g[id].data
}
