//! How the records of the dialects are stored as op attributes, both ways: a [`Codec`] per
//! attribute kind (an `i32` integer, an `array<i32: …>`, a dense i8 table, …) puts a Rust
//! field into an attribute and gets it back, and the [`record!`](crate::record) macro derives a
//! record's attributes (for builders) and its reader from one list of `field: type = KEY as
//! Codec`, so the two directions cannot drift apart. Errors of reading are [`DialectError`]s.

pub use nibble_ir::{Attr, Op};
use nibble_ir::{Elem, Type};

/// A dialect op that does not hold what its definition says.
#[derive(Debug, thiserror::Error)]
pub enum DialectError {
    /// An attribute is missing or of the wrong kind.
    #[error("'{op}'{loc}: attribute '{key}' must be {what}")]
    Attr {
        op: String,
        loc: String,
        key: String,
        what: &'static str,
    },
    /// The op is not one the reader reads, or its attributes do not fit together.
    #[error("'{op}'{loc}: {msg}")]
    Invalid {
        op: String,
        loc: String,
        msg: String,
    },
    /// A value's element type is not one the op allows (`msg` names the value, the types
    /// allowed and the one it has).
    #[error("'{op}'{loc}: {msg}")]
    Type {
        op: String,
        loc: String,
        msg: String,
    },
}

/// `op`'s location as ` at loc(…)`, or nothing.
pub(crate) fn loc(op: &Op) -> String {
    op.loc
        .as_deref()
        .map(|l| format!(" at {l}"))
        .unwrap_or_default()
}

impl DialectError {
    /// `op` is malformed: `msg` says how.
    pub fn invalid(op: &Op, msg: impl Into<String>) -> DialectError {
        DialectError::Invalid {
            op: op.name.clone(),
            loc: loc(op),
            msg: msg.into(),
        }
    }
    fn attr(op: &Op, key: &str, what: &'static str) -> DialectError {
        DialectError::Attr {
            op: op.name.clone(),
            loc: loc(op),
            key: key.into(),
            what,
        }
    }
}

/// The attributes a record is stored as, in the order its fields are declared.
pub type Attrs = Vec<(&'static str, Attr)>;

/// A record of attributes: what [`record!`](crate::record) derives (and a few records write
/// by hand).
pub trait Record: Sized {
    /// The attributes holding the record.
    fn attrs(&self) -> Attrs;
    /// The record read back from `op`'s attributes.
    fn read(op: &Op) -> Result<Self, DialectError>;
}

/// How a field of type `T` is stored under one attribute key.
pub trait Codec<T> {
    /// Appends the attribute(s) holding `v` under `key` (none for an absent optional field).
    fn put(key: &'static str, v: &T, out: &mut Attrs);
    /// Reads the field stored under `key`.
    fn get(op: &Op, key: &str) -> Result<T, DialectError>;
}

/// A codec of one attribute: `encode` and `decode` (None: missing or not this kind).
trait Plain<T> {
    const WHAT: &'static str;
    fn encode(v: &T) -> Attr;
    fn decode(a: &Attr) -> Option<T>;
}

/// Every [`Plain`] codec is a [`Codec`] of a required field.
macro_rules! plain_codec {
    ($codec:ty => $($t:ty),*) => {$(
        impl Codec<$t> for $codec {
            fn put(key: &'static str, v: &$t, out: &mut Attrs) {
                out.push((key, <$codec as Plain<$t>>::encode(v)));
            }
            fn get(op: &Op, key: &str) -> Result<$t, DialectError> {
                op.attrs
                    .get(key)
                    .and_then(<$codec as Plain<$t>>::decode)
                    .ok_or_else(|| DialectError::attr(op, key, <$codec as Plain<$t>>::WHAT))
            }
        }
    )*};
}

/// A scalar integer attribute of type `i32` (`1 : i32`).
pub struct I32;
/// A scalar integer attribute of type `i64` (`1 : i64`).
pub struct I64;
/// An `array<i32: …>` (read from any integer array, or one integer).
pub struct I32s;
/// An `array<i64: …>` (read from any integer array, or one integer).
pub struct I64s;
/// A float attribute of type `f64` (read from any float or integer).
pub struct F64;
/// A string attribute.
pub struct Str;
/// A dense `tensor<N x i8>` of N values.
pub struct DenseI8;
/// A dense `tensor<N x i32>` of N values.
pub struct DenseI32;
/// An optional field stored with codec `C` when it is present.
pub struct Opt<C>(std::marker::PhantomData<C>);
/// A field that is itself a [`Record`]: its attributes stand next to the others (no key).
pub struct Flat;

/// The key of a [`Flat`] field (unused: a nested record has keys of its own).
pub const FLAT: &str = "";

fn int(a: &Attr) -> Option<i64> {
    match a {
        Attr::Int(v, _) => Some(*v),
        _ => None,
    }
}

/// Any integer or integer array, as a list.
fn int_list(a: &Attr) -> Option<Vec<i64>> {
    match a {
        Attr::Int(v, _) => Some(vec![*v]),
        Attr::I64s(v) => Some(v.clone()),
        Attr::I32s(v) => Some(v.iter().map(|&x| x as i64).collect()),
        _ => None,
    }
}

/// A list converted element by element (None if one does not fit).
fn convert<T: TryFrom<i64>>(v: Vec<i64>) -> Option<Vec<T>> {
    v.into_iter().map(|x| T::try_from(x).ok()).collect()
}

impl Plain<i64> for I32 {
    const WHAT: &'static str = "an integer";
    fn encode(v: &i64) -> Attr {
        Attr::i32(*v)
    }
    fn decode(a: &Attr) -> Option<i64> {
        int(a)
    }
}
impl Plain<i32> for I32 {
    const WHAT: &'static str = "a 32-bit integer";
    fn encode(v: &i32) -> Attr {
        Attr::i32(*v as i64)
    }
    fn decode(a: &Attr) -> Option<i32> {
        int(a).and_then(|v| i32::try_from(v).ok())
    }
}
impl Plain<i64> for I64 {
    const WHAT: &'static str = "an integer";
    fn encode(v: &i64) -> Attr {
        Attr::i64(*v)
    }
    fn decode(a: &Attr) -> Option<i64> {
        int(a)
    }
}
impl Plain<Vec<i32>> for I32s {
    const WHAT: &'static str = "an array of 32-bit integers";
    fn encode(v: &Vec<i32>) -> Attr {
        Attr::I32s(v.clone())
    }
    fn decode(a: &Attr) -> Option<Vec<i32>> {
        convert(int_list(a)?)
    }
}
impl<const N: usize> Plain<[i64; N]> for I32s {
    const WHAT: &'static str = "an integer array of the right length";
    fn encode(v: &[i64; N]) -> Attr {
        Attr::I32s(v.iter().map(|&x| x as i32).collect())
    }
    fn decode(a: &Attr) -> Option<[i64; N]> {
        int_list(a)?.try_into().ok()
    }
}
impl Plain<Vec<i64>> for I64s {
    const WHAT: &'static str = "an integer array";
    fn encode(v: &Vec<i64>) -> Attr {
        Attr::I64s(v.clone())
    }
    fn decode(a: &Attr) -> Option<Vec<i64>> {
        int_list(a)
    }
}
impl<const N: usize> Plain<[i64; N]> for I64s {
    const WHAT: &'static str = "an integer array of the right length";
    fn encode(v: &[i64; N]) -> Attr {
        Attr::I64s(v.to_vec())
    }
    fn decode(a: &Attr) -> Option<[i64; N]> {
        int_list(a)?.try_into().ok()
    }
}
impl Plain<f64> for F64 {
    const WHAT: &'static str = "a float";
    fn encode(v: &f64) -> Attr {
        Attr::f64(*v)
    }
    fn decode(a: &Attr) -> Option<f64> {
        match a {
            Attr::Float(v, _) => Some(*v),
            Attr::Int(v, _) => Some(*v as f64),
            _ => None,
        }
    }
}
impl Plain<String> for Str {
    const WHAT: &'static str = "a string";
    fn encode(v: &String) -> Attr {
        Attr::Str(v.clone())
    }
    fn decode(a: &Attr) -> Option<String> {
        match a {
            Attr::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// The bytes of a dense attribute of `bits`-bit integers.
fn dense_bytes(a: &Attr, bits: u32) -> Option<&[u8]> {
    match a {
        Attr::Dense(t, b) if t.elem() == Some(&Elem::Int(bits)) => Some(b),
        _ => None,
    }
}

impl Plain<Vec<i8>> for DenseI8 {
    const WHAT: &'static str = "dense i8 elements";
    fn encode(v: &Vec<i8>) -> Attr {
        Attr::dense_i8(Type::tensor(&[v.len() as i64], Elem::Int(8)), v)
    }
    fn decode(a: &Attr) -> Option<Vec<i8>> {
        Some(dense_bytes(a, 8)?.iter().map(|&b| b as i8).collect())
    }
}
impl Plain<Vec<i32>> for DenseI32 {
    const WHAT: &'static str = "dense i32 elements";
    fn encode(v: &Vec<i32>) -> Attr {
        Attr::dense_i32(Type::tensor(&[v.len() as i64], Elem::Int(32)), v)
    }
    fn decode(a: &Attr) -> Option<Vec<i32>> {
        Some(nibble_ir::model::dense_i32(dense_bytes(a, 32)?))
    }
}

plain_codec!(I32 => i64, i32);
plain_codec!(I64 => i64);
plain_codec!(I32s => Vec<i32>, [i64; 2]);
plain_codec!(I64s => Vec<i64>, [i64; 1], [i64; 2], [i64; 3], [i64; 4]);
plain_codec!(F64 => f64);
plain_codec!(Str => String);
plain_codec!(DenseI8 => Vec<i8>);
plain_codec!(DenseI32 => Vec<i32>);

impl<T, C: Codec<T>> Codec<Option<T>> for Opt<C> {
    fn put(key: &'static str, v: &Option<T>, out: &mut Attrs) {
        if let Some(v) = v {
            C::put(key, v, out);
        }
    }
    fn get(op: &Op, key: &str) -> Result<Option<T>, DialectError> {
        match op.attrs.contains_key(key) {
            true => C::get(op, key).map(Some),
            false => Ok(None),
        }
    }
}

impl<R: Record> Codec<R> for Flat {
    fn put(_: &'static str, v: &R, out: &mut Attrs) {
        out.extend(v.attrs());
    }
    fn get(op: &Op, _: &str) -> Result<R, DialectError> {
        R::read(op)
    }
}

/// Reads field `key` of `op` with codec `C`.
pub fn get<C: Codec<T>, T>(op: &Op, key: &str) -> Result<T, DialectError> {
    C::get(op, key)
}

/// Appends field `v` under `key` with codec `C`.
pub fn put<C: Codec<T>, T>(out: &mut Attrs, key: &'static str, v: &T) {
    C::put(key, v, out)
}

/// Checks that `op` is one of the ops `names` a reader reads.
pub fn expect(op: &Op, names: &[&str]) -> Result<(), DialectError> {
    match names.contains(&op.name.as_str()) {
        true => Ok(()),
        false => Err(DialectError::invalid(
            op,
            format!("expected {}", names.join(" or ")),
        )),
    }
}

/// A record of attributes: the struct, its [`Record`] impl (attributes and reader from the one
/// field list) and, with `for [OP, …]`, `from_op`, which first checks that the op is one of
/// those. Each field reads `pub name: Type = KEY as Codec`.
#[macro_export]
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident $(for [$($op:path),+])? {
            $($(#[$fmeta:meta])* pub $field:ident : $ty:ty = $key:path as $codec:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty),*
        }
        impl $crate::attr::Record for $name {
            fn attrs(&self) -> $crate::attr::Attrs {
                #[allow(unused_mut)]
                let mut out = Vec::new();
                $($crate::attr::put::<$codec, $ty>(&mut out, $key, &self.$field);)*
                out
            }
            fn read(op: &$crate::attr::Op) -> Result<Self, $crate::attr::DialectError> {
                Ok($name {
                    $($field: $crate::attr::get::<$codec, $ty>(op, $key)?),*
                })
            }
        }
        $(impl $name {
            /// Reads this record from an op of its family, after checking the op's name.
            pub fn from_op(op: &$crate::attr::Op) -> Result<Self, $crate::attr::DialectError> {
                $crate::attr::expect(op, &[$($op),+])?;
                <Self as $crate::attr::Record>::read(op)
            }
        })?
    };
}
