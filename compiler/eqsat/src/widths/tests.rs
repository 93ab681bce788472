use super::*;

fn layer(params: u64, noise: [f64; 5]) -> OpKind {
    OpKind::Layer(Layer {
        params,
        macs: params * 10,
        widths: WeightWidth::ALL.to_vec(),
        noise,
        macs_per_cycle: [64.0; 5],
    })
}

fn value(elements: u64, wide: bool) -> Value {
    Value {
        elements,
        noise: [1e-4, 1e-4 / 65536.0],
        readers: 0,
        wide,
    }
}

fn op(name: &str, inputs: &[u32], output: u32, kind: OpKind, wide: bool) -> OpDesc {
    OpDesc {
        name: name.into(),
        inputs: inputs.to_vec(),
        output,
        kind,
        wide_inputs: vec![wide; inputs.len()],
        wide_output: wide,
    }
}

/// x → conv a (1000 weights, sensitive) → conv b (1000 weights, robust) → out.
fn chain() -> Problem {
    Problem {
        values: vec![value(100, false), value(100, false), value(100, false)],
        args: vec![0],
        ops: vec![
            op(
                "a",
                &[0],
                1,
                layer(1000, [1e-6, 1e-3, 1e-1, 2e-1, 5e-1]),
                false,
            ),
            op(
                "b",
                &[1],
                2,
                layer(1000, [1e-6, 1e-5, 1e-3, 2e-3, 5e-3]),
                false,
            ),
        ],
        outputs: vec![2],
    }
}

fn weights(s: &Solution) -> Vec<Option<WeightWidth>> {
    s.forms.iter().map(|f| f.and_then(|f| f.weights)).collect()
}

#[test]
fn unlimited_budget_keeps_8_bits() {
    let s = solve(&chain(), &Budget::default()).unwrap();
    assert_eq!(weights(&s), vec![Some(WeightWidth::W8); 2]);
    assert_eq!(s.cost.weight_bytes, 2000.0);
}

#[test]
fn budget_narrows_the_robust_layer_first() {
    // 1500 bytes: one layer at 8 bits, the other at 4 — the robust one gives way.
    let b = Budget {
        weight_bytes: Some(1500.0),
        ..Budget::default()
    };
    let s = solve(&chain(), &b).unwrap();
    assert_eq!(
        weights(&s),
        vec![Some(WeightWidth::W8), Some(WeightWidth::W4)]
    );
    // 700 bytes: 500 + 200: a at 4 bits, b at 2 bits (or ternary): the cheapest total noise.
    let b = Budget {
        weight_bytes: Some(750.0),
        ..Budget::default()
    };
    let s = solve(&chain(), &b).unwrap();
    assert_eq!(s.forms[0].unwrap().weights, Some(WeightWidth::W4));
    assert_eq!(s.forms[1].unwrap().weights, Some(WeightWidth::W2));
    assert!(s.cost.weight_bytes <= 750.0);
}

#[test]
fn infeasible_budget_is_an_error() {
    let b = Budget {
        weight_bytes: Some(100.0),
        ..Budget::default()
    };
    assert!(matches!(solve(&chain(), &b), Err(WidthError::Infeasible)));
}

#[test]
fn widths_the_layer_does_not_allow_are_never_chosen() {
    let mut p = chain();
    if let OpKind::Layer(l) = &mut p.ops[1].kind {
        l.widths = vec![WeightWidth::W8, WeightWidth::W4];
    }
    let b = Budget {
        weight_bytes: Some(750.0),
        ..Budget::default()
    };
    let s = solve(&p, &b).unwrap();
    assert_eq!(s.forms[1].unwrap().weights, Some(WeightWidth::W4));
    assert_eq!(s.forms[0].unwrap().weights, Some(WeightWidth::W2));
}

/// x → conv a → (t) → conv b, conv c; b + c → out. `t` may be 16-bit and b reads 16 bits, c
/// does not: the 16-bit t needs a narrow for c, paid once.
fn fork(c_reads_wide: bool) -> Problem {
    let mut c = op("c", &[1], 3, layer(10, [0.0; 5]), false);
    c.wide_inputs = vec![c_reads_wide];
    Problem {
        values: vec![
            value(100, false),
            value(100, true),
            value(100, false),
            value(100, false),
            value(100, false),
        ],
        args: vec![0],
        ops: vec![
            op("a", &[0], 1, layer(10, [0.0; 5]), true),
            op("b", &[1], 2, layer(10, [0.0; 5]), true),
            c,
            op("add", &[2, 3], 4, OpKind::Rounding, false),
        ],
        outputs: vec![4],
    }
}

#[test]
fn a_wide_tensor_narrows_for_readers_without_16_bit_kernels() {
    let s = solve(&fork(false), &Budget::default()).unwrap();
    assert!(s.wide[1] && s.narrowed[1], "{s:?}");
    // Noise: the input's rounding (read by a), t's rounding half in 16 bits (b) and half in
    // 8 (c, through the narrow), and the 8-bit results of b and c (read by the add).
    let expected = 1e-4 + (1e-4 / 65536.0 + 1e-4) / 2.0 + 2e-4;
    assert!((s.cost.noise - expected).abs() < 1e-12, "{}", s.cost.noise);
    let s = solve(&fork(true), &Budget::default()).unwrap();
    assert!(s.wide[1] && !s.narrowed[1], "{s:?}");
    // No activation budget for 16 bits: everything stays 8-bit.
    let b = Budget {
        extra_act_bytes: Some(0.0),
        ..Budget::default()
    };
    let s = solve(&fork(true), &b).unwrap();
    assert!(!s.wide[1]);
}

#[test]
fn runs_are_deterministic() {
    let b = Budget {
        weight_bytes: Some(1200.0),
        ..Budget::default()
    };
    let a = solve(&chain(), &b).unwrap();
    for _ in 0..3 {
        assert_eq!(solve(&chain(), &b).unwrap(), a);
    }
}
