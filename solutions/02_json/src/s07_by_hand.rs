//! # Structs and enums by hand
//!
//! Before writing a derive macro, write by hand the code it will generate. This stage
//! implements `Serialize` and `Deserialize` for three types: a struct ([`Config`]), an enum
//! with every kind of variant ([`Shape`]), and a generic struct ([`Labeled<T>`]).
//!
//! Serializing follows stage 5's data model: one `Serializer` call for the value (a newtype
//! variant passes its payload in that call); a struct, a tuple variant or a struct variant
//! then feeds each field or element to the helper the call returned, and `end`s it.
//!
//! Deserializing a struct is a visitor with `visit_map`: one `Option` slot per field, a loop
//! over the keys, and a `match` on each key. That loop is where the policies live:
//!
//! - a **missing field** is "missing field `port`", except that an `Option` field may be
//!   absent (it is `None`). Do not special-case `Option` by name: call stage 6's
//!   `missing_field::<T>("port")`, which asks `T` itself;
//! - a **duplicate field** is "duplicate field `port`" (RFC 8259 leaves duplicates to the
//!   implementation; for a typed struct, silently keeping one is a bug magnet);
//! - an **unknown field** is an error that lists the fields there are:
//!   "unknown field `prot`, expected one of `name`, `port`, `tags`, `comment`". This crate
//!   rejects unknown fields (serde ignores them by default, and offers
//!   `deny_unknown_fields`); a typo in a config file then fails loudly;
//! - anything but an object is "invalid type: ..., expected struct Config".
//!
//! Enums use the externally tagged form of stage 5: `"Empty"`, `{"Circle":1.5}`,
//! `{"Line":[1,2]}`, `{"Rect":{"w":3,"h":4}}`. So the enum's visitor takes a string
//! (`visit_str`: a unit variant) or a one-key object (`visit_map`: the key is the variant,
//! its value the payload). A tuple variant's payload is a tuple (stage 6 made tuples
//! `Deserialize`); a struct variant's payload needs a visitor of its own, passed to
//! `MapAccess::next_value_with`. Errors: "unknown variant `Square`, expected one of
//! `Empty`, `Circle`, `Line`, `Rect`"; a variant with data given as a bare string is
//! "variant `Circle` of enum Shape needs a value"; an object with no key or more than one key
//! is "expected an object with exactly one key, the variant" (a unit variant may also be
//! written `{"Empty":null}`).
//!
//! The generic [`Labeled<T>`] shows where bounds go: `impl<T: Deserialize> Deserialize for
//! Labeled<T>`, and its visitor is generic too, carrying `T` in a `PhantomData<fn() -> T>`.
//!
//! Afterwards you will know exactly what `#[derive(Serialize, Deserialize)]` expands to,
//! which is most of the work of writing it.
//!
//! Read: serde, "Implementing Deserialize" and "Deserialize for custom map type"
//! (<https://serde.rs/deserialize-struct.html>) after a first attempt; Rust for Rustaceans,
//! chapter 2 on generic bounds.

use std::fmt;
use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::s05_serialize::{Serialize, SerializeSeq, SerializeStruct, Serializer};
use crate::s06_deserialize::{Deserialize, Deserializer, MapAccess, Visitor, missing_field};

/// A struct with a required field of each common kind and an optional one.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub name: String,
    pub port: u16,
    pub tags: Vec<String>,
    pub comment: Option<String>,
}

/// An enum with a unit, a newtype, a tuple and a struct variant.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Empty,
    Circle(f64),
    Line(i32, i32),
    Rect { w: u32, h: u32 },
}

/// A generic struct: its impls need bounds on `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct Labeled<T> {
    pub label: String,
    pub value: T,
}

impl Serialize for Config {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        let mut st = serializer.serialize_struct("Config", 4)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("port", &self.port)?;
        st.serialize_field("tags", &self.tags)?;
        st.serialize_field("comment", &self.comment)?;
        st.end()
    }
}

/// Stores a field's value, refusing a second one.
fn set_once<T>(slot: &mut Option<T>, field: &'static str, value: Result<T>) -> Result<()> {
    if slot.is_some() {
        return Err(Error::duplicate_field(field));
    }
    *slot = Some(value?);
    Ok(())
}

/// The field's value, or what [`missing_field`] makes of its absence.
fn take_or_missing<T: Deserialize>(slot: Option<T>, field: &'static str) -> Result<T> {
    match slot {
        Some(v) => Ok(v),
        None => missing_field(field),
    }
}

impl Deserialize for Config {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        struct ConfigVisitor;

        impl Visitor for ConfigVisitor {
            type Value = Config;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Config")
            }

            fn visit_map<A: MapAccess>(self, mut map: A) -> Result<Config> {
                const FIELDS: &[&str] = &["name", "port", "tags", "comment"];
                let mut name = None;
                let mut port = None;
                let mut tags = None;
                let mut comment = None;
                while let Some(key) = map.next_key()? {
                    // `key` borrows `map`; each arm is done with it before `next_value`.
                    match key {
                        "name" => set_once(&mut name, "name", map.next_value())?,
                        "port" => set_once(&mut port, "port", map.next_value())?,
                        "tags" => set_once(&mut tags, "tags", map.next_value())?,
                        "comment" => set_once(&mut comment, "comment", map.next_value())?,
                        other => return Err(Error::unknown_field(other, FIELDS)),
                    }
                }
                Ok(Config {
                    name: take_or_missing(name, "name")?,
                    port: take_or_missing(port, "port")?,
                    tags: take_or_missing(tags, "tags")?,
                    comment: take_or_missing(comment, "comment")?,
                })
            }
        }

        deserializer.deserialize_any(ConfigVisitor)
    }
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

const SHAPE_VARIANTS: &[&str] = &["Empty", "Circle", "Line", "Rect"];

/// The error for an object that is not `{"Variant": payload}`.
fn not_one_key() -> Error {
    Error::data("expected an object with exactly one key, the variant")
}

impl Deserialize for Shape {
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        struct ShapeVisitor;

        impl Visitor for ShapeVisitor {
            type Value = Shape;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("enum Shape")
            }

            fn visit_str(self, variant: &str) -> Result<Shape> {
                match variant {
                    "Empty" => Ok(Shape::Empty),
                    "Circle" | "Line" | "Rect" => Err(Error::data(format!(
                        "variant `{variant}` of enum Shape needs a value"
                    ))),
                    other => Err(Error::unknown_variant(other, SHAPE_VARIANTS)),
                }
            }

            fn visit_map<A: MapAccess>(self, mut map: A) -> Result<Shape> {
                let shape = match map.next_key()? {
                    None => return Err(not_one_key()),
                    Some("Empty") => {
                        map.next_value::<()>()?;
                        Shape::Empty
                    }
                    Some("Circle") => Shape::Circle(map.next_value()?),
                    Some("Line") => {
                        let (a, b) = map.next_value()?;
                        Shape::Line(a, b)
                    }
                    Some("Rect") => map.next_value_with(RectVisitor)?,
                    Some(other) => return Err(Error::unknown_variant(other, SHAPE_VARIANTS)),
                };
                if map.next_key()?.is_some() {
                    return Err(not_one_key());
                }
                Ok(shape)
            }
        }

        /// The payload of `Shape::Rect`: a struct without a type of its own.
        struct RectVisitor;

        impl Visitor for RectVisitor {
            type Value = Shape;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct variant Shape::Rect")
            }

            fn visit_map<A: MapAccess>(self, mut map: A) -> Result<Shape> {
                const FIELDS: &[&str] = &["w", "h"];
                let mut w = None;
                let mut h = None;
                while let Some(key) = map.next_key()? {
                    match key {
                        "w" => set_once(&mut w, "w", map.next_value())?,
                        "h" => set_once(&mut h, "h", map.next_value())?,
                        other => return Err(Error::unknown_field(other, FIELDS)),
                    }
                }
                Ok(Shape::Rect {
                    w: take_or_missing(w, "w")?,
                    h: take_or_missing(h, "h")?,
                })
            }
        }

        deserializer.deserialize_any(ShapeVisitor)
    }
}

impl<T: Serialize> Serialize for Labeled<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok> {
        let mut st = serializer.serialize_struct("Labeled", 2)?;
        st.serialize_field("label", &self.label)?;
        st.serialize_field("value", &self.value)?;
        st.end()
    }
}

impl<T> Deserialize for Labeled<T>
where
    T: Deserialize,
{
    fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
        struct LabeledVisitor<T>(PhantomData<fn() -> T>);

        impl<T: Deserialize> Visitor for LabeledVisitor<T> {
            type Value = Labeled<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Labeled")
            }

            fn visit_map<A: MapAccess>(self, mut map: A) -> Result<Labeled<T>> {
                const FIELDS: &[&str] = &["label", "value"];
                let mut label = None;
                let mut value = None;
                while let Some(key) = map.next_key()? {
                    match key {
                        "label" => set_once(&mut label, "label", map.next_value())?,
                        "value" => set_once(&mut value, "value", map.next_value())?,
                        other => return Err(Error::unknown_field(other, FIELDS)),
                    }
                }
                Ok(Labeled {
                    label: take_or_missing(label, "label")?,
                    value: take_or_missing(value, "value")?,
                })
            }
        }

        deserializer.deserialize_any(LabeledVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Category;
    use crate::s05_serialize::to_json;
    use crate::s06_deserialize::from_json;

    fn config() -> Config {
        Config {
            name: "web".into(),
            port: 8080,
            tags: vec!["a".into(), "b".into()],
            comment: None,
        }
    }

    fn err<T: Deserialize + fmt::Debug>(text: &str) -> String {
        err_because::<T>(text, "see the assertion below it")
    }

    /// The message of the data error that `text` must give, or a panic that says `why`.
    fn err_because<T: Deserialize + fmt::Debug>(text: &str, why: &str) -> String {
        match from_json::<T>(text) {
            Ok(v) => panic!("{text} must be rejected ({why}), got {v:?}"),
            Err(e) => {
                assert_eq!(e.category(), Category::Data, "{text}: {e:?}");
                e.message().to_owned()
            }
        }
    }

    #[test]
    fn a_struct_serializes_as_an_object_in_field_order() {
        assert_eq!(
            to_json(&config()).unwrap(),
            r#"{"name":"web","port":8080,"tags":["a","b"],"comment":null}"#
        );
    }

    #[test]
    fn a_struct_round_trips() {
        let mut c = config();
        assert_eq!(from_json::<Config>(&to_json(&c).unwrap()).unwrap(), c);
        c.comment = Some("main".into());
        assert_eq!(from_json::<Config>(&to_json(&c).unwrap()).unwrap(), c);
    }

    #[test]
    fn fields_may_come_in_any_order() {
        let c: Config =
            from_json(r#"{"tags": [], "port": 1, "comment": "x", "name": "n"}"#).unwrap();
        assert_eq!(c.name, "n");
        assert_eq!(c.port, 1);
        assert_eq!(c.comment.as_deref(), Some("x"));
    }

    #[test]
    fn an_absent_option_field_is_none() {
        let c: Config = from_json(r#"{"name": "web", "port": 8080, "tags": ["a", "b"]}"#).unwrap();
        assert_eq!(
            c,
            config(),
            "an absent Option field must be None, not an error"
        );
    }

    #[test]
    fn a_missing_required_field_is_named() {
        assert_eq!(
            err::<Config>(r#"{"name": "web", "tags": []}"#),
            "missing field `port`"
        );
        assert_eq!(err::<Config>(r#"{}"#), "missing field `name`");
        let why = "only Option fields may be absent: a missing Vec is an error, not an empty list";
        assert_eq!(
            err_because::<Config>(r#"{"name": "web", "port": 1}"#, why),
            "missing field `tags`",
            "{why}"
        );
    }

    #[test]
    fn a_duplicate_field_is_an_error() {
        assert_eq!(
            err::<Config>(r#"{"name": "a", "port": 1, "port": 2, "tags": []}"#),
            "duplicate field `port`"
        );
        let why = "struct variants reject duplicate fields too";
        assert_eq!(
            err_because::<Shape>(r#"{"Rect": {"w": 1, "h": 2, "w": 3}}"#, why),
            "duplicate field `w`",
            "{why}"
        );
        let why = "generic structs reject duplicate fields too";
        assert_eq!(
            err_because::<Labeled<u8>>(r#"{"label": "a", "value": 1, "label": "b"}"#, why),
            "duplicate field `label`",
            "{why}"
        );
    }

    #[test]
    fn an_unknown_field_lists_the_expected_ones() {
        let why = "an unknown key is an error even when every field is there";
        assert_eq!(
            err_because::<Config>(r#"{"name": "a", "port": 1, "tags": [], "prot": 2}"#, why),
            "unknown field `prot`, expected one of `name`, `port`, `tags`, `comment`",
            "{why}"
        );
        assert_eq!(
            err::<Config>(r#"{"name": "a", "prot": 1}"#),
            "unknown field `prot`, expected one of `name`, `port`, `tags`, `comment`"
        );
    }

    #[test]
    fn a_struct_needs_an_object() {
        assert_eq!(
            err::<Config>("[]"),
            "invalid type: sequence, expected struct Config"
        );
        assert_eq!(
            err::<Config>("null"),
            "invalid type: null, expected struct Config"
        );
        assert_eq!(
            err::<Config>(r#"{"name": 5}"#),
            "invalid type: integer `5`, expected a string",
            "a field's own type reports a bad field value"
        );
    }

    #[test]
    fn every_kind_of_variant_serializes_externally_tagged() {
        assert_eq!(to_json(&Shape::Empty).unwrap(), r#""Empty""#);
        assert_eq!(to_json(&Shape::Circle(2.5)).unwrap(), r#"{"Circle":2.5}"#);
        assert_eq!(to_json(&Shape::Line(-1, 2)).unwrap(), r#"{"Line":[-1,2]}"#);
        assert_eq!(
            to_json(&Shape::Rect { w: 3, h: 4 }).unwrap(),
            r#"{"Rect":{"w":3,"h":4}}"#
        );
    }

    #[test]
    fn every_kind_of_variant_round_trips() {
        let shapes = vec![
            Shape::Empty,
            Shape::Circle(0.5),
            Shape::Line(1, -1),
            Shape::Rect { w: 1, h: 2 },
        ];
        let text = to_json(&shapes).unwrap();
        assert_eq!(from_json::<Vec<Shape>>(&text).unwrap(), shapes);
        assert_eq!(
            from_json::<Shape>(r#"{"Empty": null}"#)
                .expect("a unit variant may also be written as a one-key object"),
            Shape::Empty
        );
        assert_eq!(
            from_json::<Shape>(r#"{"Rect": {"h": 2, "w": 1}}"#).unwrap(),
            Shape::Rect { w: 1, h: 2 }
        );
    }

    #[test]
    fn an_unknown_variant_lists_the_expected_ones() {
        let expected =
            "unknown variant `Square`, expected one of `Empty`, `Circle`, `Line`, `Rect`";
        assert_eq!(err::<Shape>(r#""Square""#), expected);
        assert_eq!(err::<Shape>(r#"{"Square": 1}"#), expected);
    }

    #[test]
    fn every_visitor_says_what_it_expected() {
        for (message, what) in [
            (err::<Labeled<u8>>("5"), "Labeled<u8> from 5"),
            (
                err::<Shape>(r#"{"Rect": 5}"#),
                "Shape::Rect from the payload 5",
            ),
        ] {
            let expected = message.strip_prefix("invalid type: integer `5`, expected ");
            assert!(
                expected.is_some_and(|e| !e.trim().is_empty()),
                "{what}: the invalid type error names what was expected (the visitor's \
                 `expecting`, as \"struct Config\" for Config), got {message:?}"
            );
        }
    }

    #[test]
    fn malformed_variants_are_errors() {
        assert_eq!(
            err::<Shape>(r#""Circle""#),
            "variant `Circle` of enum Shape needs a value"
        );
        let why = "a unit variant written as an object takes `null` as its value, nothing else";
        assert_eq!(
            err_because::<Shape>(r#"{"Empty": 5}"#, why),
            "invalid type: integer `5`, expected null",
            "{why}"
        );
        let one_key = "expected an object with exactly one key, the variant";
        assert_eq!(err::<Shape>("{}"), one_key);
        assert_eq!(err::<Shape>(r#"{"Circle": 1, "Empty": null}"#), one_key);
        assert_eq!(
            err::<Shape>("5"),
            "invalid type: integer `5`, expected enum Shape"
        );
        assert_eq!(
            err::<Shape>(r#"{"Line": [1]}"#),
            "invalid length 1, expected a tuple of size 2"
        );
        assert_eq!(err::<Shape>(r#"{"Rect": {"w": 1}}"#), "missing field `h`");
        assert_eq!(
            err::<Shape>(r#"{"Rect": {"w": 1, "h": 2, "d": 3}}"#),
            "unknown field `d`, expected one of `w`, `h`"
        );
    }

    #[test]
    fn a_generic_struct_works_for_any_serializable_parameter() {
        let l = Labeled {
            label: "xs".to_string(),
            value: vec![1u8, 2],
        };
        let text = to_json(&l).unwrap();
        assert_eq!(text, r#"{"label":"xs","value":[1,2]}"#);
        assert_eq!(from_json::<Labeled<Vec<u8>>>(&text).unwrap(), l);
        let nested = Labeled {
            label: "shape".to_string(),
            value: Labeled {
                label: "inner".to_string(),
                value: Shape::Line(3, 4),
            },
        };
        let text = to_json(&nested).unwrap();
        assert_eq!(from_json::<Labeled<Labeled<Shape>>>(&text).unwrap(), nested);
        assert_eq!(
            err::<Labeled<u8>>(r#"{"label": "x", "value": 300}"#),
            "invalid value: integer `300`, expected u8"
        );
    }
}
