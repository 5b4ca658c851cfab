//! # Serialize and the Serializer trait
//!
//! Turn Rust values into JSON without going through [`Value`] first. Two traits split the
//! work, as in serde:
//!
//! - [`Serialize`] is implemented by a *type*: "here is how I look in the data model". A
//!   `Vec<T>` says "a sequence, whose elements are `T`s"; it knows nothing about JSON.
//! - [`Serializer`] is implemented by a *format*: "here is how I write each thing of the
//!   data model". The JSON serializer writes a sequence as `[...]`; another format could
//!   write it as a length and the elements.
//!
//! The data model is small: booleans, `i64`, `u64`, `f64`, strings, `None`/`Some`, unit
//! (`()`), sequences, maps, structs, and enum variants (unit, newtype, tuple, struct). A
//! `Serialize` impl makes exactly one `Serializer` call for its value; compound values get
//! back a helper ([`SerializeSeq`], [`SerializeMap`], [`SerializeStruct`]) and feed it their
//! parts. Those helpers are *associated types* of the serializer: each format names its own,
//! and the trait ties their `Ok` to its own with `SerializeSeq<Ok = Self::Ok>`.
//!
//! Enum variants are written in the externally tagged form: a unit variant as its name
//! (`"Red"`), every other variant as an object with one key, the variant's name:
//! `{"Rgb":[1,2,3]}`, `{"Named":{"r":1}}`, `{"Wrap":5}`.
//!
//! Implement the JSON serializer (compact and pretty, with the same layout as stage 1's
//! writer) and `Serialize` for the primitives, `str`, `String`, `Option`, `Vec`, slices,
//! tuples, `HashMap`, `BTreeMap` and [`Value`]. JSON object keys are strings, so a map's keys
//! go through a serializer of their own, `MapKeySerializer` (a newtype around the JSON
//! serializer), that accepts strings, writes integers as strings (`{"1":true}`), and rejects
//! everything else with the data error "key must be a string".
//!
//! What repeats a pattern is written for you: the layout helpers on `JsonSerializer`, the
//! scalar `Serializer` methods, the key serializer's refusals, and the `Serialize` impls
//! that mirror another (`Vec` is its slice, `BTreeMap` is `HashMap`). You write one of each
//! kind: closing a container (and a variant's wrapper), a variant with a payload, an element,
//! a map entry, an integer key, and `Serialize` for `Option`, slices, `HashMap` and `Value`.
//!
//! Then the *blanket implementation* `impl<T: Serialize + ?Sized> Serialize for &T` (its
//! twin for `Box<T>` is given). One impl covers every `T` at once; `?Sized` lets `T` be `str`
//! or a slice. Notice where the bounds sit: on the impl (`where K: Serialize`), not on the
//! trait, so a type that is not `Serialize` can still be put in a `Vec`.
//!
//! Afterwards you will see why this design scales: `N` types and `M` formats need `N + M`
//! impls, not `N × M`, and the compiler monomorphises each pair into direct calls.
//!
//! Read: Programming Rust, chapter 11 (traits and generics: bounds, `where`, associated
//! types) and chapter 13 (utility traits); Rust for Rustaceans, chapter 2 (types: generic
//! and blanket impls, coherence); serde's data model, <https://serde.rs/data-model.html>,
//! after a first attempt; Rust Design Patterns, "Newtype"
//! (<https://rust-unofficial.github.io/patterns/patterns/behavioural/newtype.html>).

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::error::{Error, Result};
use crate::s01_value::{Number, Value, write_escaped_str, write_newline_indent, write_number};

/// A type that can describe itself in the data model.
pub trait Serialize {
    /// Makes exactly one call on `serializer` for this value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok>;
}

/// A format that can write every thing in the data model.
pub trait Serializer: Sized {
    /// What a finished value produces (`()` for the JSON writer, which appends to a buffer).
    type Ok;
    /// Returned by `serialize_seq` and `serialize_tuple_variant` to take the elements.
    type SerializeSeq: SerializeSeq<Ok = Self::Ok>;
    /// Returned by `serialize_map` to take the entries.
    type SerializeMap: SerializeMap<Ok = Self::Ok>;
    /// Returned by `serialize_struct` and `serialize_struct_variant` to take the fields.
    type SerializeStruct: SerializeStruct<Ok = Self::Ok>;

    fn serialize_bool(self, v: bool) -> Result<Self::Ok>;
    fn serialize_i64(self, v: i64) -> Result<Self::Ok>;
    fn serialize_u64(self, v: u64) -> Result<Self::Ok>;
    fn serialize_f64(self, v: f64) -> Result<Self::Ok>;
    fn serialize_str(self, v: &str) -> Result<Self::Ok>;
    /// `()` and unit structs.
    fn serialize_unit(self) -> Result<Self::Ok>;
    fn serialize_none(self) -> Result<Self::Ok>;
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok>;
    /// `E::V` where `V` has no data.
    fn serialize_unit_variant(self, name: &'static str, variant: &'static str) -> Result<Self::Ok>;
    /// `E::V(value)`.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        variant: &'static str,
        value: &T,
    ) -> Result<Self::Ok>;
    /// A sequence of `len` elements, if the length is known.
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq>;
    /// `E::V(a, b, ...)`: the elements follow.
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeSeq>;
    /// A map of `len` entries, if the length is known.
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap>;
    /// A struct with named fields; `len` is the number of fields that will be written.
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct>;
    /// `E::V { a, b, ... }`: the fields follow.
    fn serialize_struct_variant(
        self,
        name: &'static str,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct>;
}

/// Takes the elements of a sequence, then `end`s it.
pub trait SerializeSeq {
    type Ok;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()>;
    fn end(self) -> Result<Self::Ok>;
}

/// Takes the entries of a map, then `end`s it.
pub trait SerializeMap {
    type Ok;
    fn serialize_entry<K, V>(&mut self, key: &K, value: &V) -> Result<()>
    where
        K: Serialize + ?Sized,
        V: Serialize + ?Sized;
    fn end(self) -> Result<Self::Ok>;
}

/// Takes the fields of a struct, then `end`s it.
pub trait SerializeStruct {
    type Ok;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()>;
    fn end(self) -> Result<Self::Ok>;
}

/// Writes JSON into a `String`, compact or pretty.
pub struct JsonSerializer {
    out: String,
    pretty: bool,
    /// The nesting depth, for pretty indentation.
    depth: usize,
}

impl JsonSerializer {
    /// A serializer that writes compact JSON (`pretty == false`) or pretty JSON.
    pub fn new(pretty: bool) -> Self {
        JsonSerializer {
            out: String::new(),
            pretty,
            depth: 0,
        }
    }

    /// The JSON written so far.
    pub fn into_string(self) -> String {
        self.out
    }

    /// Opens an array or object (`open` is `[` or `{`).
    fn begin(&mut self, open: char) {
        self.out.push(open);
        self.depth += 1;
    }

    /// Starts the next element or member: a comma unless it is the first, then the line
    /// break and indentation in pretty mode.
    #[inline]
    fn next_item(&mut self, first: bool) {
        if !first {
            self.out.push(',');
        }
        if self.pretty {
            write_newline_indent(&mut self.out, self.depth);
        }
    }

    /// Writes the `:` between a key and its value.
    #[inline]
    fn colon(&mut self) {
        self.out.push_str(if self.pretty { ": " } else { ":" });
    }

    /// Closes an array or object; `empty` says whether it had no items.
    fn end(&mut self, close: char, empty: bool) {
        // TODO: close an array or object (`close` is `]` or `}`); `empty` says whether it had
        // no items, and an empty one stays `[]` or `{}` in pretty mode too
        todo!()
    }

    /// Opens the object `{"variant":` that wraps a variant with data.
    fn begin_variant(&mut self, variant: &str) {
        self.begin('{');
        self.next_item(true);
        write_escaped_str(&mut self.out, variant);
        self.colon();
    }
}

/// The state of an array or object being written: [`JsonSerializer`]'s `SerializeSeq`,
/// `SerializeMap` and `SerializeStruct`.
pub struct Compound<'a> {
    ser: &'a mut JsonSerializer,
    /// No item has been written yet.
    first: bool,
    /// This is the payload of a variant, so `end` also closes the `{"variant":` wrapper.
    in_variant: bool,
}

impl<'a> Compound<'a> {
    fn new(ser: &'a mut JsonSerializer, open: char, in_variant: bool) -> Self {
        ser.begin(open);
        Compound {
            ser,
            first: true,
            in_variant,
        }
    }

    fn finish(self, close: char) -> Result<()> {
        // TODO: close what `Compound::new` opened, and the `{"variant":` object too when this is a
        // variant's payload
        todo!()
    }
}

impl<'a> Serializer for &'a mut JsonSerializer {
    type Ok = ();
    type SerializeSeq = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    fn serialize_i64(self, v: i64) -> Result<()> {
        // `write_number` writes any i64 held as `NegInt`, whatever its sign.
        write_number(&mut self.out, Number::NegInt(v));
        Ok(())
    }

    fn serialize_u64(self, v: u64) -> Result<()> {
        write_number(&mut self.out, Number::PosInt(v));
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<()> {
        write_number(&mut self.out, Number::Float(v));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        write_escaped_str(&mut self.out, v);
        Ok(())
    }

    fn serialize_unit(self) -> Result<()> {
        self.out.push_str("null");
        Ok(())
    }

    fn serialize_none(self) -> Result<()> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_unit_variant(self, _name: &'static str, variant: &'static str) -> Result<()> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        // TODO: `{"variant":value}`, pretty-printed like any object
        todo!()
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>> {
        Ok(Compound::new(self, '[', false))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.begin_variant(variant);
        Ok(Compound::new(self, '[', true))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>> {
        Ok(Compound::new(self, '{', false))
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>> {
        Ok(Compound::new(self, '{', false))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.begin_variant(variant);
        Ok(Compound::new(self, '{', true))
    }
}

impl SerializeSeq for Compound<'_> {
    type Ok = ();

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        // TODO: a comma unless first (and the pretty line break), then the element
        todo!()
    }

    fn end(self) -> Result<()> {
        self.finish(']')
    }
}

impl SerializeMap for Compound<'_> {
    type Ok = ();

    fn serialize_entry<K, V>(&mut self, key: &K, value: &V) -> Result<()>
    where
        K: Serialize + ?Sized,
        V: Serialize + ?Sized,
    {
        // TODO: a comma unless first, the key through `MapKeySerializer`, `:`, the value
        todo!()
    }

    fn end(self) -> Result<()> {
        self.finish('}')
    }
}

impl SerializeStruct for Compound<'_> {
    type Ok = ();

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.ser.next_item(self.first);
        self.first = false;
        write_escaped_str(&mut self.ser.out, key);
        self.ser.colon();
        value.serialize(&mut *self.ser)
    }

    fn end(self) -> Result<()> {
        self.finish('}')
    }
}

/// Writes a map key: strings as they are, integers as strings, nothing else.
struct MapKeySerializer<'a>(&'a mut JsonSerializer);

fn key_must_be_a_string() -> Error {
    Error::data("key must be a string")
}

impl<'a> Serializer for MapKeySerializer<'a> {
    type Ok = ();
    // Never created: every compound key is rejected before one would be.
    type SerializeSeq = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;

    fn serialize_bool(self, _: bool) -> Result<()> {
        Err(key_must_be_a_string())
    }

    fn serialize_i64(self, v: i64) -> Result<()> {
        // TODO: an integer key is written as a string: `{"-1":true}`
        todo!()
    }

    fn serialize_u64(self, v: u64) -> Result<()> {
        // TODO: an integer key is written as a string: `{"1":true}`
        todo!()
    }

    fn serialize_f64(self, _: f64) -> Result<()> {
        Err(key_must_be_a_string())
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        self.0.serialize_str(v)
    }

    fn serialize_unit(self) -> Result<()> {
        Err(key_must_be_a_string())
    }

    fn serialize_none(self) -> Result<()> {
        Err(key_must_be_a_string())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<()> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_variant(self, _: &'static str, variant: &'static str) -> Result<()> {
        // A fieldless enum variant is written as its name, a string: it can be a key.
        self.serialize_str(variant)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &'static str,
        _: &T,
    ) -> Result<()> {
        Err(key_must_be_a_string())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>> {
        Err(key_must_be_a_string())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>> {
        Err(key_must_be_a_string())
    }
}

/// Writes `value` as compact JSON.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let mut ser = JsonSerializer::new(false);
    value.serialize(&mut ser)?;
    Ok(ser.into_string())
}

/// Writes `value` as pretty JSON (two-space indent, as [`Value::to_pretty`]).
pub fn to_json_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let mut ser = JsonSerializer::new(true);
    value.serialize(&mut ser)?;
    Ok(ser.into_string())
}

impl Serialize for bool {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        serializer.serialize_bool(*self)
    }
}

/// One impl per integer type, each widening to the data model's `i64` or `u64`.
macro_rules! serialize_integers {
    ($method:ident: $($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
                serializer.$method((*self).into())
            }
        }
    )*};
}
serialize_integers!(serialize_i64: i8, i16, i32, i64);
serialize_integers!(serialize_u64: u8, u16, u32, u64);

impl Serialize for isize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        // isize is at most 64 bits on every platform Rust supports.
        serializer.serialize_i64(*self as i64)
    }
}

impl Serialize for usize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        serializer.serialize_u64(*self as u64)
    }
}

impl Serialize for f32 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        serializer.serialize_f64(f64::from(*self))
    }
}

impl Serialize for f64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        serializer.serialize_f64(*self)
    }
}

impl Serialize for char {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        serializer.serialize_str(self.encode_utf8(&mut [0; 4]))
    }
}

impl Serialize for str {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        serializer.serialize_str(self)
    }
}

impl Serialize for String {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        serializer.serialize_str(self)
    }
}

impl Serialize for () {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        serializer.serialize_unit()
    }
}

impl<T: Serialize> Serialize for Option<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        // TODO: `None` and `Some(v)` are two different things in the data model, each with
        // its own `Serializer` method
        todo!()
    }
}

impl<T: Serialize> Serialize for [T] {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        // TODO: a sequence of known length: open it on `serializer`, feed it every element,
        // end it
        todo!()
    }
}

impl<T: Serialize> Serialize for Vec<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        self.as_slice().serialize(serializer)
    }
}

impl<T: Serialize, const N: usize> Serialize for [T; N] {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        self.as_slice().serialize(serializer)
    }
}

/// Tuples are sequences: `(1, "a")` is `[1,"a"]`.
macro_rules! serialize_tuples {
    ($(($($t:ident . $i:tt),+))*) => {$(
        impl<$($t: Serialize),+> Serialize for ($($t,)+) {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
                let mut seq = serializer.serialize_seq(Some([$($i),+].len()))?;
                $(seq.serialize_element(&self.$i)?;)+
                seq.end()
            }
        }
    )*};
}
serialize_tuples! {
    (A.0, B.1)
    (A.0, B.1, C.2)
    (A.0, B.1, C.2, D.3)
    (A.0, B.1, C.2, D.3, E.4)
    (A.0, B.1, C.2, D.3, E.4, F.5)
}

impl<K, V, H> Serialize for HashMap<K, V, H>
where
    K: Serialize,
    V: Serialize,
    H: BuildHasher,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        // TODO: a map of known length: open it on `serializer`, feed it every entry, end it
        todo!()
    }
}

impl<K: Serialize, V: Serialize> Serialize for BTreeMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<T: Serialize + ?Sized> Serialize for &T {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        // TODO: a reference looks like the value it points to
        todo!()
    }
}

impl<T: Serialize + ?Sized> Serialize for Box<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        (**self).serialize(serializer)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        // TODO: one `Serializer` call per variant; arrays and objects are sequences and maps
        // like `Vec` and `BTreeMap` (`Number` has three cases)
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Category;

    /// A struct with a hand-written impl, as a derive would write it.
    struct Point {
        x: i32,
        y: i32,
        label: Option<String>,
    }

    impl Serialize for Point {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
            let mut st = serializer.serialize_struct("Point", 3)?;
            st.serialize_field("x", &self.x)?;
            st.serialize_field("y", &self.y)?;
            st.serialize_field("label", &self.label)?;
            st.end()
        }
    }

    /// One enum with every kind of variant, serialized by hand.
    enum Shape {
        Empty,
        Circle(f64),
        Line(i32, i32),
        Rect { w: u32, h: u32 },
    }

    impl Serialize for Shape {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
            match self {
                Shape::Empty => serializer.serialize_unit_variant("Shape", "Empty"),
                Shape::Circle(r) => serializer.serialize_newtype_variant("Shape", "Circle", r),
                Shape::Line(a, b) => {
                    let mut tv = serializer.serialize_tuple_variant("Shape", "Line", 2)?;
                    tv.serialize_element(a)?;
                    tv.serialize_element(b)?;
                    tv.end()
                }
                Shape::Rect { w, h } => {
                    let mut sv = serializer.serialize_struct_variant("Shape", "Rect", 2)?;
                    sv.serialize_field("w", w)?;
                    sv.serialize_field("h", h)?;
                    sv.end()
                }
            }
        }
    }

    #[test]
    fn primitives_are_written_as_json() {
        assert_eq!(to_json(&true).unwrap(), "true");
        assert_eq!(to_json(&-5i8).unwrap(), "-5");
        assert_eq!(to_json(&7i32).unwrap(), "7");
        assert_eq!(to_json(&u64::MAX).unwrap(), "18446744073709551615");
        assert_eq!(to_json(&i64::MIN).unwrap(), "-9223372036854775808");
        assert_eq!(to_json(&300usize).unwrap(), "300");
        assert_eq!(to_json(&-3isize).unwrap(), "-3");
        assert_eq!(to_json(&1.5f64).unwrap(), "1.5");
        assert_eq!(
            to_json(&2.0f64).unwrap(),
            "2.0",
            "floats keep their fraction"
        );
        assert_eq!(to_json(&0.5f32).unwrap(), "0.5");
        assert_eq!(to_json(&()).unwrap(), "null");
    }

    #[test]
    fn non_finite_floats_are_written_as_null() {
        assert_eq!(to_json(&f64::NAN).unwrap(), "null");
        assert_eq!(to_json(&vec![f64::INFINITY]).unwrap(), "[null]");
    }

    #[test]
    fn strings_and_chars_are_escaped() {
        assert_eq!(to_json("a\"b\n").unwrap(), r#""a\"b\n""#);
        assert_eq!(to_json(&String::from("\u{1}é")).unwrap(), "\"\\u0001é\"");
        assert_eq!(to_json(&'"').unwrap(), r#""\"""#);
        assert_eq!(to_json(&'😀').unwrap(), "\"😀\"");
    }

    #[test]
    fn options_are_null_or_the_value() {
        assert_eq!(to_json(&None::<i32>).unwrap(), "null");
        assert_eq!(to_json(&Some(3)).unwrap(), "3");
        assert_eq!(to_json(&Some("x")).unwrap(), "\"x\"");
    }

    #[test]
    fn sequences_are_arrays() {
        assert_eq!(to_json(&Vec::<i32>::new()).unwrap(), "[]");
        assert_eq!(
            to_json(&vec![1, 2, 3]).unwrap(),
            "[1,2,3]",
            "elements are separated by commas"
        );
        assert_eq!(to_json(&vec![vec![1], vec![]]).unwrap(), "[[1],[]]");
        assert_eq!(to_json(&[true, false][..]).unwrap(), "[true,false]");
        assert_eq!(to_json(&["a"; 2]).unwrap(), r#"["a","a"]"#);
        assert_eq!(to_json(&(1, "a", None::<u8>)).unwrap(), r#"[1,"a",null]"#);
    }

    #[test]
    fn maps_are_objects() {
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), 2);
        m.insert("a".to_string(), 1);
        assert_eq!(to_json(&m).unwrap(), r#"{"a":1,"b":2}"#);
        let mut h = HashMap::new();
        h.insert("k", vec![1]);
        assert_eq!(to_json(&h).unwrap(), r#"{"k":[1]}"#);
        assert_eq!(to_json(&BTreeMap::<String, i32>::new()).unwrap(), "{}");
    }

    #[test]
    fn integer_map_keys_are_written_as_strings() {
        let mut m = BTreeMap::new();
        m.insert(1u32, "one");
        m.insert(2u32, "two");
        assert_eq!(
            to_json(&m).unwrap(),
            r#"{"1":"one","2":"two"}"#,
            "JSON object keys are strings: integer keys are written in quotes"
        );
        let mut m = BTreeMap::new();
        m.insert(-7i64, true);
        assert_eq!(to_json(&m).unwrap(), r#"{"-7":true}"#);
    }

    #[test]
    fn map_keys_are_escaped() {
        let mut m = BTreeMap::new();
        m.insert("say \"hi\"\n".to_string(), 1);
        assert_eq!(
            to_json(&m).unwrap(),
            r#"{"say \"hi\"\n":1}"#,
            "map keys are escaped like any string"
        );
    }

    #[test]
    fn other_map_keys_are_a_data_error() {
        let mut m = BTreeMap::new();
        m.insert(true, 1);
        let e = to_json(&m).unwrap_err();
        assert_eq!(e.category(), Category::Data);
        assert_eq!(e.message(), "key must be a string");
        let mut m = BTreeMap::new();
        m.insert(vec![1], 1);
        assert_eq!(to_json(&m).unwrap_err().message(), "key must be a string");
        let mut m = BTreeMap::new();
        m.insert(Some("k"), 1);
        assert!(
            to_json(&m).is_err(),
            "an Option key is not a string, even when Some"
        );
    }

    /// A map of one entry, `key: 1`, for the keys no standard map can hold.
    struct OneEntry<'k, K: ?Sized>(&'k K);

    impl<K: Serialize + ?Sized> Serialize for OneEntry<'_, K> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry(self.0, &1)?;
            map.end()
        }
    }

    #[test]
    fn keys_that_are_not_strings_or_integers_are_refused() {
        let refused = [
            ("a float", to_json(&OneEntry(&1.5f64))),
            ("()", to_json(&OneEntry(&()))),
            ("None", to_json(&OneEntry(&None::<&str>))),
            ("a newtype variant", to_json(&OneEntry(&Shape::Circle(1.0)))),
        ];
        for (what, result) in refused {
            match result {
                Ok(text) => {
                    panic!("{what} is not a string: as a key it must be refused, got {text}")
                }
                Err(e) => assert_eq!(e.message(), "key must be a string", "{what} as a key"),
            }
        }
        assert_eq!(
            to_json(&OneEntry(&Shape::Empty)).unwrap(),
            r#"{"Empty":1}"#,
            "a unit variant is written as its name, a string, so it can be a key"
        );
    }

    #[test]
    fn a_hand_written_struct_impl_makes_an_object() {
        let p = Point {
            x: 1,
            y: -2,
            label: None,
        };
        assert_eq!(
            to_json(&p).unwrap(),
            r#"{"x":1,"y":-2,"label":null}"#,
            "fields are separated by commas, keys are quoted"
        );
        let p = Point {
            x: 0,
            y: 0,
            label: Some("origin".into()),
        };
        assert_eq!(
            to_json(&p).unwrap(),
            r#"{"x":0,"y":0,"label":"origin"}"#,
            "fields are written in the order the impl gives them"
        );
    }

    #[test]
    fn enum_variants_are_externally_tagged() {
        assert_eq!(to_json(&Shape::Empty).unwrap(), r#""Empty""#);
        assert_eq!(to_json(&Shape::Circle(1.5)).unwrap(), r#"{"Circle":1.5}"#);
        assert_eq!(
            to_json(&Shape::Line(1, 2)).unwrap(),
            r#"{"Line":[1,2]}"#,
            "a tuple variant is an array inside a one-key object: `end` closes the array and the \
             `{{\"Line\":` around it"
        );
        assert_eq!(
            to_json(&Shape::Rect { w: 3, h: 4 }).unwrap(),
            r#"{"Rect":{"w":3,"h":4}}"#,
            "a struct variant is an object inside a one-key object: `end` closes both"
        );
        assert_eq!(
            to_json(&vec![Shape::Empty, Shape::Line(0, 0)]).unwrap(),
            r#"["Empty",{"Line":[0,0]}]"#,
            "a variant's closing braces must not disturb what follows"
        );
    }

    #[test]
    fn blanket_impls_serialize_through_references_and_boxes() {
        let v = vec![1, 2];
        assert_eq!(to_json(&&v).unwrap(), "[1,2]");
        assert_eq!(to_json(&&&"s").unwrap(), "\"s\"");
        assert_eq!(to_json(&Box::new(5)).unwrap(), "5");
        let boxed: Box<str> = "b".into();
        assert_eq!(to_json(&boxed).unwrap(), "\"b\"");
        let refs: Vec<&Point> = vec![];
        assert_eq!(to_json(&refs).unwrap(), "[]");
    }

    #[test]
    fn pretty_output_matches_the_value_writer() {
        let p = Point {
            x: 1,
            y: 2,
            label: None,
        };
        assert_eq!(
            to_json_pretty(&p).unwrap(),
            "{\n  \"x\": 1,\n  \"y\": 2,\n  \"label\": null\n}",
            "each member on its own line, indented one level; the closing bracket one level less \
             than the items"
        );
        assert_eq!(
            to_json_pretty(&vec![vec![1], vec![]]).unwrap(),
            "[\n  [\n    1\n  ],\n  []\n]",
            "an empty array stays `[]` in pretty mode, nested too"
        );
        assert_eq!(
            to_json_pretty(&Shape::Line(1, 2)).unwrap(),
            "{\n  \"Line\": [\n    1,\n    2\n  ]\n}"
        );
        assert_eq!(
            to_json_pretty(&Shape::Circle(0.5)).unwrap(),
            "{\n  \"Circle\": 0.5\n}"
        );
        assert_eq!(
            to_json_pretty(&Vec::<u8>::new()).unwrap(),
            "[]",
            "an empty array stays `[]` in pretty mode"
        );
    }

    #[test]
    fn values_serialize_to_the_same_text_as_the_writer() {
        let v = crate::s02_parser::parse_str(r#"{"a":[1,-2,2.5,"x"],"b":null,"c":{"d":true}}"#)
            .unwrap();
        assert_eq!(to_json(&v).unwrap(), v.to_compact());
        assert_eq!(to_json_pretty(&v).unwrap(), v.to_pretty());
    }
}
