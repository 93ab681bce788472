//! C initializers and file-scope arrays: constants, weights and the parameter tables kernel
//! calls read.

use crate::{err, CodegenError};
use nibble_ir::{model, Elem, Op};
use std::fmt::{Display, Write};

/// `a, b, c`: values joined for a C initializer.
pub(crate) fn list<T: Display>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `{ a, b, c }`: a struct initializer.
pub(crate) fn fields(values: &[&dyn Display]) -> String {
    let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!("{{ {} }}", values.join(", "))
}

/// `INT64_C(v)`: a 64-bit literal.
pub(crate) fn int64(v: i64) -> String {
    format!("INT64_C({v})")
}

/// Appends `static const TYPE NAME[n] = {…};` with 32 values a line.
pub(crate) fn c_array<T: Display>(
    out: &mut String,
    ty: &str,
    name: &str,
    values: impl Iterator<Item = T>,
) {
    let mut body = String::new();
    let mut n = 0;
    for v in values {
        let _ = write!(body, "{}{v},", if n % 32 == 0 { "\n    " } else { "" });
        n += 1;
    }
    let _ = writeln!(out, "static const {ty} {name}[{n}] = {{{body}\n}};");
}

/// Appends `static const TYPE NAME[len] = {a, b, …};` on one line (`len` as declared, which
/// is the number of values except for a malformed hard-swish record).
pub(crate) fn inline_array<T: Display>(
    out: &mut String,
    ty: &str,
    name: &str,
    len: usize,
    values: &[T],
) {
    let _ = writeln!(
        out,
        "static const {ty} {name}[{len}] = {{{}}};",
        list(values)
    );
}

/// `static const int a[n] = {…}, b[m] = {…};`: the small geometry arrays of a kernel call,
/// each with its declared length.
pub(crate) fn int_arrays(decls: &[(&str, usize, &[i64])]) -> String {
    let decls: Vec<String> = decls
        .iter()
        .map(|(name, len, values)| format!("{name}[{len}] = {{{}}}", list(values)))
        .collect();
    format!("static const int {};", decls.join(", "))
}

/// A `tile.const` (op number `i`) as the file-scope array `nb_const{i}`; returns its name.
pub(crate) fn constant(op: &Op, i: usize, weights: &mut String) -> Result<String, CodegenError> {
    let nibble_qnt::Const { ty, bytes } = nibble_tile::const_data(op)?;
    let name = format!("nb_const{i}");
    match ty.elem() {
        Some(Elem::Int(8)) => c_array(weights, "int8_t", &name, bytes.iter().map(|&b| b as i8)),
        Some(Elem::Int(32)) => c_array(
            weights,
            "int32_t",
            &name,
            model::dense_i32(bytes).into_iter(),
        ),
        _ => return Err(err(op, "only i8 and i32 constants are supported")),
    }
    Ok(name)
}
