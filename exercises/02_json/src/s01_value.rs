//! # The value and the writer
//!
//! Build [`Value`], the document model of JSON, and the two writers that turn it back into
//! text: [`Value::to_compact`] (no whitespace) and [`Value::to_pretty`] (two-space indent).
//!
//! JSON has six kinds of value: `null`, booleans, numbers, strings, arrays and objects.
//! Numbers are the subtle one. RFC 8259 puts no limit on them, but a program that reads
//! `18446744073709551615` (`u64::MAX`) into an `f64` silently gets `18446744073709551616`.
//! So [`Number`] keeps integers exact: `PosInt` for integers `>= 0`, `NegInt` for integers
//! `< 0`, and `Float` only for numbers with a fraction or an exponent (or integers too large
//! for 64 bits).
//!
//! Writing is mostly about strings. A JSON string must escape `"`, `\` and every control
//! character below U+0020; everything else, including all non-ASCII text, may be written as
//! it is. Use the short escapes `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f` and `\u00XX`
//! (lowercase hex) for the other control characters. Numbers have one more policy to
//! settle: JSON has no NaN or infinity, so this crate writes a non-finite float as `null`
//! (as serde_json and JavaScript's `JSON.stringify` do). Finite floats must read back as
//! floats, so `1.0` is written `1.0`, not `1`, and `1e300` with an exponent, not in 301
//! digits. `f64`'s `Debug` format does both; the `zmij` and `itoa` crates, dependencies of
//! this crate, write the same numbers several times faster (`zmij` spells the exponent
//! `1e+300`), and are what serde_json uses.
//!
//! The pretty writer puts every element and member on its own line, indented by two spaces
//! per level, with `": "` between a key and its value; an empty array is `[]` and an empty
//! object `{}`.
//!
//! Afterwards you will know the data model that every later stage maps Rust types onto, and
//! why a writer appends to one `String` instead of building and concatenating many.
//!
//! Read: RFC 8259, sections 3 to 7 (<https://www.rfc-editor.org/rfc/rfc8259>); Programming
//! Rust, chapter 17 (strings), on `String` and `char`.

use std::collections::BTreeMap;
use std::fmt;

/// A JSON object: keys in sorted order, so output is deterministic.
pub type Map = BTreeMap<String, Value>;

/// Any JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// A JSON number that keeps integers exact.
///
/// Invariant: an integer `>= 0` is always `PosInt`, and `NegInt` always holds a value `< 0`,
/// so that `==` on numbers compares values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    PosInt(u64),
    NegInt(i64),
    Float(f64),
}

// Given: small accessors used by the tests of every stage.
impl Value {
    /// The value of `key` if `self` is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// The string, if `self` is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if `self` is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        // TODO: wrap the bool in the right variant
        todo!()
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        // TODO: copy the text into a `Value::String`
        todo!()
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        // TODO: move the string into a `Value::String`
        todo!()
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        // TODO: wrap the elements in a `Value::Array`
        todo!()
    }
}

impl From<i64> for Value {
    /// Keeps the invariant of [`Number`]: `0` and up are `PosInt`.
    fn from(n: i64) -> Self {
        // TODO: keep the invariant of `Number`: 0 and up is `PosInt`, below 0 is `NegInt`
        todo!()
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        // TODO: a `Number::PosInt`
        todo!()
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        // TODO: a `Number::Float`
        todo!()
    }
}

/// Appends `s` to `out` as a JSON string literal, quotes included.
///
/// Copies runs of characters that need no escape in one `push_str`, so plain text costs one
/// scan and one copy.
pub fn write_escaped_str(out: &mut String, s: &str) {
    // TODO: the text between quotes, with `"`, `\\` and control characters escaped and
    // everything else copied as it is
    todo!()
}

/// Appends `n` to `out`. Non-finite floats become `null`; finite floats always keep a `.`
/// or an exponent so they read back as floats.
pub fn write_number(out: &mut String, n: Number) {
    // TODO: integers as they are; finite floats with a `.` or an exponent, so that they read
    // back as floats; NaN and infinities as `null`
    todo!()
}

/// Appends a newline and `depth` levels of two-space indentation.
pub fn write_newline_indent(out: &mut String, depth: usize) {
    // TODO: a `\n` and two spaces per level
    todo!()
}

impl Value {
    /// The value as JSON text with no whitespace.
    pub fn to_compact(&self) -> String {
        // TODO: every kind of value, nested to any depth, with no whitespace
        todo!()
    }

    /// The value as JSON text, one element or member per line, indented two spaces a level.
    pub fn to_pretty(&self) -> String {
        // TODO: the same layout as the compact writer plus a line break and indentation before each
        // element or member and before a non-empty closing bracket, and `": "` after keys
        todo!()
    }
}

impl fmt::Display for Value {
    /// The compact form, so `value.to_string()` is JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_compact())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn scalars_are_written_as_json_literals() {
        assert_eq!(Value::Null.to_compact(), "null");
        assert_eq!(Value::from(true).to_compact(), "true");
        assert_eq!(Value::from(false).to_compact(), "false");
        assert_eq!(Value::from("hi").to_compact(), "\"hi\"");
        assert_eq!(Value::from(0i64).to_compact(), "0");
        assert_eq!(Value::from(-17i64).to_compact(), "-17");
    }

    #[test]
    fn the_given_accessors_read_what_they_name() {
        // Given code, which the tests of every later stage rely on.
        let v = obj(&[
            ("k", Value::from("text")),
            ("a", Value::Array(vec![Value::Null])),
        ]);
        assert_eq!(v.get("k").and_then(Value::as_str), Some("text"));
        assert_eq!(
            v.get("a").and_then(Value::as_array),
            Some(&vec![Value::Null])
        );
        assert_eq!(v.get("missing"), None);
        assert_eq!(Value::Null.get("k"), None);
        assert_eq!(Value::from(1i64).as_str(), None);
        assert_eq!(Value::from("a").as_array(), None);
    }

    #[test]
    fn from_i64_keeps_the_number_invariant() {
        assert_eq!(
            Value::from(5i64),
            Value::Number(Number::PosInt(5)),
            "integers >= 0 must be PosInt, so that 5i64 and 5u64 compare equal"
        );
        assert_eq!(
            Value::from(0i64),
            Value::Number(Number::PosInt(0)),
            "0 is not negative: 0i64 must be PosInt(0), so that it equals 0u64"
        );
        assert_eq!(Value::from(-5i64), Value::Number(Number::NegInt(-5)));
    }

    #[test]
    fn integers_at_the_edges_of_64_bits_stay_exact() {
        assert_eq!(Value::from(u64::MAX).to_compact(), "18446744073709551615");
        assert_eq!(Value::from(i64::MIN).to_compact(), "-9223372036854775808");
    }

    #[test]
    fn floats_keep_a_fraction_or_exponent() {
        assert_eq!(
            Value::from(1.0).to_compact(),
            "1.0",
            "1.0 written as `1` would read back as an integer"
        );
        assert_eq!(Value::from(-0.5).to_compact(), "-0.5");
        for f in [1e300, 2.5e-8, -1.5e-300] {
            let text = Value::from(f).to_compact();
            assert!(
                text.contains('e') && text.len() < 12,
                "very large and very small floats use an exponent (`1e300` or `1e+300`), got {text}"
            );
            assert_eq!(text.parse::<f64>(), Ok(f), "{text} must read back as {f:?}");
        }
        assert_eq!(
            Value::from(0.1).to_compact(),
            "0.1",
            "shortest round-trip form"
        );
    }

    #[test]
    fn non_finite_floats_are_written_as_null() {
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                Value::from(f).to_compact(),
                "null",
                "JSON has no NaN or infinity: {f} must be written as null"
            );
        }
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(
            Value::from(r#"a"b\c"#).to_compact(),
            r#""a\"b\\c""#,
            "each escaped byte replaces the byte itself, and the text around it is kept"
        );
        assert_eq!(Value::from("\"").to_compact(), r#""\"""#);
    }

    #[test]
    fn common_control_characters_use_short_escapes() {
        assert_eq!(
            Value::from("\n\r\t\u{8}\u{c}").to_compact(),
            r#""\n\r\t\b\f""#
        );
    }

    #[test]
    fn other_control_characters_use_u00xx() {
        assert_eq!(
            Value::from("\u{0}").to_compact(),
            r#""\u0000""#,
            "NUL (U+0000) is a control character too: it must be escaped"
        );
        assert_eq!(Value::from("a\u{1}b").to_compact(), r#""a\u0001b""#);
        assert_eq!(
            Value::from("\u{1f}").to_compact(),
            r#""\u001f""#,
            "hex digits are lowercase"
        );
        for c in (0u8..0x20).map(char::from) {
            let out = Value::from(c.to_string()).to_compact();
            assert!(
                out.starts_with("\"\\"),
                "control character U+{:04X} must be escaped, got {out}",
                c as u32
            );
        }
    }

    #[test]
    fn non_ascii_and_delete_pass_through() {
        assert_eq!(
            Value::from("héllo 😀 日本").to_compact(),
            "\"héllo 😀 日本\""
        );
        assert_eq!(
            Value::from("\u{7f}\u{2028}").to_compact(),
            "\"\u{7f}\u{2028}\"",
            "only characters below U+0020 must be escaped"
        );
    }

    #[test]
    fn keys_are_escaped_too() {
        let v = obj(&[("a\"b", Value::Null)]);
        assert_eq!(v.to_compact(), r#"{"a\"b":null}"#);
    }

    #[test]
    fn compact_output_has_no_whitespace() {
        let v = obj(&[
            ("b", Value::from(vec![Value::from(1i64), Value::Null])),
            ("a", obj(&[])),
            ("c", Value::from(Vec::new())),
        ]);
        assert_eq!(
            v.to_compact(),
            r#"{"a":{},"b":[1,null],"c":[]}"#,
            "objects are written in key order"
        );
        assert_eq!(v.to_string(), v.to_compact(), "Display is the compact form");
    }

    #[test]
    fn pretty_output_indents_two_spaces_per_level() {
        let v = obj(&[
            ("name", Value::from("x")),
            (
                "list",
                Value::from(vec![Value::from(1i64), obj(&[("k", Value::from(true))])]),
            ),
        ]);
        let expected =
            "{\n  \"list\": [\n    1,\n    {\n      \"k\": true\n    }\n  ],\n  \"name\": \"x\"\n}";
        assert_eq!(v.to_pretty(), expected);
    }

    #[test]
    fn pretty_empty_containers_stay_on_one_line() {
        assert_eq!(
            Value::from(Vec::new()).to_pretty(),
            "[]",
            "an empty array is `[]` in pretty mode too: no line break inside"
        );
        assert_eq!(
            obj(&[]).to_pretty(),
            "{}",
            "an empty object is `{{}}` in pretty mode too: no line break inside"
        );
        let v = obj(&[("a", Value::from(Vec::new())), ("b", obj(&[]))]);
        assert_eq!(v.to_pretty(), "{\n  \"a\": [],\n  \"b\": {}\n}");
        assert_eq!(Value::Null.to_pretty(), "null");
    }

    #[test]
    fn deep_nesting_is_written_in_order() {
        let mut v = Value::from(1i64);
        for _ in 0..50 {
            v = Value::from(vec![v]);
        }
        let expected = format!("{}1{}", "[".repeat(50), "]".repeat(50));
        assert_eq!(v.to_compact(), expected);
    }
}
