//! MLIR text for the model: printing a [`Func`] as a module in generic op form, and parsing
//! type text read back from MLIR.

use crate::model::{Attr, Elem, Func, QuantType, Type};
use crate::IrError;
use std::fmt::Write;

/// A float as an MLIR float literal that round-trips exactly (always has a `.`).
pub fn float_literal(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 {
            "0x7FF0000000000000".into()
        } else {
            "0xFFF0000000000000".into()
        };
    }
    let s = format!("{x:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mant = if mant.contains('.') {
        mant.to_string()
    } else {
        format!("{mant}.0")
    };
    format!("{mant}e{exp}")
}

/// `s` as an MLIR string literal, quotes included: `"` and `\` escaped, and every byte that is
/// not printable ASCII (control characters, DEL, UTF-8 above 0x7f) as `\XX`, which is what MLIR's
/// own printer writes and its lexer reads back byte for byte. Every string nibble prints into
/// MLIR (locations from ONNX node names, string attributes) goes through it.
pub fn mlir_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:02X}");
            }
        }
    }
    out.push('"');
    out
}

/// The text of an MLIR string literal's body (without its quotes): the inverse of
/// [`mlir_string`] (`\"`, `\\`, `\n`, `\t` and `\XX` escapes); bytes that are not UTF-8 are
/// replaced.
pub fn mlir_unescape(body: &str) -> String {
    let b = body.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            match b[i + 1] {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                c @ (b'"' | b'\\') => out.push(c),
                c => match (hex(c), b.get(i + 2).and_then(|&d| hex(d))) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 1;
                    }
                    _ => out.extend([b'\\', c]),
                },
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl std::fmt::Display for Elem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Elem::F32 => write!(f, "f32"),
            Elem::Int(b) => write!(f, "i{b}"),
            Elem::Index => write!(f, "index"),
            Elem::Quant(q) => {
                write!(
                    f,
                    "!quant.uniform<i{}:f32, {}",
                    q.bits,
                    float_literal(q.scale)
                )?;
                if q.zero_point != 0 {
                    write!(f, ":{}", q.zero_point)?;
                }
                write!(f, ">")
            }
            Elem::QuantAxis(q) => {
                let scales: Vec<String> = q.scales.iter().map(|&s| float_literal(s)).collect();
                write!(
                    f,
                    "!quant.uniform<i{}:f32:{}, {{{}}}>",
                    q.bits,
                    q.axis,
                    scales.join(",")
                )
            }
        }
    }
}

impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Type::Tensor { shape, elem } => {
                write!(f, "tensor<")?;
                for d in shape {
                    write!(f, "{d}x")?;
                }
                write!(f, "{elem}>")
            }
            Type::Other(s) => write!(f, "{s}"),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

impl std::fmt::Display for Attr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attr::Int(v, t) => write!(f, "{v} : {t}"),
            Attr::Float(v, t) => write!(f, "{} : {t}", float_literal(*v)),
            Attr::Bool(b) => write!(f, "{b}"),
            Attr::Str(s) => write!(f, "{}", mlir_string(s)),
            Attr::I64s(v) => write!(f, "array<i64{}>", list(v)),
            Attr::I32s(v) => write!(f, "array<i32{}>", list(v)),
            Attr::Dense(ty, bytes) => {
                // Quantized element types are stored as their storage integers.
                let ty = ty.storage();
                write!(f, "dense<\"{}\"> : {ty}", hex(bytes))
            }
            Attr::Raw(s) => write!(f, "{s}"),
        }
    }
}

fn list<T: std::fmt::Display>(v: &[T]) -> String {
    if v.is_empty() {
        return String::new();
    }
    let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!(": {}", items.join(", "))
}

fn attr_dict(attrs: &std::collections::BTreeMap<String, Attr>) -> String {
    let items: Vec<String> = attrs
        .iter()
        .map(|(k, v)| {
            let key = if k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                k.clone()
            } else {
                mlir_string(k)
            };
            format!("{key} = {v}")
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// Prints `func` as a whole MLIR module (ops in generic form).
pub fn print_module(func: &Func) -> String {
    let mut s = String::new();
    let args: Vec<String> = func
        .args
        .iter()
        .map(|&a| format!("%v{a}: {}", func.values[a]))
        .collect();
    let rets: Vec<String> = func
        .returns
        .iter()
        .map(|&r| func.values[r].to_string())
        .collect();
    let _ = writeln!(s, "module {{");
    let fattrs = if func.attrs.is_empty() {
        String::new()
    } else {
        format!(" attributes {}", attr_dict(&func.attrs))
    };
    let _ = writeln!(
        s,
        "  func.func @{}({}) -> ({}){} {{",
        func.name,
        args.join(", "),
        rets.join(", "),
        fattrs
    );
    for op in &func.ops {
        s.push_str("    ");
        if !op.results.is_empty() {
            let r: Vec<String> = op.results.iter().map(|r| format!("%v{r}")).collect();
            let _ = write!(s, "{} = ", r.join(", "));
        }
        let operands: Vec<String> = op.operands.iter().map(|o| format!("%v{o}")).collect();
        let otys: Vec<String> = op
            .operands
            .iter()
            .map(|&o| func.values[o].to_string())
            .collect();
        let rtys: Vec<String> = op
            .results
            .iter()
            .map(|&r| func.values[r].to_string())
            .collect();
        let _ = write!(s, "\"{}\"({})", op.name, operands.join(", "));
        if !op.attrs.is_empty() {
            let _ = write!(s, " {}", attr_dict(&op.attrs));
        }
        let rty = if rtys.len() == 1 {
            rtys[0].clone()
        } else {
            format!("({})", rtys.join(", "))
        };
        let _ = write!(s, " : ({}) -> {}", otys.join(", "), rty);
        if let Some(loc) = &op.loc {
            let _ = write!(s, " {loc}");
        }
        s.push('\n');
    }
    let r: Vec<String> = func.returns.iter().map(|r| format!("%v{r}")).collect();
    let _ = writeln!(
        s,
        "    \"func.return\"({}) : ({}) -> ()",
        r.join(", "),
        rets.join(", ")
    );
    let _ = writeln!(s, "  }}\n}}");
    s
}

/// Parses MLIR type text such as `tensor<1x28x28x1xf32>` or
/// `tensor<10x!quant.uniform<i8:f32, 0.5:3>>`; other types are kept as text.
pub fn parse_type(text: &str) -> Result<Type, IrError> {
    let t = text.trim();
    let Some(inner) = t.strip_prefix("tensor<").and_then(|r| r.strip_suffix('>')) else {
        return Ok(Type::Other(t.to_string()));
    };
    let mut shape = Vec::new();
    let mut rest = inner;
    loop {
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() || !rest[digits.len()..].starts_with('x') {
            break;
        }
        shape.push(digits.parse::<i64>().map_err(|_| IrError::Type(t.into()))?);
        rest = &rest[digits.len() + 1..];
    }
    let elem = match rest {
        "f32" => Elem::F32,
        "index" => Elem::Index,
        s if s.starts_with("!quant.uniform<") => {
            parse_quant(s).ok_or_else(|| IrError::Type(t.into()))?
        }
        s if s.starts_with('i') && s[1..].parse::<u32>().is_ok() => {
            Elem::Int(s[1..].parse().unwrap_or(0))
        }
        _ => return Ok(Type::Other(t.to_string())),
    };
    Ok(Type::Tensor { shape, elem })
}

fn parse_quant(s: &str) -> Option<Elem> {
    let body = s.strip_prefix("!quant.uniform<")?.strip_suffix('>')?;
    // Per axis: `i8:f32:0, {s0,s1:zp1,…}` (zero points must be 0).
    if let Some((head, list)) = body.split_once(", {") {
        let mut parts = head.split(':');
        let bits = parts.next()?.strip_prefix('i')?.parse().ok()?;
        let axis = parts.nth(1)?.parse().ok()?;
        let list = list.strip_suffix('}')?;
        let mut scales = Vec::new();
        for item in list.split(',') {
            let (scale, zp) = item.split_once(':').unwrap_or((item, "0"));
            if zp.trim() != "0" {
                return None;
            }
            scales.push(scale.trim().parse().ok()?);
        }
        return Some(Elem::QuantAxis(crate::model::QuantAxisType {
            bits,
            axis,
            scales,
        }));
    }
    let (storage, params) = body.split_once(',')?;
    let bits = storage.split(':').next()?.strip_prefix('i')?.parse().ok()?;
    let params = params.trim();
    let (scale, zp) = match params.split_once(':') {
        Some((s, z)) => (s, z.parse().ok()?),
        None => (params, 0),
    };
    Some(Elem::Quant(QuantType {
        bits,
        scale: scale.trim().parse().ok()?,
        zero_point: zp,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn strings_escape_for_mlir_and_back() {
        for s in [
            "conv1",
            "a\"b\\c",
            "ctl\u{1}\u{7f}\n\t",
            "ünï/*cødé*/",
            "\\41",
        ] {
            let lit = mlir_string(s);
            assert!(lit.bytes().all(|b| (0x20..0x7f).contains(&b)), "{lit}");
            assert_eq!(mlir_unescape(&lit[1..lit.len() - 1]), s);
        }
        assert_eq!(mlir_string("x\u{1}"), "\"x\\01\"");
    }
    #[test]
    fn types_round_trip() {
        for t in [
            "tensor<1x28x28x1xf32>",
            "tensor<10x!quant.uniform<i8:f32, 1.25e-2:-3>>",
            "tensor<2x3x!quant.uniform<i8:f32:0, {0.0040440047819783366,2.500000e-01}>>",
            "tensor<f32>",
            "!tosa.shape<3>",
        ] {
            let ty = parse_type(t).unwrap();
            assert!(
                !matches!(ty, Type::Other(_)) || t.starts_with('!'),
                "{t} parsed as {ty:?}"
            );
            assert_eq!(parse_type(&ty.to_string()).unwrap(), ty, "{t}");
        }
        assert_eq!(float_literal(1e-5), "1.0e-5");
        assert_eq!(float_literal(0.1).parse::<f64>().unwrap(), 0.1);
    }
}
