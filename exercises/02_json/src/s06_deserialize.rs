//! # Deserialize, the Deserializer and the visitor pattern
//!
//! Reading is harder than writing, because the *type* knows what it wants and the *format*
//! knows what it has. The visitor pattern joins them:
//!
//! - [`Deserialize`] is implemented by a type. It hands the deserializer a [`Visitor`]: an
//!   object with one `visit_*` method per thing the data model has (`visit_bool`,
//!   `visit_u64`, `visit_str`, `visit_seq`, `visit_map`, ...).
//! - [`Deserializer`] is implemented by a format. It looks at the input, sees (say) a
//!   number, and calls the visitor's `visit_u64`. The visitor turns that into the type, or
//!   refuses.
//!
//! A visitor only overrides the methods for the input it accepts; the default of every
//! other `visit_*` method is an error built from the visitor's [`Visitor::expecting`]. That
//! is where good messages come from: feed `true` to the `u32` visitor and the default
//! `visit_bool` says "invalid type: boolean `true`, expected u32". Build those messages with
//! the constructors on [`Error`] in this file ([`Error::invalid_type`], [`Error::invalid_value`],
//! [`Error::invalid_length`]), which take the visitor as `&dyn Expected` (every visitor is an
//! [`Expected`], by a blanket impl).
//!
//! Arrays and objects are handed over as *access* objects ([`SeqAccess`], [`MapAccess`]):
//! the visitor pulls one element (or key, then value) at a time, deserializing each with its
//! own type. Nothing is buffered; the JSON deserializer (`impl Deserializer for &mut Parser`)
//! reads the input as the visitor asks for it, using the `Parser` of stages 2 to 4. A
//! visitor that stops early (a 2-tuple given `[1,2,3]`) leaves elements behind: the
//! deserializer must notice and fail ("invalid length 3, expected a tuple of size 2" comes
//! from the tuple visitor; the deserializer's own check says "trailing elements").
//!
//! `Deserialize` covers `bool`, every integer type with range checks (`256` into a `u8` is
//! "invalid value: integer `256`, expected u8"; `-1` into a `u32` likewise), `f32`, `f64`
//! (which also accept integers), `String`, `char`, `()`, `Option<T>` (via
//! `deserialize_option`: `null` is `None`), `Vec<T>`, tuples, `Box<T>`, `HashMap<String, V>`,
//! `BTreeMap<String, V>` and [`Value`]; [`from_json`] and [`from_slice`] fill in the line and
//! column of a data error from where the parser stopped.
//!
//! What repeats a pattern is written for you: the `visit_*` defaults (once `invalid_type`
//! and `Expected` work), the other error constructors, `JsonMap`, and the visitors of `bool`,
//! floats, strings, `()`, `Vec` and the maps. You write one of each kind: the messages'
//! parts, the deserializer's `deserialize_any` and `deserialize_option`, `JsonSeq`, the
//! integers (a range check), `Option` (a visitor that asks for an option), tuples (a length
//! check), `from_slice`, and the deserializer behind `missing_field`.
//!
//! Why this matters later: a visitor is a state machine driven from outside. The same
//! shape (the consumer says what it wants, the producer pushes pieces to it) is how futures
//! and async parsers are written, and it is why serde needs no intermediate tree.
//!
//! Read: serde, "Implementing Deserialize" (<https://serde.rs/impl-deserialize.html>) after
//! a first attempt; Programming Rust, chapter 11 (associated types: `Visitor::Value`);
//! Rust for Rustaceans, chapter 2 (trait objects: `&dyn Expected`); Rust Design Patterns,
//! "Visitor" (<https://rust-unofficial.github.io/patterns/patterns/behavioural/visitor.html>),
//! the same double dispatch walking a tree instead of an input.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;

use crate::error::{Error, Result};
use crate::s01_value::{Map, Number, Value};
use crate::s02_parser::Parser;

/// A type that can be built from the data model.
pub trait Deserialize: Sized {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self>;
}

/// A format that can drive a [`Visitor`] with what it finds in its input.
pub trait Deserializer: Sized {
    /// Looks at the next value and calls the matching `visit_*` method.
    fn deserialize_any<V: Visitor>(self, visitor: V) -> Result<V::Value>;
    /// Calls `visit_none` for `null` and `visit_some(self)` for anything else.
    fn deserialize_option<V: Visitor>(self, visitor: V) -> Result<V::Value>;
}

/// Builds a `Self::Value` from whichever thing in the data model it is handed.
///
/// Every `visit_*` method has a default that fails with "invalid type: ..., expected
/// ...", so a visitor overrides only what it accepts.
pub trait Visitor: Sized {
    /// What this visitor builds.
    type Value;

    /// Completes the sentence "expected ...": `u8`, `a string`, `struct Person`.
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// `null`.
    fn visit_unit(self) -> Result<Self::Value> {
        Err(Error::invalid_type(Unexpected::Unit, &self))
    }
    fn visit_bool(self, v: bool) -> Result<Self::Value> {
        Err(Error::invalid_type(Unexpected::Bool(v), &self))
    }
    fn visit_i64(self, v: i64) -> Result<Self::Value> {
        Err(Error::invalid_type(Unexpected::Signed(v), &self))
    }
    fn visit_u64(self, v: u64) -> Result<Self::Value> {
        Err(Error::invalid_type(Unexpected::Unsigned(v), &self))
    }
    fn visit_f64(self, v: f64) -> Result<Self::Value> {
        Err(Error::invalid_type(Unexpected::Float(v), &self))
    }
    fn visit_str(self, v: &str) -> Result<Self::Value> {
        Err(Error::invalid_type(Unexpected::Str(v), &self))
    }
    /// An owned string; the default passes it on to `visit_str`.
    fn visit_string(self, v: String) -> Result<Self::Value> {
        self.visit_str(&v)
    }
    /// `null` seen by `deserialize_option`.
    fn visit_none(self) -> Result<Self::Value> {
        Err(Error::invalid_type(Unexpected::Unit, &self))
    }
    /// Anything but `null` seen by `deserialize_option`: deserialize the inner value from
    /// `deserializer`.
    fn visit_some<D: Deserializer>(self, deserializer: D) -> Result<Self::Value> {
        let _ = deserializer;
        Err(Error::invalid_type(Unexpected::Option, &self))
    }
    fn visit_seq<A: SeqAccess>(self, seq: A) -> Result<Self::Value> {
        let _ = seq;
        Err(Error::invalid_type(Unexpected::Seq, &self))
    }
    fn visit_map<A: MapAccess>(self, map: A) -> Result<Self::Value> {
        let _ = map;
        Err(Error::invalid_type(Unexpected::Map, &self))
    }
}

/// The elements of an array, one at a time.
pub trait SeqAccess {
    /// The next element, or `None` after the last.
    fn next_element<T: Deserialize>(&mut self) -> Result<Option<T>>;
}

/// The members of an object, one key and then its value at a time.
pub trait MapAccess {
    /// The next key, or `None` after the last member. The key borrows from the access, so
    /// copy it (or finish looking at it) before asking for the value.
    fn next_key(&mut self) -> Result<Option<&str>>;
    /// The value of the key just returned.
    fn next_value<T: Deserialize>(&mut self) -> Result<T>;
    /// The value of the key just returned, built by `visitor` (for payloads that have no
    /// `Deserialize` type of their own, such as a struct variant's fields).
    fn next_value_with<V: Visitor>(&mut self, visitor: V) -> Result<V::Value>;
}

/// What the input had, for error messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unexpected<'a> {
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(&'a str),
    /// `null`.
    Unit,
    /// A present optional value.
    Option,
    Seq,
    Map,
}

impl fmt::Display for Unexpected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // TODO: see the tests for the wording (`boolean `true``, `integer `256``, `floating point
        // `1.5``, `string "x"`, `null`, ...); a float must not read like an integer
        todo!()
    }
}

/// Something that can finish the sentence "expected ...".
pub trait Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// Every visitor knows what it expects.
impl<V: Visitor> Expected for V {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // TODO: a visitor finishes the sentence "expected ..." with what it expects
        todo!()
    }
}

impl Expected for &str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Display for dyn Expected + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expected::fmt(self, f)
    }
}

/// Writes `names` as "`a`, `b`, `c`".
struct OneOf<'a>(&'a [&'a str]);

impl fmt::Display for OneOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{name}`")?;
        }
        Ok(())
    }
}

/// The data errors that visitors and `Deserialize` impls raise.
impl Error {
    /// The input had the wrong kind of value: "invalid type: boolean `true`, expected u32".
    pub fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        // TODO: a data error: "invalid type: {unexpected}, expected {expected}"
        todo!()
    }

    /// The right kind, but a bad value: "invalid value: integer `256`, expected u8".
    pub fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Error::data(format!("invalid value: {unexpected}, expected {expected}"))
    }

    /// A sequence of the wrong length: "invalid length 1, expected a tuple of size 2".
    pub fn invalid_length(len: usize, expected: &dyn Expected) -> Self {
        Error::data(format!("invalid length {len}, expected {expected}"))
    }

    /// "missing field `age`".
    pub fn missing_field(field: &str) -> Self {
        Error::data(format!("missing field `{field}`"))
    }

    /// "duplicate field `age`".
    pub fn duplicate_field(field: &str) -> Self {
        Error::data(format!("duplicate field `{field}`"))
    }

    /// "unknown field `agee`, expected one of `name`, `age`" (or "there are no fields").
    pub fn unknown_field(field: &str, expected: &[&str]) -> Self {
        if expected.is_empty() {
            Error::data(format!("unknown field `{field}`, there are no fields"))
        } else {
            Error::data(format!(
                "unknown field `{field}`, expected one of {}",
                OneOf(expected)
            ))
        }
    }

    /// "unknown variant `Purple`, expected one of `Red`, `Green`".
    pub fn unknown_variant(variant: &str, expected: &[&str]) -> Self {
        Error::data(format!(
            "unknown variant `{variant}`, expected one of {}",
            OneOf(expected)
        ))
    }
}

impl<'de> Deserializer for &mut Parser<'de> {
    fn deserialize_any<V: Visitor>(self, visitor: V) -> Result<V::Value> {
        // TODO: the value at the cursor, handed to the one `visitor` method that matches its kind;
        // arrays and objects go to the visitor as a `JsonSeq`/`JsonMap` that reads from the
        // parser. Afterwards the array or object must be closed ("trailing elements in array" if
        // the visitor stopped reading early)
        todo!()
    }

    fn deserialize_option<V: Visitor>(self, visitor: V) -> Result<V::Value> {
        // TODO: `null` calls `visit_none`; anything else `visit_some(self)`
        todo!()
    }
}

/// [`SeqAccess`] over a JSON array whose `[` has been consumed.
struct JsonSeq<'p, 'de> {
    parser: &'p mut Parser<'de>,
    first: bool,
}

impl SeqAccess for JsonSeq<'_, '_> {
    fn next_element<T: Deserialize>(&mut self) -> Result<Option<T>> {
        // TODO: the next element, or `None` at the `]`; elements are separated by commas, and
        // nothing comes before the first
        todo!()
    }
}

/// [`MapAccess`] over a JSON object whose `{` has been consumed.
struct JsonMap<'p, 'de> {
    parser: &'p mut Parser<'de>,
    first: bool,
}

impl MapAccess for JsonMap<'_, '_> {
    fn next_key(&mut self) -> Result<Option<&str>> {
        self.parser.skip_whitespace();
        match self.parser.peek() {
            Some(b'}') => return Ok(None),
            Some(b',') if !self.first => self.parser.bump(),
            _ if self.first => {}
            _ => return Err(self.parser.error("expected `,` or `}`")),
        }
        self.first = false;
        self.parser.parse_key().map(Some)
    }

    fn next_value<T: Deserialize>(&mut self) -> Result<T> {
        T::deserialize(&mut *self.parser)
    }

    fn next_value_with<V: Visitor>(&mut self, visitor: V) -> Result<V::Value> {
        self.parser.deserialize_any(visitor)
    }
}

/// Deserializes a `T` from `text`; the whole text must be one value.
pub fn from_json<T: Deserialize>(text: &str) -> Result<T> {
    from_slice(text.as_bytes())
}

/// Deserializes a `T` from `bytes`; the whole input must be one value.
pub fn from_slice<T: Deserialize>(bytes: &[u8]) -> Result<T> {
    // TODO: one `T`, and nothing after it but whitespace; an error carries the line and column
    // where parsing stopped
    todo!()
}

/// The value of a struct field that is absent from the input.
///
/// An `Option` field is `None`; any other type fails with "missing field `name`". This is
/// done by deserializing `T` from a deserializer that has nothing: it answers
/// `deserialize_option` with `visit_none`, and everything else with the error.
pub fn missing_field<T: Deserialize>(field: &'static str) -> Result<T> {
    // TODO: see the doc comment (the deserializer "that has nothing" is yours to write)
    todo!()
}

impl Deserialize for bool {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        struct BoolVisitor;
        impl Visitor for BoolVisitor {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool(self, v: bool) -> Result<bool> {
                Ok(v)
            }
        }
        deserializer.deserialize_any(BoolVisitor)
    }
}

/// One visitor per integer type: both `visit_u64` and `visit_i64` convert with a range
/// check, and the error names the type.
macro_rules! deserialize_integers {
    ($($t:ident)*) => {$(
        impl Deserialize for $t {
            fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
                // TODO: a number of this type from any JSON integer in its range; an integer out
                // of range is an invalid value, anything else an invalid type
                todo!()
            }
        }
    )*};
}
deserialize_integers!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

/// Floats accept any number; integers are converted (and may round).
macro_rules! deserialize_floats {
    ($($t:ident)*) => {$(
        impl Deserialize for $t {
            fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
                struct FloatVisitor;
                impl Visitor for FloatVisitor {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(stringify!($t))
                    }
                    fn visit_f64(self, v: f64) -> Result<$t> {
                        Ok(v as $t)
                    }
                    fn visit_u64(self, v: u64) -> Result<$t> {
                        Ok(v as $t)
                    }
                    fn visit_i64(self, v: i64) -> Result<$t> {
                        Ok(v as $t)
                    }
                }
                deserializer.deserialize_any(FloatVisitor)
            }
        }
    )*};
}
deserialize_floats!(f32 f64);

impl Deserialize for String {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        struct StringVisitor;
        impl Visitor for StringVisitor {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str(self, v: &str) -> Result<String> {
                Ok(v.to_owned())
            }
            fn visit_string(self, v: String) -> Result<String> {
                Ok(v)
            }
        }
        deserializer.deserialize_any(StringVisitor)
    }
}

impl Deserialize for char {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        struct CharVisitor;
        impl Visitor for CharVisitor {
            type Value = char;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a character")
            }
            fn visit_str(self, v: &str) -> Result<char> {
                let mut chars = v.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(c),
                    _ => Err(Error::invalid_value(Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(CharVisitor)
    }
}

impl Deserialize for () {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        struct UnitVisitor;
        impl Visitor for UnitVisitor {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("null")
            }
            fn visit_unit(self) -> Result<()> {
                Ok(())
            }
        }
        deserializer.deserialize_any(UnitVisitor)
    }
}

impl<T: Deserialize> Deserialize for Option<T> {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        // TODO: `None` from null, `Some` of a `T` from anything else; the deserializer has to
        // be told that an option is wanted, since only it knows whether null comes next
        todo!()
    }
}

impl<T: Deserialize> Deserialize for Box<T> {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        T::deserialize(deserializer).map(Box::new)
    }
}

impl<T: Deserialize> Deserialize for Vec<T> {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        deserializer.deserialize_any(VecVisitor(std::marker::PhantomData))
    }
}

/// Builds a `Vec<T>` from a sequence.
// `fn() -> T` makes the visitor `Send` and `Sync` whatever `T` is: it never holds one.
struct VecVisitor<T>(std::marker::PhantomData<fn() -> T>);

impl<T: Deserialize> Visitor for VecVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess>(self, mut seq: A) -> Result<Vec<T>> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(items)
    }
}

/// Tuples are arrays of exactly their length.
macro_rules! deserialize_tuples {
    ($($len:literal => ($($t:ident)+))*) => {$(
        impl<$($t: Deserialize),+> Deserialize for ($($t,)+) {
            fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
                // TODO: an array of exactly this many elements, each of its own type; an array of
                // another length is an invalid length that says how long the array was
                todo!()
            }
        }
    )*};
}
deserialize_tuples! {
    2 => (T0 T1)
    3 => (T0 T1 T2)
    4 => (T0 T1 T2 T3)
    5 => (T0 T1 T2 T3 T4)
    6 => (T0 T1 T2 T3 T4 T5)
}

impl<V: Deserialize, H: BuildHasher + Default> Deserialize for HashMap<String, V, H> {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        deserializer.deserialize_any(MapVisitor(std::marker::PhantomData))
    }
}

impl<V: Deserialize> Deserialize for BTreeMap<String, V> {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        deserializer.deserialize_any(MapVisitor(std::marker::PhantomData))
    }
}

/// Builds any map type with `String` keys: one visitor for `HashMap` and `BTreeMap`.
struct MapVisitor<M, V>(std::marker::PhantomData<fn() -> (M, V)>);

impl<M, V> Visitor for MapVisitor<M, V>
where
    M: Default + Extend<(String, V)>,
    V: Deserialize,
{
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess>(self, mut access: A) -> Result<M> {
        let mut map = M::default();
        while let Some(key) = access.next_key()? {
            let key = key.to_owned();
            let value = access.next_value()?;
            map.extend([(key, value)]);
        }
        Ok(map)
    }
}

impl Deserialize for Value {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        struct ValueVisitor;
        impl Visitor for ValueVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit(self) -> Result<Value> {
                Ok(Value::Null)
            }
            fn visit_bool(self, v: bool) -> Result<Value> {
                Ok(Value::Bool(v))
            }
            fn visit_i64(self, v: i64) -> Result<Value> {
                Ok(Value::from(v))
            }
            fn visit_u64(self, v: u64) -> Result<Value> {
                Ok(Value::from(v))
            }
            fn visit_f64(self, v: f64) -> Result<Value> {
                Ok(Value::from(v))
            }
            fn visit_str(self, v: &str) -> Result<Value> {
                Ok(Value::from(v))
            }
            fn visit_seq<A: SeqAccess>(self, seq: A) -> Result<Value> {
                VecVisitor(std::marker::PhantomData)
                    .visit_seq(seq)
                    .map(Value::Array)
            }
            fn visit_map<A: MapAccess>(self, map: A) -> Result<Value> {
                MapVisitor::<Map, Value>(std::marker::PhantomData)
                    .visit_map(map)
                    .map(Value::Object)
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Category;

    fn data_err<T: Deserialize + fmt::Debug>(text: &str) -> Error {
        match from_json::<T>(text) {
            Ok(v) => panic!("{text} must not deserialize, got {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn primitives_deserialize() {
        assert!(from_json::<bool>("true").unwrap());
        assert!(!from_json::<bool>("false").unwrap());
        assert_eq!(from_json::<u8>("255").unwrap(), 255);
        assert_eq!(from_json::<i8>("-128").unwrap(), -128);
        assert_eq!(from_json::<u64>("18446744073709551615").unwrap(), u64::MAX);
        assert_eq!(from_json::<i64>("-9223372036854775808").unwrap(), i64::MIN);
        assert_eq!(from_json::<i32>(" 42 ").unwrap(), 42);
        assert_eq!(from_json::<f64>("1.5").unwrap(), 1.5);
        assert_eq!(
            from_json::<f64>("3").unwrap(),
            3.0,
            "floats accept integers"
        );
        assert_eq!(from_json::<f32>("-2").unwrap(), -2.0);
        assert_eq!(from_json::<String>(r#""a\nb""#).unwrap(), "a\nb");
        assert_eq!(from_json::<char>(r#""é""#).unwrap(), 'é');
        assert_eq!(from_json::<()>("null").unwrap(), ());
    }

    #[test]
    fn integers_out_of_range_are_invalid_values() {
        let e = data_err::<u8>("256");
        assert_eq!(e.category(), Category::Data);
        assert_eq!(e.message(), "invalid value: integer `256`, expected u8");
        assert_eq!(
            data_err::<u32>("-1").message(),
            "invalid value: integer `-1`, expected u32"
        );
        assert_eq!(
            data_err::<i8>("128").message(),
            "invalid value: integer `128`, expected i8"
        );
        assert_eq!(
            data_err::<i64>("9223372036854775808").message(),
            "invalid value: integer `9223372036854775808`, expected i64"
        );
    }

    #[test]
    fn wrong_types_say_what_was_found_and_what_was_expected() {
        assert_eq!(
            data_err::<u32>("true").message(),
            "invalid type: boolean `true`, expected u32"
        );
        assert_eq!(
            data_err::<u8>("1.5").message(),
            "invalid type: floating point `1.5`, expected u8"
        );
        assert_eq!(
            data_err::<u8>("2.0").message(),
            "invalid type: floating point `2.0`, expected u8",
            "a float keeps its decimal point in messages, so that it does not look like an integer"
        );
        assert_eq!(
            data_err::<bool>(r#""yes""#).message(),
            "invalid type: string \"yes\", expected a boolean"
        );
        assert_eq!(
            data_err::<String>("[1]").message(),
            "invalid type: sequence, expected a string"
        );
        assert_eq!(
            data_err::<Vec<u8>>("{}").message(),
            "invalid type: map, expected a sequence"
        );
        assert_eq!(
            data_err::<i32>("null").message(),
            "invalid type: null, expected i32"
        );
        assert_eq!(
            data_err::<char>(r#""ab""#).message(),
            "invalid value: string \"ab\", expected a character"
        );
        assert_eq!(
            data_err::<()>("1").message(),
            "invalid type: integer `1`, expected null"
        );
        assert_eq!(
            data_err::<BTreeMap<String, u8>>("[1]").message(),
            "invalid type: sequence, expected a map"
        );
    }

    /// A deserializer that hands its visitor an owned string, as one reading from a `Value`
    /// would.
    struct Owned(String);

    impl Deserializer for Owned {
        fn deserialize_any<V: Visitor>(self, visitor: V) -> Result<V::Value> {
            visitor.visit_string(self.0)
        }
        fn deserialize_option<V: Visitor>(self, visitor: V) -> Result<V::Value> {
            visitor.visit_some(self)
        }
    }

    #[test]
    fn an_owned_string_is_taken_without_a_copy() {
        let text = String::from("moved");
        let buffer = text.as_ptr();
        let s = String::deserialize(Owned(text)).unwrap();
        assert_eq!(s, "moved");
        assert_eq!(
            s.as_ptr(),
            buffer,
            "String's visit_string keeps the String it is handed instead of copying it"
        );
        assert_eq!(
            Option::<String>::deserialize(Owned("some".into())).unwrap(),
            Some("some".to_string())
        );
    }

    #[test]
    fn options_are_none_for_null_only() {
        assert_eq!(from_json::<Option<u8>>("null").unwrap(), None);
        assert_eq!(from_json::<Option<u8>>("7").unwrap(), Some(7));
        assert_eq!(
            from_json::<Vec<Option<String>>>(r#"["a", null]"#)
                .expect("Option<T> must read `null` as None, also after whitespace"),
            vec![Some("a".to_string()), None]
        );
        assert!(from_json::<Option<u8>>("true").is_err());
    }

    #[test]
    fn sequences_and_tuples_deserialize() {
        assert_eq!(from_json::<Vec<u32>>("[]").unwrap(), Vec::<u32>::new());
        assert_eq!(from_json::<Vec<u32>>("[1, 2, 3]").unwrap(), vec![1, 2, 3]);
        assert_eq!(
            from_json::<Vec<Vec<i8>>>("[[1],[],[-1,2]]").unwrap(),
            vec![vec![1], vec![], vec![-1, 2]]
        );
        assert_eq!(
            from_json::<(u8, String, bool)>(r#"[1, "x", false]"#).unwrap(),
            (1, "x".to_string(), false)
        );
        assert_eq!(from_json::<Box<u8>>("9").unwrap(), Box::new(9));
    }

    #[test]
    fn tuples_must_have_exactly_their_length() {
        assert_eq!(
            data_err::<(u8, u8)>("[1]").message(),
            "invalid length 1, expected a tuple of size 2"
        );
        assert_eq!(
            data_err::<(u8, u8)>("[1, 2, 3]").message(),
            "invalid length 3, expected a tuple of size 2"
        );
    }

    #[test]
    fn maps_with_string_keys_deserialize() {
        let m: HashMap<String, Vec<u8>> = from_json(r#"{"a": [1], "b": []}"#).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["a"], vec![1]);
        let m: BTreeMap<String, i32> = from_json(r#"{"z\u0041": 1, "y": -1}"#).unwrap();
        assert_eq!(
            m.into_iter().collect::<Vec<_>>(),
            vec![("y".to_string(), -1), ("zA".to_string(), 1)]
        );
        assert!(from_json::<BTreeMap<String, u8>>("{}").unwrap().is_empty());
    }

    #[test]
    fn syntax_errors_inside_a_typed_value_are_still_syntax_errors() {
        for text in [
            "[1,]",
            "[,1]",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\":1 \"b\":2}",
            "{,\"a\":1}",
            "[01]",
            "[1]]",
            "{\"a\":1,}",
        ] {
            match from_json::<Value>(text) {
                Ok(v) => panic!("{text} is not JSON and must be rejected, got {v:?}"),
                Err(e) => assert_eq!(e.category(), Category::Syntax, "{text} is not JSON: {e:?}"),
            }
        }
        assert_eq!(
            from_json::<Vec<u8>>("[1,").unwrap_err().category(),
            Category::Eof
        );
        assert_eq!(
            from_json::<Vec<u8>>("[1] 2").unwrap_err().message(),
            "trailing characters"
        );
    }

    #[test]
    fn data_errors_carry_the_position_where_they_were_found() {
        let e = data_err::<Vec<u8>>("[1,\n 2,\n 300]");
        assert_eq!(e.message(), "invalid value: integer `300`, expected u8");
        assert_eq!(e.line(), 3, "the bad element is on line 3");
        assert_eq!(e.column(), 5, "just after the number");
    }

    #[test]
    fn values_deserialize_like_the_parser_builds_them() {
        let text = r#"{"a": [1, -2, 2.5, "x", null, true], "b": {}}"#;
        assert_eq!(
            from_json::<Value>(text).unwrap(),
            crate::s02_parser::parse_str(text).unwrap()
        );
    }

    #[test]
    fn deep_nesting_is_limited_for_typed_values_too() {
        let handle = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(|| from_json::<Value>(&"[".repeat(100_000)).map_err(|e| e.category()))
            .unwrap();
        assert_eq!(handle.join().unwrap(), Err(Category::Syntax));
    }

    #[test]
    fn containers_side_by_side_do_not_add_up_to_the_limit() {
        use crate::s02_parser::MAX_DEPTH;
        let n = 2 * MAX_DEPTH;
        let arrays = format!("[{}]", vec!["[]"; n].join(","));
        if let Err(e) = from_json::<Vec<Vec<u8>>>(&arrays) {
            panic!(
                "an array of {n} empty arrays is two levels deep, not {}: every `enter` needs its \
                 `leave`; got {e:?}",
                n + 1
            );
        }
        let objects = format!("[{}]", vec!["{\"a\":1}"; n].join(","));
        if let Err(e) = from_json::<Vec<BTreeMap<String, u8>>>(&objects) {
            panic!(
                "an array of {n} objects is two levels deep, not {}: every `enter` needs its \
                 `leave`; got {e:?}",
                n + 1
            );
        }
    }

    /// A visitor that reads the first element of an array, or the first member of an object,
    /// and stops there.
    struct FirstOnly;

    impl Visitor for FirstOnly {
        type Value = u8;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a first element")
        }
        fn visit_seq<A: SeqAccess>(self, mut seq: A) -> Result<u8> {
            seq.next_element()?
                .ok_or_else(|| Error::invalid_length(0, &self))
        }
        fn visit_map<A: MapAccess>(self, mut map: A) -> Result<u8> {
            match map.next_key()? {
                Some(_) => map.next_value(),
                None => Err(Error::invalid_length(0, &self)),
            }
        }
    }

    #[test]
    fn elements_a_visitor_leaves_behind_are_an_error() {
        for (text, message) in [
            ("[1, 2]", "trailing elements in array"),
            (r#"{"a": 1, "b": 2}"#, "trailing members in object"),
        ] {
            let mut p = Parser::new(text.as_bytes());
            match p.deserialize_any(FirstOnly) {
                Ok(v) => panic!(
                    "a visitor that stops after the first element of {text} leaves the rest \
                     behind: the deserializer must check that the closing bracket follows and \
                     fail with {message:?}, got Ok({v})"
                ),
                Err(e) => assert_eq!(e.message(), message, "{text} read by FirstOnly"),
            }
        }
        let mut p = Parser::new(b"[7]");
        assert_eq!(
            p.deserialize_any(FirstOnly).unwrap(),
            7,
            "one element is all there is"
        );
    }

    #[test]
    fn missing_field_is_none_for_options_and_an_error_otherwise() {
        assert_eq!(missing_field::<Option<u32>>("age").unwrap(), None);
        let e = missing_field::<u32>("age").unwrap_err();
        assert_eq!(e.message(), "missing field `age`");
        assert_eq!(
            missing_field::<Vec<u8>>("tags").unwrap_err().message(),
            "missing field `tags`"
        );
    }

    #[test]
    fn field_and_variant_errors_list_what_was_expected() {
        assert_eq!(
            Error::unknown_field("agee", &["name", "age"]).message(),
            "unknown field `agee`, expected one of `name`, `age`"
        );
        assert_eq!(
            Error::unknown_variant("Purple", &["Red", "Green"]).message(),
            "unknown variant `Purple`, expected one of `Red`, `Green`"
        );
        assert_eq!(
            Error::duplicate_field("id").message(),
            "duplicate field `id`"
        );
        assert_eq!(
            Error::invalid_length(1, &"a pair").message(),
            "invalid length 1, expected a pair",
            "a plain `&str` can say what was expected"
        );
    }

    /// A visitor that accepts strings and integers, to show overriding only some methods.
    struct Flexible;

    impl Visitor for Flexible {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an integer")
        }
        fn visit_str(self, v: &str) -> Result<String> {
            Ok(v.to_owned())
        }
        fn visit_u64(self, v: u64) -> Result<String> {
            Ok(v.to_string())
        }
    }

    #[test]
    fn a_custom_visitor_gets_default_errors_for_what_it_does_not_override() {
        let mut p = Parser::new(b"12");
        assert_eq!(p.deserialize_any(Flexible).unwrap(), "12");
        let mut p = Parser::new(b"[]");
        assert_eq!(
            p.deserialize_any(Flexible).unwrap_err().message(),
            "invalid type: sequence, expected a string or an integer"
        );
    }
}
