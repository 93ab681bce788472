//! Per-layer bit widths chosen by equality saturation and a global extraction.
//!
//! The program (one function of the graph level, described as a [`Problem`]: its tensors, its
//! ops, which of them are weight layers, which can read and write 16 bits, and the measured
//! noise every choice adds at the network output) becomes an e-graph where each class is one
//! tensor at one storage width and each node one way to compute it ([`lang`]). The rules
//! ([`rules`]) add every alternative the target and the kernels allow — each weight layer at
//! 8, 4, 2 bits, ternary, binary; each result at 16 bits with a requantization (`narrow`) for
//! the readers that need 8; a reader folding that requantization into its own rescale — and the
//! extraction ([`extract`]) picks one node per needed class by an integer program: least
//! predicted noise within a weight-byte budget (and an activation-byte budget), each op computed
//! once, shared tensors paid once.

pub mod extract;
pub mod lang;
pub mod rules;

pub use extract::NodeCost;
pub use lang::{Form, WeightWidth, Wl};

use egg::{EGraph, Id, Runner};
use lang::Tensors;
use std::sync::Arc;

/// A tensor of the program.
#[derive(Clone, Debug)]
pub struct Value {
    pub elements: u64,
    /// Relative noise power its rounding adds at the output: stored in 8 bits, in 16 bits
    /// (0 for a tensor that is not rounded of its own: the result of an op that only moves
    /// values).
    pub noise: [f64; 2],
    /// How many op operands read it ([`Problem::count_readers`] sets it).
    pub readers: u32,
    /// It may be stored in 16 bits (its kernels and the target allow it).
    pub wide: bool,
}

/// A weight layer's facts.
#[derive(Clone, Debug)]
pub struct Layer {
    pub params: u64,
    pub macs: u64,
    /// The widths its weights may take (always including 8).
    pub widths: Vec<WeightWidth>,
    /// Relative output noise of its weights at each width of [`WeightWidth::ALL`].
    pub noise: [f64; 5],
    /// MACs per cycle at each width of [`WeightWidth::ALL`] (the target's rate).
    pub macs_per_cycle: [f64; 5],
}

#[derive(Clone, Debug)]
pub enum OpKind {
    Layer(Layer),
    /// Computes new values (rounded to its result's grid).
    Rounding,
    /// Only moves values (reshape, slice, concat, max pool, …): its result is exactly its inputs'.
    Moving,
}

/// An op of the program.
#[derive(Clone, Debug)]
pub struct OpDesc {
    pub name: String,
    pub inputs: Vec<u32>,
    pub output: u32,
    pub kind: OpKind,
    /// Per input: the op has a kernel reading it in 16 bits.
    pub wide_inputs: Vec<bool>,
    /// The op has a kernel writing 16 bits.
    pub wide_output: bool,
}

impl OpDesc {
    pub fn rounds(&self) -> bool {
        !matches!(self.kind, OpKind::Moving)
    }
}

/// The width problem of one function.
#[derive(Clone, Debug)]
pub struct Problem {
    pub values: Vec<Value>,
    /// The value of each function argument (always 8-bit).
    pub args: Vec<u32>,
    pub ops: Vec<OpDesc>,
    pub outputs: Vec<u32>,
}

impl Problem {
    /// Sets every value's reader count from the ops' operands.
    pub fn count_readers(&mut self) {
        for v in &mut self.values {
            v.readers = 0;
        }
        for op in &self.ops {
            for &i in &op.inputs {
                self.values[i as usize].readers += 1;
            }
        }
    }
}

/// Limits of the extraction; `None` is unlimited.
#[derive(Clone, Copy, Debug, Default)]
pub struct Budget {
    pub weight_bytes: Option<f64>,
    pub extra_act_bytes: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum WidthError {
    #[error("no choice of widths meets the budget")]
    Infeasible,
    #[error("the width e-graph has a cycle")]
    Cyclic,
    #[error("ILP solver: {0}")]
    Solver(String),
    #[error("{0}")]
    Invalid(String),
}

/// What the extraction chose, per op and per value.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// Per op: its weights' grid (weight layers) and its result's storage bits.
    pub forms: Vec<Option<Form>>,
    /// Per value: stored in 16 bits.
    pub wide: Vec<bool>,
    /// Per value: a 16-bit value some readers read requantized to 8 bits.
    pub narrowed: Vec<bool>,
    /// Totals of the chosen nodes.
    pub cost: NodeCost,
    /// E-graph size after saturation: classes, nodes.
    pub egraph_size: (usize, usize),
}

/// Builds the e-graph of `problem` (every op at its first allowed width, 8-bit results), saturates it with
/// the rules, and extracts the best program under `budget`.
pub fn solve(problem: &Problem, budget: &Budget) -> Result<Solution, WidthError> {
    let mut problem = problem.clone();
    problem.count_readers();
    let problem = Arc::new(problem);
    let (g, roots) = build(&problem)?;
    let runner = Runner::<Wl, Tensors>::default()
        .with_egraph(g)
        .with_iter_limit(64)
        .with_node_limit(1_000_000)
        .with_time_limit(std::time::Duration::from_secs(3600))
        .run(&rules::width_rules(problem.clone()));
    if !matches!(runner.stop_reason, Some(egg::StopReason::Saturated)) {
        return Err(WidthError::Invalid(format!(
            "the width e-graph did not saturate: {:?}",
            runner.stop_reason
        )));
    }
    let g = runner.egraph;
    let choice = extract::extract(&g, &problem, &roots, budget)?;
    let mut sol = Solution {
        forms: vec![None; problem.ops.len()],
        wide: vec![false; problem.values.len()],
        narrowed: vec![false; problem.values.len()],
        cost: NodeCost::default(),
        egraph_size: (g.number_of_classes(), g.total_number_of_nodes()),
    };
    for (&k, node) in &choice {
        let c = extract::node_cost(&g, &problem, node);
        sol.cost.noise += c.noise;
        sol.cost.weight_bytes += c.weight_bytes;
        sol.cost.extra_act_bytes += c.extra_act_bytes;
        sol.cost.requant_elements += c.requant_elements;
        sol.cost.cycles += c.cycles;
        let t = g[k].data;
        match node {
            Wl::Node(form, _) => sol.forms[form.op as usize] = Some(*form),
            Wl::Narrow(_) => sol.narrowed[t.value as usize] = true,
            Wl::Input(_) => {}
        }
        if t.bits == 16 {
            sol.wide[t.value as usize] = true;
        }
    }
    Ok(sol)
}

/// The starting e-graph: arguments, then every op at 8-bit weights and results, in program
/// order; the roots are the outputs' 8-bit classes.
fn build(problem: &Problem) -> Result<(EGraph<Wl, Tensors>, Vec<Id>), WidthError> {
    let analysis = Tensors {
        op_value: problem.ops.iter().map(|o| o.output).collect(),
        arg_value: problem.args.clone(),
        classes: Default::default(),
    };
    let mut g = EGraph::new(analysis);
    let mut class8 = std::collections::HashMap::new();
    for (i, &v) in problem.args.iter().enumerate() {
        let (id, _) = rules::add_to_class(&mut g, Wl::Input(lang::Arg(i as u32)));
        class8.insert(v, id);
    }
    for (i, op) in problem.ops.iter().enumerate() {
        let kids = op
            .inputs
            .iter()
            .map(|v| {
                class8.get(v).copied().ok_or_else(|| {
                    WidthError::Invalid(format!(
                        "op {} reads value {v} before it is written",
                        op.name
                    ))
                })
            })
            .collect::<Result<Vec<Id>, _>>()?;
        let weights = match &op.kind {
            OpKind::Layer(l) => Some(*l.widths.first().ok_or_else(|| {
                WidthError::Invalid(format!("layer {} may take no width", op.name))
            })?),
            _ => None,
        };
        let form = Form {
            op: i as u32,
            weights,
            out_bits: 8,
        };
        let (id, _) = rules::add_to_class(&mut g, Wl::Node(form, kids));
        class8.insert(op.output, id);
    }
    g.rebuild();
    let roots = problem
        .outputs
        .iter()
        .map(|v| {
            class8
                .get(v)
                .map(|&id| g.find(id))
                .ok_or_else(|| WidthError::Invalid(format!("output value {v} is not computed")))
        })
        .collect::<Result<_, _>>()?;
    Ok((g, roots))
}

#[cfg(test)]
mod tests;
