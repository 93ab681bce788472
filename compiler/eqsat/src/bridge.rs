//! The bridge between a qnt-level [`Func`] and the e-graph: every single-result op becomes a
//! node (`qnt.requant` and `qnt.clamp` interpreted, everything else opaque), the function's
//! returns are the roots; after saturation the cheapest equivalent program is extracted and
//! rebuilt as a function, with shared values built once.

use crate::lang::{Bounds, OpRef, Qnt, Scale};
use crate::rules::{requant_rules, Facts};
use crate::EqsatError;
use egg::{CostFunction, EGraph, Extractor, Id, Language, Runner};
use nibble_ir::{Func, Op, QuantType, ValueId};
use nibble_qnt as qnt;
use std::collections::HashMap;
use std::sync::Arc;

/// Cost: a requantization is a multiply, add and shift per element; a clamp is cheap.
struct OpCost;
impl CostFunction<Qnt> for OpCost {
    type Cost = u64;
    fn cost<C: FnMut(Id) -> u64>(&mut self, enode: &Qnt, mut costs: C) -> u64 {
        let own = match enode {
            Qnt::Requant(_) => 4,
            Qnt::Clamp(_) => 1,
            Qnt::Scale(_) | Qnt::Bounds(_) => 0,
            Qnt::Opaque(..) => 1,
        };
        enode.fold(own, |sum, id| sum.saturating_add(costs(id)))
    }
}

/// Statistics of a run, for tracing and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub requants_before: usize,
    pub requants_after: usize,
    pub iterations: usize,
}

/// A `qnt.requant` with single rounding (the one mode the e-graph interprets).
fn single_round(op: &Op) -> bool {
    qnt::Requant::from_op(op).is_ok_and(|r| r.rounding_mode == qnt::SINGLE_ROUND)
}

/// Folds requantization chains in `f` (see [`crate::rules`]).
pub fn fold_requant(f: &Func) -> Result<(Func, Report), EqsatError> {
    let mut g: EGraph<Qnt, ()> = EGraph::default();
    let mut types: Vec<QuantType> = Vec::new();
    let mut ids: HashMap<ValueId, Id> = HashMap::new();
    for (i, &a) in f.args.iter().enumerate() {
        ids.insert(a, g.add(Qnt::Opaque(OpRef::Arg(i as u32), vec![])));
    }
    for (k, op) in f.ops.iter().enumerate() {
        if op.results.len() != 1 {
            return Err(EqsatError::MultiResult(op.name.clone(), op.results.len()));
        }
        let kids: Vec<Id> = op.operands.iter().map(|o| ids[o]).collect();
        let node = match op.name.as_str() {
            // Per-tensor requantizations are interpreted; per-channel ones (array attributes)
            // stay opaque.
            qnt::REQUANT if single_round(op) => {
                let q = f.ty(op.results[0]).quant().ok_or_else(|| {
                    EqsatError::Invalid(format!("{} result is not quantized", op.name))
                })?;
                types.push(q);
                let rq =
                    qnt::Requant::from_op(op).map_err(|e| EqsatError::Invalid(e.to_string()))?;
                let (m, s) = rq.scale.lists();
                if m.len() != s.len() {
                    return Err(EqsatError::Invalid(format!(
                        "{}: {} multipliers for {} shifts",
                        op.name,
                        m.len(),
                        s.len()
                    )));
                }
                let factors = m.into_iter().zip(s).collect();
                let leaf = g.add(Qnt::Scale(Scale {
                    factors,
                    ty: types.len() as u32 - 1,
                    origin: k as u32,
                }));
                Qnt::Requant([leaf, kids[0]])
            }
            qnt::CLAMP => {
                let qnt::Clamp { min: lo, max: hi } =
                    qnt::Clamp::from_op(op).map_err(|e| EqsatError::Invalid(e.to_string()))?;
                let q = f.ty(op.results[0]).quant().ok_or_else(|| {
                    EqsatError::Invalid(format!("{} result is not quantized", op.name))
                })?;
                let leaf = g.add(Qnt::Bounds(Bounds {
                    lo,
                    hi,
                    zp: q.zero_point,
                    qmax: q.qmax(),
                    origin: k as u32,
                }));
                Qnt::Clamp([leaf, kids[0]])
            }
            _ => Qnt::Opaque(OpRef::Op(k as u32), kids),
        };
        ids.insert(op.results[0], g.add(node));
    }
    let roots: Vec<Id> = f.returns.iter().map(|r| ids[r]).collect();
    let facts = Arc::new(Facts {
        types: types.clone(),
    });
    let runner = Runner::default()
        .with_egraph(g)
        .with_iter_limit(32)
        .with_node_limit(200_000)
        // egg's default 5 s time limit would make results depend on machine speed; the
        // iteration and node limits above are what bound the run.
        .with_time_limit(std::time::Duration::from_secs(365 * 24 * 3600))
        .run(&requant_rules(facts));
    let iterations = runner.iterations.len();
    let extractor = Extractor::new(&runner.egraph, OpCost);

    let mut out = Func::new(&f.name);
    out.attrs = f.attrs.clone();
    let mut built: HashMap<Id, ValueId> = HashMap::new();
    for &a in &f.args {
        let v = out.add_arg(f.ty(a).clone());
        built.insert(runner.egraph.find(ids[&a]), v);
    }
    let mut b = Builder {
        f,
        types: &types,
        extractor: &extractor,
        egraph: &runner.egraph,
        out,
        built,
    };
    for &r in &roots {
        let v = b.build(r)?;
        b.out.returns.push(v);
    }
    let count = |f: &Func| f.ops.iter().filter(|o| o.name == qnt::REQUANT).count();
    let report = Report {
        requants_before: count(f),
        requants_after: count(&b.out),
        iterations,
    };
    Ok((b.out, report))
}

struct Builder<'a> {
    f: &'a Func,
    types: &'a [QuantType],
    extractor: &'a Extractor<'a, OpCost, Qnt, ()>,
    egraph: &'a EGraph<Qnt, ()>,
    out: Func,
    built: HashMap<Id, ValueId>,
}

impl Builder<'_> {
    /// Builds the best node of `class` (children first), once per e-class.
    fn build(&mut self, id: Id) -> Result<ValueId, EqsatError> {
        let key = self.egraph.find(id);
        if let Some(&v) = self.built.get(&key) {
            return Ok(v);
        }
        let class = self.extractor.find_best_node(key).clone();
        let leaf_of = |b: &Self, id: Id| b.extractor.find_best_node(id).clone();
        let v = match &class {
            Qnt::Requant([s, x]) => {
                let Qnt::Scale(s) = leaf_of(self, *s) else {
                    return Err(EqsatError::Invalid("requant without a scale leaf".into()));
                };
                let x = self.build(*x)?;
                let origin: &Op = &self.f.ops[s.origin as usize];
                let q = self.types[s.ty as usize];
                let ty = self.out.ty(x).with_elem(nibble_ir::Elem::Quant(q));
                let v = match s.factors.as_slice() {
                    [(m, sh)] => qnt::requant(&mut self.out, x, ty, *m, *sh),
                    f => {
                        let (ms, shs): (Vec<i32>, Vec<i32>) = f.iter().copied().unzip();
                        qnt::requant_per_channel(&mut self.out, x, ty, &ms, &shs)
                    }
                };
                if let Some(o) = self.out.ops.last_mut() {
                    o.loc = origin.loc.clone();
                }
                v
            }
            Qnt::Clamp([bounds, x]) => {
                let Qnt::Bounds(bd) = leaf_of(self, *bounds) else {
                    return Err(EqsatError::Invalid("clamp without bounds".into()));
                };
                let x = self.build(*x)?;
                let v = qnt::clamp(&mut self.out, x, bd.lo, bd.hi);
                let loc = self.f.ops[bd.origin as usize].loc.clone();
                if let Some(o) = self.out.ops.last_mut() {
                    o.loc = loc;
                }
                v
            }
            Qnt::Opaque(OpRef::Op(k), kids) => {
                let operands = kids
                    .iter()
                    .map(|&c| self.build(c))
                    .collect::<Result<Vec<_>, _>>()?;
                let orig = &self.f.ops[*k as usize];
                let r = self.out.new_value(self.f.ty(orig.results[0]).clone());
                self.out.ops.push(Op {
                    operands,
                    results: vec![r],
                    ..orig.clone()
                });
                r
            }
            Qnt::Opaque(OpRef::Arg(i), _) => self.out.args[*i as usize],
            Qnt::Scale(_) | Qnt::Bounds(_) => {
                return Err(EqsatError::Invalid(
                    "a parameter leaf is not a value".into(),
                ))
            }
        };
        self.built.insert(key, v);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nibble_ir::{Elem, Type};

    fn q(bits: u32, scale: f64) -> Type {
        Type::tensor(
            &[4],
            Elem::Quant(QuantType {
                bits,
                scale,
                zero_point: 0,
            }),
        )
    }

    /// acc → requant → relu → requant, with the relu output also used by a second consumer.
    fn chain(shared: bool) -> Func {
        let mut f = Func::new("main");
        let x = f.add_arg(q(32, 1e-4));
        let r1 = qnt::requant(&mut f, x, q(8, 2e-2), 1374389535, 38);
        let c = qnt::clamp(&mut f, r1, 0, 127);
        let r2 = qnt::requant(&mut f, c, q(8, 1e-2), 1 << 30, 29);
        let o = qnt::dequantize(&mut f, r2, Type::tensor(&[4], Elem::F32));
        f.returns.push(o);
        if shared {
            let o2 = qnt::dequantize(&mut f, c, Type::tensor(&[4], Elem::F32));
            f.returns.push(o2);
        }
        f
    }

    #[test]
    fn folds_the_chain_into_one_requant() {
        let (out, report) = fold_requant(&chain(false)).unwrap();
        assert_eq!((report.requants_before, report.requants_after), (2, 1));
        let rq = out.ops.iter().find(|o| o.name == qnt::REQUANT).unwrap();
        assert_eq!(
            qnt::Requant::from_op(rq).unwrap().scale,
            qnt::Scale::Tensor {
                multiplier: 1374389535,
                shift: 37
            }
        );
        let names: Vec<&str> = out.ops.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, [qnt::REQUANT, qnt::CLAMP, qnt::DEQUANTIZE]);
    }

    #[test]
    fn shared_values_are_built_once_and_runs_are_deterministic() {
        let f = chain(true);
        let (a, _) = fold_requant(&f).unwrap();
        let (b, _) = fold_requant(&f).unwrap();
        assert_eq!(a, b);
        // Every op of the result is used (no duplicated or dead nodes) and the arg is used.
        let uses = a.use_counts();
        assert!(a.ops.iter().all(|o| uses[o.results[0]] > 0));
        assert_eq!(
            a.ops.iter().filter(|o| o.name == qnt::DEQUANTIZE).count(),
            2
        );
    }
}
