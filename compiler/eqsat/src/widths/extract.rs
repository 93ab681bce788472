//! DAG-aware extraction of the width e-graph as an integer linear program (CBC through
//! good_lp), under budgets.
//!
//! Variables: `x_n ∈ {0,1}` per e-node, `c_k ∈ {0,1}` per e-class reachable from the roots.
//! Constraints: every root class is chosen; a chosen class has exactly one chosen node
//! (`Σ_{n∈k} x_n = c_k`); a chosen node's input classes are chosen (`x_n ≤ c_child`); every op of
//! the program is computed at most once (`Σ_{n of op} x_n ≤ 1`: one weight grid per layer, the
//! other width of its tensor comes from a `narrow`); the weight bytes and the extra activation
//! bytes of the chosen nodes stay within their budgets. Objective: the predicted output noise
//! (the sum of the chosen nodes' measured noise), plus tie-breaks far below any noise: requant
//! work, then MAC cycles at each width's rate. A shared tensor is paid for once — the reason
//! for an ILP rather than egg's tree extractor, which counts a value once per use.
//!
//! The graph has no cycles by construction (a `narrow` only reads a 16-bit class, and nodes
//! read the classes of earlier tensors); extraction checks it anyway.

use super::lang::{Tensors, Wl};
use super::{Budget, Problem, WidthError};
use egg::{EGraph, Id, Language};
use good_lp::{
    constraint, variable, variables, Expression, ResolutionError, Solution, SolverModel, Variable,
};
use std::collections::{BTreeMap, BTreeSet};

/// Costs of one e-node.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NodeCost {
    /// Predicted relative noise power it adds at the network output.
    pub noise: f64,
    /// Bytes of its weights.
    pub weight_bytes: f64,
    /// Bytes its 16-bit result adds to the activations.
    pub extra_act_bytes: f64,
    /// Elements it requantizes (a `narrow`).
    pub requant_elements: f64,
    /// MAC-array cycles at its weight width.
    pub cycles: f64,
}

/// The cost of `node` under `problem`. A tensor's rounding noise is charged to its readers,
/// each its share (`noise / readers`) at the width it reads: a tensor all readers read in 8
/// bits costs its 8-bit noise, one they all read in 16 bits its 16-bit noise, a mix in between.
pub fn node_cost(g: &EGraph<Wl, Tensors>, problem: &Problem, node: &Wl) -> NodeCost {
    match node {
        Wl::Input(_) => NodeCost::default(),
        Wl::Narrow(x) => NodeCost {
            requant_elements: problem.values[g[*x].data.value as usize].elements as f64,
            ..NodeCost::default()
        },
        Wl::Node(form, kids) => {
            let op = &problem.ops[form.op as usize];
            let v = &problem.values[op.output as usize];
            let mut c = NodeCost::default();
            for &k in kids {
                let t = g[k].data;
                let input = &problem.values[t.value as usize];
                let share = input.noise[usize::from(t.bits == 16)] / input.readers.max(1) as f64;
                c.noise += share;
            }
            if form.out_bits == 16 {
                c.extra_act_bytes = v.elements as f64;
            }
            if let (super::OpKind::Layer(l), Some(w)) = (&op.kind, form.weights) {
                c.noise += l.noise[w.index()];
                c.weight_bytes = (l.params * w.storage_bits() as u64).div_ceil(8) as f64;
                c.cycles = l.macs as f64 / l.macs_per_cycle[w.index()].max(1e-9);
            }
            c
        }
    }
}

/// The chosen node of every chosen class.
pub type Choice = BTreeMap<Id, Wl>;

/// Solves the extraction from `roots` under `budget`.
pub fn extract(
    g: &EGraph<Wl, Tensors>,
    problem: &Problem,
    roots: &[Id],
    budget: &Budget,
) -> Result<Choice, WidthError> {
    // Reachable classes, in a deterministic order.
    let mut classes: BTreeSet<Id> = BTreeSet::new();
    let mut stack: Vec<Id> = roots.iter().map(|&r| g.find(r)).collect();
    while let Some(k) = stack.pop() {
        if classes.insert(k) {
            for n in &g[k].nodes {
                stack.extend(n.children().iter().map(|&c| g.find(c)));
            }
        }
    }
    check_acyclic(g, &classes)?;
    let mut vars = variables!();
    let class_var: BTreeMap<Id, Variable> = classes
        .iter()
        .map(|&k| (k, vars.add(variable().binary())))
        .collect();
    let mut nodes: Vec<(Id, &Wl, Variable, NodeCost)> = Vec::new();
    for &k in &classes {
        for n in &g[k].nodes {
            nodes.push((
                k,
                n,
                vars.add(variable().binary()),
                node_cost(g, problem, n),
            ));
        }
    }
    let objective: Expression = nodes
        .iter()
        .map(|(_, _, x, c)| (c.noise + 1e-12 * c.requant_elements + 1e-15 * c.cycles) * *x)
        .sum();
    let mut model = vars.minimise(objective).using(good_lp::coin_cbc);
    model.set_parameter("log", "0");
    model.set_parameter("threads", "1");
    for r in roots {
        model = model.with(constraint!(class_var[&g.find(*r)] == 1));
    }
    for (&k, &ck) in &class_var {
        let members: Expression = nodes.iter().filter(|n| n.0 == k).map(|n| n.2).sum();
        model = model.with(constraint!(members == ck));
    }
    for (_, n, x, _) in &nodes {
        for c in n.children() {
            model = model.with(constraint!(*x <= class_var[&g.find(*c)]));
        }
    }
    let mut per_op: BTreeMap<u32, Expression> = BTreeMap::new();
    for (_, n, x, _) in &nodes {
        if let Wl::Node(f, _) = n {
            *per_op.entry(f.op).or_default() += *x;
        }
    }
    for (_, e) in per_op {
        model = model.with(constraint!(e <= 1));
    }
    if let Some(b) = budget.weight_bytes {
        let used: Expression = nodes.iter().map(|n| n.3.weight_bytes * n.2).sum();
        model = model.with(constraint!(used <= b));
    }
    if let Some(a) = budget.extra_act_bytes {
        let used: Expression = nodes.iter().map(|n| n.3.extra_act_bytes * n.2).sum();
        model = model.with(constraint!(used <= a));
    }
    let solution = model.solve().map_err(|e| match e {
        ResolutionError::Infeasible => WidthError::Infeasible,
        e => WidthError::Solver(e.to_string()),
    })?;
    let mut choice = Choice::new();
    for (k, n, x, _) in &nodes {
        if solution.value(*x) > 0.5 {
            choice.insert(*k, (*n).clone());
        }
    }
    Ok(choice)
}

/// Refuses a cycle among the reachable classes (none can arise from the rules).
fn check_acyclic(g: &EGraph<Wl, Tensors>, classes: &BTreeSet<Id>) -> Result<(), WidthError> {
    // Kahn's algorithm over class → child-class edges.
    let mut indegree: BTreeMap<Id, usize> = classes.iter().map(|&k| (k, 0)).collect();
    for &k in classes {
        let kids: BTreeSet<Id> = g[k]
            .nodes
            .iter()
            .flat_map(|n| n.children().iter().map(|&c| g.find(c)))
            .collect();
        for c in kids {
            *indegree.get_mut(&c).expect("children are reachable") += 1;
        }
    }
    let mut ready: Vec<Id> = indegree
        .iter()
        .filter(|e| *e.1 == 0)
        .map(|e| *e.0)
        .collect();
    let mut seen = 0;
    while let Some(k) = ready.pop() {
        seen += 1;
        let kids: BTreeSet<Id> = g[k]
            .nodes
            .iter()
            .flat_map(|n| n.children().iter().map(|&c| g.find(c)))
            .collect();
        for c in kids {
            let d = indegree.get_mut(&c).expect("children are reachable");
            *d -= 1;
            if *d == 0 {
                ready.push(c);
            }
        }
    }
    if seen == classes.len() {
        Ok(())
    } else {
        Err(WidthError::Cyclic)
    }
}
