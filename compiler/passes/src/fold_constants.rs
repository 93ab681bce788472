//! `nibble-fold-constants`: evaluates graph-level ops whose operands are all constants with the
//! float interpreter and replaces them by `tosa.const` (then drops what became dead), so no
//! run-time work is spent on values known at compile time.
//!
//! Precondition: graph level (tosa, f32). Ops the float interpreter does not know are left
//! alone. Postcondition: no interpreter-known op has only constant operands.
//!
//! Before:
//! ```mlir
//! %a = "tosa.const"() {values = dense<[1.0, 2.0]>} ; %b = "tosa.const"() {values = dense<4.0>}
//! %c = tosa.reciprocal %b ; %d = tosa.add %a, %c
//! ```
//! After:
//! ```mlir
//! %d = "tosa.const"() {values = dense<[1.25, 2.25]>}
//! ```

use crate::{Options, PassInfo};
use nibble_graph::tosa;
use nibble_interp::float::FloatProgram;
use nibble_ir::{Attr, Elem, Func, Op, Type};

pub const PASS: PassInfo = PassInfo {
    name: "nibble-fold-constants",
    summary: "Evaluate graph-level ops whose operands are all constants",
    run,
};

/// Evaluates `op` on the constants defining its operands, if the interpreter can.
fn evaluate(f: &Func, op: &Op, producers: &[Option<usize>]) -> Option<Vec<f32>> {
    let mut g = Func::new("fold");
    g.add_arg(Type::tensor(&[1], Elem::F32));
    let mut map = std::collections::HashMap::new();
    for &o in &op.operands {
        if map.contains_key(&o) {
            continue;
        }
        let def = &f.ops[producers[o]?];
        let v = g.new_value(f.ty(o).clone());
        g.ops.push(Op {
            results: vec![v],
            ..def.clone()
        });
        map.insert(o, v);
    }
    let r = g.new_value(f.ty(op.results[0]).clone());
    g.ops.push(Op {
        operands: op.operands.iter().map(|o| map[o]).collect(),
        results: vec![r],
        ..op.clone()
    });
    g.returns.push(r);
    let prog = FloatProgram::new(&g).ok()?;
    prog.run(&[0.0], |_, _| {}).ok()?.pop()
}

#[tracing::instrument(skip_all, name = "nibble-fold-constants")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let mut f = f.clone();
    let mut folded = 0;
    let producers = f.producers();
    for i in 0..f.ops.len() {
        let op = &f.ops[i];
        let is_const = |v: usize| producers[v].is_some_and(|p| tosa::is_constant(&f.ops[p].name));
        let foldable = !tosa::is_constant(&op.name)
            && op.results.len() == 1
            && !op.operands.is_empty()
            && op.operands.iter().all(|&o| is_const(o))
            && f.ty(op.results[0]).elem() == Some(&Elem::F32);
        if !foldable {
            continue;
        }
        if let Some(data) = evaluate(&f, op, &producers) {
            let ty = f.ty(op.results[0]).clone();
            let loc = op.loc.clone();
            f.ops[i] = Op {
                name: tosa::CONST.into(),
                operands: vec![],
                results: vec![op.results[0]],
                attrs: [("values".to_string(), Attr::dense_f32(ty, &data))]
                    .into_iter()
                    .collect(),
                loc,
            };
            folded += 1;
        }
    }
    f.compact();
    tracing::info!(folded, "constant ops evaluated");
    Ok(f)
}
