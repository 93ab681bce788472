//! The layer attributes written and read back: the text is what `nibble-recognize-layers` and
//! `nibble-equalize` always wrote (it is part of `model.graph.mlir`), and reading it gives
//! the parameters every reader used to parse by hand.

use crate::activation::Activation;
use crate::layers::{label, Kind, Layer, DOMAIN_NAME, IMPLEMENTATION_ATTRS, OPERATOR_NAME};
use crate::{tosa, ClampChannels, GraphError, HardSigmoid, LayerNorm, SqueezeExcite, Swish};
use nibble_ir::{Attr, Op};

/// A `tosa.custom` op of `domain` with these attributes.
fn custom(domain: &str, name: &str, params: &str) -> Op {
    let mut op = Op {
        name: tosa::CUSTOM.into(),
        operands: vec![0],
        results: vec![1],
        attrs: Default::default(),
        loc: None,
    };
    for (k, v) in [
        (DOMAIN_NAME, domain),
        (OPERATOR_NAME, name),
        (IMPLEMENTATION_ATTRS, params),
    ] {
        op.attrs.insert(k.into(), Attr::Str(v.into()));
    }
    op
}

/// f32 constants a layer's parameters come from, with awkward decimals.
const F32S: [f32; 6] = [1.0 / 6.0, 0.5, 1.0, 1e-5, 0.2, -1.702];

#[test]
fn texts_are_the_ones_always_written() {
    for v in F32S {
        let w = v as f64;
        let hs = Layer::HardSigmoid(HardSigmoid { alpha: w, beta: w });
        assert_eq!(hs.implementation_attrs(), format!("alpha={v:e},beta={v:e}"));
        let swish = Layer::Swish(Swish { beta: w });
        assert_eq!(swish.implementation_attrs(), format!("beta={v:e}"));
        let ln = Layer::LayerNorm(LayerNorm { epsilon: w });
        assert_eq!(ln.implementation_attrs(), format!("epsilon={v:e}"));
    }
    let se = SqueezeExcite {
        hidden_max: 6.0,
        silu: false,
        alpha: (1.0f32 / 6.0) as f64,
        beta: 0.5,
        sigmoid: false,
    };
    assert_eq!(
        Layer::SqueezeExcite(se).implementation_attrs(),
        "hidden_max=6e0,alpha=1.6666667e-1,beta=5e-1,sigmoid=0,silu=0"
    );
    let silu = SqueezeExcite {
        hidden_max: f64::INFINITY,
        silu: true,
        alpha: 1.0,
        beta: 0.0,
        sigmoid: true,
    };
    assert_eq!(
        Layer::SqueezeExcite(silu).implementation_attrs(),
        "hidden_max=inf,alpha=1e0,beta=0e0,sigmoid=1,silu=1"
    );
    let clamp = Layer::ClampChannels(ClampChannels { min: 0.0 });
    assert_eq!(clamp.implementation_attrs(), "min=0");
    assert_eq!(Layer::HardSwish.implementation_attrs(), "");
}

#[test]
fn written_layers_read_back() {
    let se = SqueezeExcite {
        hidden_max: f64::INFINITY,
        silu: true,
        alpha: 0.25,
        beta: 0.5,
        sigmoid: true,
    };
    let layers = [
        Layer::HardSwish,
        Layer::ScaledHardSwish,
        Layer::ClampChannels(ClampChannels { min: 0.0 }),
        Layer::HardSigmoid(HardSigmoid {
            alpha: 0.25,
            beta: 0.5,
        }),
        Layer::Gelu,
        Layer::Swish(Swish { beta: 1.0 }),
        Layer::LayerNorm(LayerNorm { epsilon: 0.5 }),
        Layer::Prelu,
        Layer::Softmax,
        Layer::SqueezeExcite(se),
    ];
    for layer in layers {
        let op = layer.op(vec![0], 1, Some("loc(\"n\")".into()));
        assert_eq!(op.name, tosa::CUSTOM);
        assert_eq!(Kind::of(&op), Some(layer.kind()));
        assert_eq!(Layer::from_op(&op), Ok(Some(layer.clone())));
        assert_eq!(label(&op), layer.kind().name());
    }
    assert_eq!(
        Kind::ALL.map(|k| Kind::from_name(k.name())),
        Kind::ALL.map(Some)
    );
}

#[test]
fn parameters_read_as_the_f64_of_their_text() {
    // What every reader parsed: the f64 of the decimal, not the f32 it was written from.
    let op = custom("nibble", "swish", "beta=1.6666667e-1");
    assert_eq!(Swish::from_op(&op).unwrap().beta, 0.16666667f64);
    // The first value that parses wins; absent flags are false.
    let op = custom(
        "nibble",
        "squeeze_excite",
        "hidden_max=x,hidden_max=6,alpha=1,beta=0",
    );
    let p = SqueezeExcite::from_op(&op).unwrap();
    assert_eq!((p.hidden_max, p.sigmoid, p.silu), (6.0, false, false));
}

#[test]
fn other_ops_and_missing_parameters() {
    assert_eq!(Kind::of(&custom("other", "swish", "beta=1")), None);
    assert_eq!(Kind::of(&custom("nibble", "mystery", "")), None);
    assert_eq!(Layer::from_op(&custom("other", "prelu", "")), Ok(None));
    let e = Layer::from_op(&custom("nibble", "layer_norm", "eps=1")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tosa.custom layer_norm: missing parameter 'epsilon'"
    );
    let e = LayerNorm::from_op(&custom("nibble", "prelu", "")).unwrap_err();
    assert!(
        matches!(
            e,
            GraphError::NotLayer {
                want: "layer_norm",
                ..
            }
        ),
        "{e}"
    );
    let mut conv = custom("nibble", "prelu", "");
    conv.attrs.clear();
    conv.name = tosa::CONV2D.into();
    assert_eq!(label(&conv), "conv2d");
    assert_eq!(label(&custom("other", "thing", "")), "thing");
}

#[test]
fn activations_of_ops() {
    let mut sigmoid = custom("nibble", "", "");
    sigmoid.attrs.clear();
    sigmoid.name = tosa::SIGMOID.into();
    assert_eq!(Activation::of(&sigmoid), Ok(Some(Activation::Sigmoid)));
    let swish = custom("nibble", "swish", "beta=2e0");
    assert_eq!(
        Activation::of(&swish),
        Ok(Some(Activation::Swish { beta: 2.0 }))
    );
    assert_eq!(Activation::of(&custom("nibble", "softmax", "")), Ok(None));
    // A layer that is no unary activation is not parsed: its parameters do not matter here.
    assert_eq!(
        Activation::of(&custom("nibble", "layer_norm", "")),
        Ok(None)
    );
    assert!(Activation::of(&custom("nibble", "hard_sigmoid", "alpha=1")).is_err());
    let h = Activation::HardSwish;
    assert_eq!(h.map(&[-3.0, 0.0, 3.0]), vec![0.0, 0.0, 3.0]);
}

#[test]
fn squeeze_excite_gate() {
    // C = 2, Cm = 1: h = relu6(m0 + m1), g_k = clamp(α·h·w2_k + β, 0, 1).
    let se = SqueezeExcite {
        hidden_max: 6.0,
        silu: false,
        alpha: 0.5,
        beta: 0.0,
        sigmoid: false,
    };
    let g = se
        .gate(
            [&[1.0, 1.0], &[0.0], &[1.0, 0.25], &[0.0, 0.0]],
            &[0.5, 0.25],
        )
        .unwrap();
    assert_eq!(g, vec![0.375, 0.09375]);
    assert!(se
        .gate([&[1.0], &[0.0], &[1.0], &[0.0]], &[0.5, 0.25])
        .is_err());
}
