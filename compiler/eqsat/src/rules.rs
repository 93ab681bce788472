//! Rewrite rules over [`Qnt`]. One table per topic; each rule has its algebraic statement.

use crate::lang::{Bounds, Qnt, Scale};
use egg::{rewrite, Applier, EGraph, Id, PatternAst, Rewrite, Subst, Symbol, Var};
use nibble_ir::QuantType;

/// The bridge's facts the rules need: the quant type of each type-table index.
#[derive(Default)]
pub struct Facts {
    pub types: Vec<QuantType>,
}

pub type G = EGraph<Qnt, ()>;

fn leaf_scale(g: &G, id: Id) -> Option<Scale> {
    g[id].nodes.iter().find_map(|n| {
        if let Qnt::Scale(s) = n {
            Some(s.clone())
        } else {
            None
        }
    })
}
fn leaf_bounds(g: &G, id: Id) -> Option<Bounds> {
    g[id].nodes.iter().find_map(|n| {
        if let Qnt::Bounds(b) = n {
            Some(*b)
        } else {
            None
        }
    })
}

/// Builds `(requant a∘b x)` from a match of `(requant ?a (requant ?b ?x))`.
struct Compose {
    a: Var,
    b: Var,
    x: Var,
}

impl Applier<Qnt, ()> for Compose {
    fn apply_one(
        &self,
        g: &mut G,
        eclass: Id,
        subst: &Subst,
        _: Option<&PatternAst<Qnt>>,
        rule: Symbol,
    ) -> Vec<Id> {
        let (Some(a), Some(b)) = (leaf_scale(g, subst[self.a]), leaf_scale(g, subst[self.b]))
        else {
            return vec![];
        };
        // Per channel composes elementwise; a per-tensor factor applies to every channel.
        let n = a.factors.len().max(b.factors.len());
        if (a.factors.len() != 1 && a.factors.len() != n)
            || (b.factors.len() != 1 && b.factors.len() != n)
        {
            return vec![];
        }
        let pick = |f: &[(i32, i32)], c: usize| {
            let (multiplier, shift) = f[if f.len() == 1 { 0 } else { c }];
            nibble_quantize::FixedScale { multiplier, shift }
        };
        let Some(factors) = (0..n)
            .map(|c| {
                nibble_quantize::compose(pick(&a.factors, c), pick(&b.factors, c))
                    .map(|f| (f.multiplier, f.shift))
            })
            .collect::<Option<Vec<_>>>()
        else {
            return vec![];
        };
        let leaf = g.add(Qnt::Scale(Scale {
            factors,
            ty: a.ty,
            origin: a.origin,
        }));
        let new = g.add(Qnt::Requant([leaf, subst[self.x]]));
        if g.union_trusted(eclass, new, rule) {
            vec![eclass]
        } else {
            vec![]
        }
    }
}

/// Builds `(clamp c' (requant a x))` from `(requant ?a (clamp ?c ?x))` when the clamp is a ReLU
/// of its type, `[zp, qmax]`: a positive rescale is monotone and maps zp to the output zero
/// point, so the ReLU becomes `[zp_out, qmax_out]` after it.
struct SinkRelu {
    a: Var,
    c: Var,
    x: Var,
    facts: std::sync::Arc<Facts>,
}

impl Applier<Qnt, ()> for SinkRelu {
    fn apply_one(
        &self,
        g: &mut G,
        eclass: Id,
        subst: &Subst,
        _: Option<&PatternAst<Qnt>>,
        rule: Symbol,
    ) -> Vec<Id> {
        let (Some(a), Some(c)) = (leaf_scale(g, subst[self.a]), leaf_bounds(g, subst[self.c]))
        else {
            return vec![];
        };
        let Some(out) = self.facts.types.get(a.ty as usize) else {
            return vec![];
        };
        // The clamp must be exactly a ReLU, [zp, qmax], of its type; the requant maps zp to
        // the output zero point, so the ReLU after it is [zp_out, qmax_out].
        if c.lo != c.zp || c.hi != c.qmax {
            return vec![];
        }
        let rq = g.add(Qnt::Requant([subst[self.a], subst[self.x]]));
        let bounds = g.add(Qnt::Bounds(Bounds {
            lo: out.zero_point,
            hi: out.qmax(),
            zp: out.zero_point,
            qmax: out.qmax(),
            origin: c.origin,
        }));
        let new = g.add(Qnt::Clamp([bounds, rq]));
        if g.union_trusted(eclass, new, rule) {
            vec![eclass]
        } else {
            vec![]
        }
    }
}

/// Requantization-chain folding.
pub fn requant_rules(facts: std::sync::Arc<Facts>) -> Vec<Rewrite<Qnt, ()>> {
    let v = |s: &str| s.parse::<Var>().expect("valid pattern variable");
    vec![
        // rq_a(rq_b(x)) = rq_{a·b}(x): scaling by b then by a is scaling by a·b.
        rewrite!("fold-requant"; "(requant ?a (requant ?b ?x))" => { Compose { a: v("?a"), b: v("?b"), x: v("?x") } }),
        // rq_a(relu(x)) = relu'(rq_a(x)): a positive rescale is monotone and maps zp to zp'.
        rewrite!("sink-requant-through-relu"; "(requant ?a (clamp ?c ?x))" => { SinkRelu { a: v("?a"), c: v("?c"), x: v("?x"), facts: facts.clone() } }),
    ]
}
