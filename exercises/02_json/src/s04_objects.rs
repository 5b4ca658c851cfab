//! # Objects, and a borrow that must wait
//!
//! Finish the parser with objects. An object is `{`, members separated by `,`, then `}`; a
//! member is a string key, a `:` and a value, with whitespace allowed between any two tokens.
//! A key that is not a string is "key must be a string", a missing colon "expected `:`",
//! and anything but `,` or `}` after a member "expected `,` or `}`". Objects nest like
//! arrays and count against the same depth limit. The same key twice keeps the last value
//! (RFC 8259 leaves this to the implementation; serde_json does the same).
//!
//! `parse_key` reads a key and its `:` and returns the key's text. The typed deserializer
//! of stage 6 calls it for every member of every object, so a plain key must cost no
//! allocation: it is returned from the input, as stage 3 returns a plain string.
//!
//! That is where the borrow checker steps in. `parse_string` takes `&mut self` and returns a
//! `&str` whose lifetime is that of the `&mut self` borrow, because the text may be in the
//! scratch buffer: while the key is alive, the parser cannot be used.
//!
//! ```compile_fail,E0499
//! use json::s02_parser::Parser;
//! let mut parser = Parser::new(br#""a" "b""#);
//! let first = parser.parse_string()?;
//! parser.skip_whitespace(); // `first` still borrows `parser` mutably
//! let second = parser.parse_string()?;
//! assert_eq!((first, second), ("a", "b"));
//! # Ok::<(), json::Error>(())
//! ```
//!
//! Copying the first string ends the borrow, at the price of an allocation:
//!
//! ```
//! use json::s02_parser::Parser;
//! let mut parser = Parser::new(br#""a" "b""#);
//! let first = parser.parse_string()?.to_owned();
//! parser.skip_whitespace();
//! let second = parser.parse_string()?;
//! assert_eq!((first.as_str(), second), ("a", "b"));
//! # Ok::<(), json::Error>(())
//! ```
//!
//! `parse_key` must parse its `:` after the key and still return the key's text, without
//! that allocation.
//!
//! Afterwards you will understand what a method's signature says about how long its result
//! keeps `self` borrowed, and how to end a borrow early by returning a description of where
//! the data is instead of a reference to it.
//!
//! Read: Rust for Rustaceans, chapter 1 (borrows and lifetimes); The Rust Programming
//! Language, chapter 4.2 (references and borrowing); RFC 8259, section 4.

use crate::error::Result;
use crate::s01_value::{Map, Value};
use crate::s02_parser::Parser;

impl<'a> Parser<'a> {
    /// Parses an object at the current position (which must be at its `{`).
    pub fn parse_object(&mut self) -> Result<Value> {
        // TODO: the object, both braces consumed; every object level counts against the depth
        // limit, as arrays do
        todo!()
    }

    /// Parses an object key and the `:` after it, with whitespace before each.
    pub fn parse_key(&mut self) -> Result<&str> {
        // TODO: whitespace, a string ("key must be a string" otherwise), whitespace, a `:`
        // ("expected `:`"); return the key, without copying a key that has no escapes
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use crate::error::{Category, Error};
    use crate::s01_value::Value;
    use crate::s02_parser::{MAX_DEPTH, Parser, parse_slice, parse_str};

    fn int(n: i64) -> Value {
        Value::from(n)
    }

    fn parse_err(input: &[u8]) -> Error {
        match parse_slice(input) {
            Ok(v) => panic!(
                "{:?} is not JSON and must be rejected, but parsed as {v:?}",
                String::from_utf8_lossy(input)
            ),
            Err(e) => e,
        }
    }

    /// Inputs RFC 8259 allows, each with a description.
    const MUST_ACCEPT: &[(&str, &str)] = &[
        ("null", "a bare literal at the top level"),
        ("true", "true"),
        ("false", "false"),
        ("0", "zero"),
        ("-0", "negative zero"),
        ("42", "a bare number at the top level"),
        ("-1", "a negative integer"),
        ("1.5", "a fraction"),
        ("-0.0", "negative zero with a fraction"),
        ("1e5", "an exponent without a fraction"),
        ("1E5", "a capital E"),
        ("1e+5", "an exponent with +"),
        ("1e-5", "an exponent with -"),
        ("0.5e-0", "a zero exponent"),
        ("1e05", "leading zeros are allowed in the exponent"),
        (
            "123456789012345678901234567890",
            "an integer larger than u64",
        ),
        ("1e-400", "an underflowing number (rounds to 0)"),
        ("\"\"", "the empty string"),
        ("\"a\"", "a string at the top level"),
        ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "every short escape"),
        ("\"\\u0000\"", "an escaped NUL"),
        ("\"\\u00e9\\u00E9\"", "hex escapes in both cases"),
        ("\"\\ud83d\\ude00\"", "a surrogate pair"),
        ("\"\\uFFFF\"", "a noncharacter is still a character"),
        ("\"é😀\u{7f}\"", "raw non-ASCII and DEL"),
        ("\"\u{2028}\u{2029}\"", "line and paragraph separators"),
        ("[]", "an empty array"),
        ("{}", "an empty object"),
        ("[ ]", "an empty array with whitespace inside"),
        ("{ \t\r\n}", "an empty object with whitespace inside"),
        ("[[]]", "nested arrays"),
        ("[1,\"a\",null,true,{}]", "mixed elements"),
        ("{\"a\":1}", "a one-member object"),
        ("{\"\":0}", "an empty key"),
        ("{\"a\":1,\"a\":2}", "a duplicate key"),
        ("{\"a\":{\"b\":{\"c\":[]}}}", "nested objects"),
        (
            " \t\r\n[ \t\r\n1 \t\r\n, 2 ] \t\r\n",
            "all four whitespace characters everywhere",
        ),
        ("{ \"a\" : 1 , \"b\" : 2 }", "whitespace around : and ,"),
        ("[-1.0e-2]", "a full number in an array"),
        ("\"/\"", "an unescaped solidus"),
    ];

    /// Inputs RFC 8259 forbids, each with a description.
    const MUST_REJECT: &[(&[u8], &str)] = &[
        (b"", "empty input"),
        (b"   ", "only whitespace"),
        (b"nul", "a truncated literal"),
        (b"nulL", "a literal in the wrong case"),
        (b"True", "a capitalised literal"),
        (b"undefined", "JavaScript's undefined"),
        (b"NaN", "NaN"),
        (b"Infinity", "Infinity"),
        (b"-Infinity", "negative Infinity"),
        (b"01", "a leading zero"),
        (b"-01", "a leading zero after -"),
        (b"00", "two zeros"),
        (b"+1", "a plus sign"),
        (b".5", "a bare leading ."),
        (b"1.", "a bare trailing ."),
        (b"1.e5", "a . with no digits before the exponent"),
        (b"1e", "an exponent with no digits"),
        (b"1e+", "an exponent sign with no digits"),
        (b"-", "a lone minus"),
        (b"- 1", "a minus followed by a space"),
        (b"0x10", "hex"),
        (b"1_000", "digit separators"),
        (b"1e400", "a number too large for f64"),
        (b"-1e400", "a negative number too large for f64"),
        (
            b"1e4294967297",
            "an exponent past 32 bits (the number is still too large for f64)",
        ),
        (b"\"abc", "an unterminated string"),
        (b"'a'", "single quotes"),
        (b"\"\\x41\"", "an unknown escape"),
        (b"\"\\'\"", "an escaped single quote"),
        (b"\"\\u12\"", "a short hex escape"),
        (b"\"\\u12G4\"", "a bad hex digit"),
        (b"\"\\U0041\"", "a capital U escape"),
        (b"\"\\ud800\"", "a lone leading surrogate"),
        (b"\"\\ud800x\"", "a leading surrogate followed by text"),
        (
            b"\"\\ud800\\u0041\"",
            "a leading surrogate followed by a non-surrogate",
        ),
        (b"\"\\ud800\\ud800\"", "two leading surrogates"),
        (b"\"\\udc00\"", "a lone trailing surrogate"),
        (b"\"\\udc00\\ud800\"", "a pair in the wrong order"),
        (b"\"\t\"", "a raw tab in a string"),
        (b"\"\n\"", "a raw newline in a string"),
        (b"\"\x00\"", "a raw NUL in a string"),
        (b"\"\x1f\"", "a raw U+001F in a string"),
        (b"\"\xff\"", "a byte that is never UTF-8"),
        (b"\"\xc0\xaf\"", "an overlong UTF-8 encoding"),
        (b"\"\xed\xa0\x80\"", "a surrogate encoded in UTF-8"),
        (b"\"\xe6\x97\"", "a truncated UTF-8 sequence"),
        (
            b"\xef\xbb\xbf{}",
            "a byte-order mark (this parser does not skip one)",
        ),
        (b"[", "an unclosed array"),
        (b"[1", "an unclosed array after an element"),
        (b"[1,", "an unclosed array after a comma"),
        (b"[1,]", "a trailing comma in an array"),
        (b"[,1]", "a leading comma in an array"),
        (b"[1 2]", "a missing comma"),
        (b"[1,,2]", "two commas"),
        (b"]", "a lone closing bracket"),
        (b"[}", "mismatched brackets"),
        (b"{", "an unclosed object"),
        (b"{\"a\"", "a key with no colon"),
        (b"{\"a\":", "a key with no value"),
        (b"{\"a\":1,}", "a trailing comma in an object"),
        (b"{\"a\" 1}", "a missing colon"),
        (b"{\"a\"::1}", "two colons"),
        (b"{a:1}", "an unquoted key"),
        (b"{1:1}", "a number as a key"),
        (b"{null:1}", "null as a key"),
        (b"{\"a\":1 \"b\":2}", "a missing comma between members"),
        (b"[1] x", "trailing characters"),
        (b"1 2", "two values"),
        (b"{}{}", "two objects"),
        (b"[]]", "an extra closing bracket"),
        (b"[1]\x00", "a trailing NUL"),
        (b"\x0c1", "form feed is not JSON whitespace"),
        (b"\xc2\xa01", "no-break space is not JSON whitespace"),
        (b"/* c */ 1", "a comment"),
        (b"\xff", "a non-UTF-8 byte at the top level"),
    ];

    #[test]
    fn accepts_everything_rfc_8259_allows() {
        for (input, what) in MUST_ACCEPT {
            let result = std::panic::catch_unwind(|| parse_str(input)).unwrap_or_else(|_| {
                panic!("the parser panicked on {what} ({input:?}): it must parse it")
            });
            if let Err(e) = result {
                panic!("{what} must be accepted: {input:?} gave {e:?}");
            }
        }
    }

    #[test]
    fn rejects_everything_rfc_8259_forbids() {
        for (input, what) in MUST_REJECT {
            let result = std::panic::catch_unwind(|| parse_slice(input)).unwrap_or_else(|_| {
                panic!(
                    "the parser panicked on {what} ({:?}): bad input must give an error, never a panic",
                    String::from_utf8_lossy(input)
                )
            });
            assert!(
                result.is_err(),
                "{what} must be rejected: {:?} parsed as {result:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn objects_build_the_right_values() {
        assert_eq!(parse_str("{}").unwrap(), Value::Object(Default::default()));
        let v =
            parse_str(r#"{"name": "Ada", "tags": ["x"], "none": null, "n": {"a": 1}}"#).unwrap();
        assert_eq!(v.get("name").and_then(Value::as_str), Some("Ada"));
        assert_eq!(v.get("tags"), Some(&Value::Array(vec![Value::from("x")])));
        assert_eq!(v.get("none"), Some(&Value::Null));
        assert_eq!(v.get("n").and_then(|n| n.get("a")), Some(&int(1)));
    }

    #[test]
    fn strings_in_keys_and_values_are_unescaped_independently() {
        let v = parse_str(r#"{"k\u0041": "v\n", "plain": "x", "B": "\u00e9"}"#).unwrap();
        assert_eq!(
            v.get("kA").and_then(Value::as_str),
            Some("v\n"),
            "each string with escapes starts from an empty scratch buffer"
        );
        assert_eq!(v.get("plain").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get("B").and_then(Value::as_str), Some("é"));
    }

    #[test]
    fn a_duplicate_key_keeps_the_last_value() {
        let v = parse_str(r#"{"a": 1, "a": 2}"#).unwrap();
        assert_eq!(
            v.get("a"),
            Some(&int(2)),
            "RFC 8259 leaves duplicate keys open; this parser keeps the last value, as serde_json does"
        );
    }

    #[test]
    fn a_plain_key_borrows_from_the_input() {
        let input = br#" "key" : 1"#;
        let mut parser = Parser::new(input);
        let key = parser.parse_key().unwrap();
        assert_eq!(key, "key");
        assert!(
            input.as_ptr_range().contains(&key.as_ptr()),
            "a key without escapes must be returned from the input, not copied"
        );
        assert_eq!(
            parser.offset(),
            8,
            "parse_key consumes the `:` after the key"
        );
        let mut parser = Parser::new(br#""k\u0041"  :"#);
        assert_eq!(
            parser.parse_key().unwrap(),
            "kA",
            "a key with escapes is decoded"
        );
    }

    #[test]
    fn object_syntax_errors_say_what_was_expected() {
        for (input, message) in [
            (&br#"{"a" 1}"#[..], "expected `:`"),
            (br#"{"a"::1}"#, "expected value"),
            (br#"{1:1}"#, "key must be a string"),
            (br#"{"a":1,}"#, "key must be a string"),
            (br#"{"a":1 "b":2}"#, "expected `,` or `}`"),
            (br#"{"a":1]"#, "expected `,` or `}`"),
        ] {
            let e = parse_err(input);
            assert_eq!(
                e.message(),
                message,
                "{:?}: the error says what was expected",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn trailing_characters_are_an_error() {
        let e = parse_err(b"{} x");
        assert_eq!(e.category(), Category::Syntax);
        assert_eq!(e.message(), "trailing characters");
        assert_eq!((e.line(), e.column()), (1, 4));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = parse_err(b"{\n  \"a\": 1,\n  \"b\": tru\n}");
        assert_eq!(e.line(), 3, "the error is on the third line");
        assert_eq!(e.column(), 11, "at the byte that broke the literal");
        let e = parse_err(b"[1,\n\n  01]");
        assert_eq!((e.line(), e.column()), (3, 4), "the second digit of 01");
        let e = parse_err(b"[1 2]");
        assert_eq!((e.line(), e.column()), (1, 4));
        assert_eq!(e.message(), "expected `,` or `]`");
    }

    #[test]
    fn running_out_of_input_is_an_eof_error() {
        for input in [&b""[..], b"[", b"[1,", b"{\"a\":", b"\"abc", b"tr", b"  "] {
            let e = parse_err(input);
            assert_eq!(
                e.category(),
                Category::Eof,
                "{:?} ends in the middle of a value: an Eof error, got {e:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(parse_err(b"[1}").category(), Category::Syntax);
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_str(&ok).is_ok(), "{MAX_DEPTH} levels must parse");
        let objects = format!("{}1{}", "{\"a\":".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert!(parse_str(&objects).is_ok());
    }

    #[test]
    fn containers_side_by_side_do_not_add_up_to_the_limit() {
        let n = 2 * MAX_DEPTH;
        for item in ["[]", "{}", "[1]", "{\"a\":1}"] {
            let text = format!("[{}]", vec![item; n].join(","));
            if let Err(e) = parse_str(&text) {
                panic!(
                    "an array of {n} `{item}` is two levels deep, not {}: every `enter` needs its \
                     `leave`, on every path out of an array or object; got {e:?}",
                    n + 1
                );
            }
        }
    }

    #[test]
    fn nesting_past_the_limit_is_an_error() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = parse_err(deep.as_bytes());
        assert_eq!(e.message(), "recursion limit exceeded");
        assert_eq!(
            e.column(),
            MAX_DEPTH + 1,
            "at the bracket that went too deep"
        );
    }

    #[test]
    fn a_hundred_thousand_brackets_give_an_error_not_a_stack_overflow() {
        // Run on a thread with a small stack: unbounded recursion would abort the test
        // process, bounded recursion fits easily.
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let arrays = parse_slice("[".repeat(100_000).as_bytes()).map_err(|e| e.category());
                let objects =
                    parse_slice("{\"a\":".repeat(100_000).as_bytes()).map_err(|e| e.category());
                (arrays, objects)
            })
            .unwrap();
        let (arrays, objects) = handle
            .join()
            .expect("the parser must not overflow its stack");
        assert_eq!(arrays, Err(Category::Syntax));
        assert_eq!(objects, Err(Category::Syntax));
    }

    #[test]
    fn values_round_trip_through_the_writer() {
        let text = r#"{"a":[1,-2,3.5,"x\n",null,true],"b":{"c":{}},"d":"é😀"}"#;
        let v = parse_str(text).unwrap();
        assert_eq!(v.to_compact(), text);
        assert_eq!(parse_str(&v.to_pretty()).unwrap(), v);
    }
}
