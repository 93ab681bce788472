//! The width e-graph's rewrite rules. Each rule looks at the e-nodes of one class and adds the
//! alternatives the program, the kernels and the target allow; a rule that finds nothing new
//! changes nothing, so the runner saturates.
//!
//! - `weight-widths`: `(node <op/wV/aB> xs…) = (node <op/wW/aB> xs…)` for every width W the
//!   layer may take — the same layer with its weights on another grid.
//! - `wide-result`: `(node <op/wW/a8> xs…) = (narrow (node <op/wW/a16> xs…))` where the op can
//!   write 16 bits and the tensor may be 16-bit — computing to 16 bits and requantizing to 8 is
//!   computing to 8.
//! - `read-wide`: `(node <f> … (narrow x) …) = (node <f> … x …)` where the op can read that
//!   input at 16 bits — the requantization folds into the consumer's own rescale. An op that
//!   only moves values (no rounding) reading 16 bits writes 16 bits: its 16-bit form goes to
//!   the tensor's 16-bit class and narrows into the 8-bit one.

use super::lang::{Form, Tensors, Wl};
use super::{OpKind, Problem};
use egg::{
    Applier, EGraph, Id, Language, PatternAst, Rewrite, SearchMatches, Searcher, Subst, Symbol, Var,
};
use std::sync::Arc;

type G = EGraph<Wl, Tensors>;

#[derive(Clone, Copy, Debug)]
enum Kind {
    WeightWidths,
    WideResult,
    ReadWide,
}

/// One rule: searches every class, and its applier adds what the class's nodes allow.
struct Rule {
    kind: Kind,
    problem: Arc<Problem>,
}

/// The canonical class of `(value, bits)`, if it exists.
fn class_of(g: &G, value: u32, bits: u8) -> Option<Id> {
    g.analysis.classes.get(&(value, bits)).map(|&id| g.find(id))
}

/// Adds `node` and unions it with the class of its tensor (creating it if new); true if the
/// graph changed.
pub(super) fn add_to_class(g: &mut G, node: Wl) -> (Id, bool) {
    let id = g.add(node);
    let t = g[id].data;
    match class_of(g, t.value, t.bits) {
        Some(c) => (c, g.union(c, id)),
        None => {
            g.analysis.classes.insert((t.value, t.bits), id);
            (id, true)
        }
    }
}

impl Rule {
    /// The nodes this rule would add to `eclass`, each with the class it belongs to.
    fn proposals(&self, g: &G, eclass: Id) -> Vec<Wl> {
        let p = &self.problem;
        let mut out = Vec::new();
        for node in &g[eclass].nodes {
            let Wl::Node(form, kids) = node else { continue };
            let op = &p.ops[form.op as usize];
            match self.kind {
                Kind::WeightWidths => {
                    if let OpKind::Layer(layer) = &op.kind {
                        for &w in &layer.widths {
                            let f = Form {
                                weights: Some(w),
                                ..*form
                            };
                            out.push(Wl::Node(f, kids.clone()));
                        }
                    }
                }
                Kind::WideResult => {
                    let value = &p.values[op.output as usize];
                    if form.out_bits == 8 && value.wide && op.wide_output && op.rounds() {
                        out.push(Wl::Node(
                            Form {
                                out_bits: 16,
                                ..*form
                            },
                            kids.clone(),
                        ));
                    }
                }
                Kind::ReadWide => {
                    for (i, &kid) in kids.iter().enumerate() {
                        if !op.wide_inputs.get(i).copied().unwrap_or(false) {
                            continue;
                        }
                        for n in &g[kid].nodes {
                            if let Wl::Narrow(x) = n {
                                let mut k2 = kids.clone();
                                k2[i] = *x;
                                // An op that only moves values writes what it reads.
                                let out_bits = if op.rounds() { form.out_bits } else { 16 };
                                let fits = op.rounds()
                                    || (op.wide_output && p.values[op.output as usize].wide);
                                if fits {
                                    out.push(Wl::Node(Form { out_bits, ..*form }, k2));
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

impl Searcher<Wl, Tensors> for Rule {
    fn search_eclass_with_limit(
        &self,
        egraph: &G,
        eclass: Id,
        _limit: usize,
    ) -> Option<SearchMatches<'_, Wl>> {
        let fresh = self.proposals(egraph, eclass).into_iter().any(|n| {
            let canonical = n.clone().map_children(|c| egraph.find(c));
            egraph.lookup(canonical).is_none()
        });
        fresh.then(|| SearchMatches {
            eclass,
            substs: vec![Subst::default()],
            ast: None,
        })
    }
    fn vars(&self) -> Vec<Var> {
        vec![]
    }
}

impl Applier<Wl, Tensors> for Rule {
    fn apply_one(
        &self,
        egraph: &mut G,
        eclass: Id,
        _subst: &Subst,
        _ast: Option<&PatternAst<Wl>>,
        _rule: Symbol,
    ) -> Vec<Id> {
        let mut changed = Vec::new();
        for node in self.proposals(egraph, eclass) {
            let narrow_from_wide = matches!(&node, Wl::Node(f, _) if f.out_bits == 16)
                && egraph[eclass].data.bits == 8;
            let (id, did) = add_to_class(egraph, node);
            if did {
                changed.push(id);
            }
            if narrow_from_wide {
                // The 8-bit tensor is the 16-bit one requantized.
                let (n, did) = add_to_class(egraph, Wl::Narrow(id));
                if did {
                    changed.push(n);
                }
            }
        }
        changed
    }
}

/// The rules, one per kind (see the module doc).
pub fn width_rules(problem: Arc<Problem>) -> Vec<Rewrite<Wl, Tensors>> {
    [
        ("weight-widths", Kind::WeightWidths),
        ("wide-result", Kind::WideResult),
        ("read-wide", Kind::ReadWide),
    ]
    .into_iter()
    .map(|(name, kind)| {
        let rule = || Rule {
            kind,
            problem: problem.clone(),
        };
        Rewrite::new(name, rule(), rule()).expect("a rule without pattern variables is valid")
    })
    .collect()
}
