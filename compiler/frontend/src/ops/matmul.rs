//! Matrix products: Gemm (a fully connected layer with constant B and bias C) and MatMul
//! (activation × constant matrix, or activation × activation), as tosa.matmul on rank 3.

use super::{Import, OpSupport};
use crate::emit::f32t;
use crate::importer::{Importer, Val};
use crate::tensor::Const;
use crate::ImportError;
use nibble_graph::tosa;
use nibble_ir::ValueId;

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "Gemm",
        opsets: "7–21",
        attributes: "alpha, beta, transB (transA 0)",
        notes: "constant B and C; C a bias of M elements",
        import: Import::Lower(gemm),
    },
    OpSupport {
        op: "MatMul",
        opsets: "1–21",
        attributes: "",
        notes:
            "activation × constant matrix, or activation × activation with equal batch dimensions",
        import: Import::Lower(matmul),
    },
];

/// `alpha · A·B + beta · C` with A an activation [N, K], B constant (transposed when transB),
/// C a constant bias of M elements.
fn gemm(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let a = imp.input(0)?;
    let a = imp.plain(a);
    let b = imp.konst(1)?;
    let sa = imp.shape(a);
    if sa.len() != 2 || b.dims.len() != 2 {
        return Err(imp.err("Gemm needs 2-D A and B"));
    }
    if imp.int("transA", 0) != 0 {
        return Err(imp.err("transA = 1 is not supported"));
    }
    let (alpha, beta) = (imp.float("alpha", 1.0), imp.float("beta", 1.0));
    // B as [K, M]
    let b = if imp.int("transB", 0) != 0 {
        transposed(&b)
    } else {
        b
    };
    let (k, m) = (b.dims[0], b.dims[1]);
    if sa[1] != k {
        return Err(imp.err(format!("A has {} columns, B has {k} rows", sa[1])));
    }
    let bdata: Vec<f32> = b.data.iter().map(|v| v * alpha).collect();
    let c = match imp.konst_opt(2)? {
        Some(c) => c.data,
        None => vec![0.0; m as usize],
    };
    if c.len() as i64 != m {
        return Err(imp.err(format!(
            "C has {} elements; only a bias of {m} elements is supported",
            c.len()
        )));
    }
    let c: Vec<f32> = c.iter().map(|v| v * beta).collect();
    let b = Const {
        dims: vec![k, m],
        data: bdata,
    };
    let r = matmul_const(imp, a, &b, Some(&c))?;
    Ok(vec![Val { id: r, nhwc: false }])
}

/// A 2-D constant transposed.
fn transposed(b: &Const) -> Const {
    let (m, k) = (b.dims[0] as usize, b.dims[1] as usize);
    let mut t = vec![0.0; m * k];
    for i in 0..m {
        for j in 0..k {
            t[j * m + i] = b.data[i * k + j];
        }
    }
    Const {
        dims: vec![k as i64, m as i64],
        data: t,
    }
}

/// `a[N,K] · b[K,M] (+ bias[M])` as tosa.matmul on rank 3 plus tosa.add.
fn matmul_const(
    imp: &mut Importer,
    a: ValueId,
    b: &Const,
    bias: Option<&[f32]>,
) -> Result<ValueId, ImportError> {
    let sa = imp.shape(a);
    let (k, m) = (b.dims[0], b.dims[1]);
    if sa[1] != k {
        return Err(imp.err(format!("A has {} columns, B has {k} rows", sa[1])));
    }
    let a3 = imp.reshape(a, &[1, sa[0], k]);
    let bv = imp.constant(&[1, k, m], &b.data);
    let z = imp.zero_point();
    let mm = imp.push(tosa::MATMUL, &[a3, bv, z, z], f32t(&[1, sa[0], m]), vec![]);
    let mm2 = imp.reshape(mm, &[sa[0], m]);
    Ok(match bias {
        Some(c) => {
            let cv = imp.constant(&[1, m], c);
            imp.push(tosa::ADD, &[mm2, cv], f32t(&[sa[0], m]), vec![])
        }
        None => mm2,
    })
}

/// MatMul: activation × constant matrix (leading dimensions flattened), or activation ×
/// activation with equal batch dimensions (as one batched tosa.matmul).
fn matmul(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let a = imp.input(0)?;
    let a = imp.plain(a);
    let sa = imp.shape(a);
    if sa.len() < 2 {
        return Err(imp.err("MatMul needs operands of rank 2 or more"));
    }
    let bname = imp.node.input.get(1).cloned().unwrap_or_default();
    let r = match imp.consts.get(&bname).cloned() {
        Some(b) => by_constant(imp, a, &sa, &b)?,
        None => by_activation(imp, a, &sa)?,
    };
    Ok(vec![Val { id: r, nhwc: false }])
}

/// `a` (of shape `sa`) times a constant 2-D matrix.
fn by_constant(
    imp: &mut Importer,
    a: ValueId,
    sa: &[i64],
    b: &Const,
) -> Result<ValueId, ImportError> {
    if b.dims.len() != 2 {
        return Err(imp.err(format!(
            "a constant MatMul operand must be 2-D, got {:?}",
            b.dims
        )));
    }
    let k = *sa.last().unwrap_or(&0);
    let n: i64 = sa[..sa.len() - 1].iter().product();
    let a2 = if sa.len() == 2 {
        a
    } else {
        imp.reshape(a, &[n, k])
    };
    let r = matmul_const(imp, a2, b, None)?;
    let mut out = sa.to_vec();
    *out.last_mut().unwrap_or(&mut 0) = b.dims[1];
    Ok(if sa.len() == 2 {
        r
    } else {
        imp.reshape(r, &out)
    })
}

/// `a` (of shape `sa`) times the activation of input 1, batch dimensions equal.
fn by_activation(imp: &mut Importer, a: ValueId, sa: &[i64]) -> Result<ValueId, ImportError> {
    let b = imp.input(1)?;
    let b = imp.plain(b);
    let sb = imp.shape(b);
    let r = sa.len();
    if sb.len() != r || sa[..r - 2] != sb[..r - 2] || sa[r - 1] != sb[r - 2] {
        return Err(imp.err(format!(
            "MatMul shapes {sa:?} x {sb:?} are not supported (equal batch dimensions needed)"
        )));
    }
    let batch: i64 = sa[..r - 2].iter().product();
    let (m, k, n) = (sa[r - 2], sa[r - 1], sb[r - 1]);
    let a3 = imp.reshape(a, &[batch, m, k]);
    let b3 = imp.reshape(b, &[batch, k, n]);
    let z = imp.zero_point();
    let mm = imp.push(tosa::MATMUL, &[a3, b3, z, z], f32t(&[batch, m, n]), vec![]);
    let mut out = sa[..r - 2].to_vec();
    out.extend([m, n]);
    Ok(imp.reshape(mm, &out))
}
