//! # The parser
//!
//! Build a recursive-descent parser from JSON text to [`Value`]: [`parse_str`] for `&str`
//! and [`parse_slice`] for bytes. Most of the work is in [`Parser`]'s methods
//! `parse_value`, `parse_string` and `parse_number`; the stages after this one reuse them to
//! read JSON straight into Rust types.
//!
//! Follow RFC 8259 exactly. The grammar is small, and the traps are in the details:
//!
//! - whitespace is only space, tab, line feed and carriage return;
//! - a number is `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`: no leading zeros,
//!   no `+`, no bare `.` or `1.`, no hex, no `NaN`. Integers that fit become
//!   `PosInt`/`NegInt`; larger ones, and anything with a fraction or exponent, become
//!   `Float`; `-0` becomes `Float(-0.0)` (there is no negative integer zero); a number whose
//!   magnitude does not fit in an `f64` (`1e400`) is an error, "number out of range";
//! - a string may not contain raw control characters (below U+0020); its escapes are
//!   `\" \\ \/ \b \f \n \r \t \uXXXX`; a `\uXXXX` in D800–DBFF must be followed by a
//!   `\uXXXX` in DC00–DFFF, and the two combine into one character; any other surrogate is an
//!   error (Rust's `char` cannot hold one);
//! - the bytes must be valid UTF-8 (`parse_slice` can be handed anything);
//! - after the value, only whitespace may follow: `[1] x` is an error, "trailing characters".
//!
//! Recursion has a price: each nested `[` costs a stack frame, and 100 000 of them overflow
//! the stack and abort the process. So the parser counts its depth and gives up with
//! "recursion limit exceeded" past [`MAX_DEPTH`] (128, as serde_json). Objects with the same
//! key twice keep the last value (RFC 8259 leaves this to the implementation).
//!
//! Every error carries a 1-based line and column (columns count bytes). Computing them only
//! when an error happens keeps the happy path fast: the parser tracks a byte offset, and
//! [`Parser::error`] turns it into a line and column.
//!
//! Afterwards you will be able to turn a grammar into code, one function per rule, and to
//! say which inputs your parser accepts and why.
//!
//! Read: RFC 8259 (<https://www.rfc-editor.org/rfc/rfc8259>), sections 2 to 8; the
//! JSONTestSuite (<https://github.com/nst/JSONTestSuite>) and its write-up "Parsing JSON is a
//! Minefield" for what real parsers get wrong.

use crate::error::{Error, Result};
use crate::s01_value::{Map, Number, Value};

/// How deep arrays and objects may nest.
pub const MAX_DEPTH: usize = 128;

/// A parser over JSON bytes. It keeps a position and a scratch buffer for strings with
/// escapes; it never copies the input.
pub struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    /// How many arrays and objects enclose the current position.
    depth: usize,
    /// Unescaped string contents, reused between strings.
    scratch: String,
}

// Given: the small helpers the parsing methods are built from.
impl<'a> Parser<'a> {
    /// A parser at the start of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Parser {
            input,
            pos: 0,
            depth: 0,
            scratch: String::new(),
        }
    }

    /// The next byte, if any, without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// The byte offset of the next byte.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Consumes one byte.
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    /// Skips JSON whitespace (space, tab, line feed, carriage return).
    pub fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The 1-based line and column (in bytes) of the byte at `pos`.
    pub fn line_column(&self, pos: usize) -> (usize, usize) {
        let before = &self.input[..pos.min(self.input.len())];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        (line, before.len() - line_start + 1)
    }

    /// A syntax error at the current position, or an end-of-input error if the input has
    /// run out.
    pub fn error(&self, message: &str) -> Error {
        let (line, column) = self.line_column(self.pos);
        if self.pos >= self.input.len() {
            Error::eof(line, column)
        } else {
            Error::syntax(message, line, column)
        }
    }

    /// A syntax error at byte `pos`, even at the end of input.
    pub fn error_at(&self, pos: usize, message: &str) -> Error {
        let (line, column) = self.line_column(pos);
        Error::syntax(message, line, column)
    }

    /// Consumes `literal` (such as `b"true"`) or fails.
    pub fn expect_literal(&mut self, literal: &[u8]) -> Result<()> {
        for &b in literal {
            match self.peek() {
                Some(c) if c == b => self.bump(),
                _ => return Err(self.error("expected value")),
            }
        }
        Ok(())
    }

    /// Counts one more level of nesting; fails past [`MAX_DEPTH`].
    pub fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        Ok(())
    }

    /// Leaves one level of nesting.
    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Skips trailing whitespace and fails unless the input is used up.
    pub fn end(&mut self) -> Result<()> {
        self.skip_whitespace();
        if self.pos < self.input.len() {
            return Err(self.error("trailing characters"));
        }
        Ok(())
    }
}

impl<'a> Parser<'a> {
    /// Parses one value, with any whitespace before it.
    pub fn parse_value(&mut self) -> Result<Value> {
        // TODO: a literal, a string, a number, an array or an object, whichever comes next;
        // every array and object level counts against the depth limit (`enter`/`leave`);
        // anything else is "expected value"
        todo!()
    }

    /// Parses an object key and the `:` after it, with whitespace before each.
    pub fn parse_key(&mut self) -> Result<&str> {
        // TODO: whitespace, a string ("key must be a string" otherwise), whitespace, a `:`
        // ("expected `:`"); return the key
        todo!()
    }

    /// Parses a string at the current position (which must be at its opening `"`).
    ///
    /// The result borrows from the input when the string has no escapes, and from the
    /// parser's scratch buffer otherwise, so a plain string costs no allocation.
    pub fn parse_string(&mut self) -> Result<&str> {
        // TODO: the string's text, both quotes consumed: escapes decoded (surrogate pairs
        // combine, lone surrogates fail), raw control characters and invalid UTF-8 rejected.
        // No allocation for a string without escapes (see the doc comment)
        todo!()
    }

    /// Parses a number at the current position.
    pub fn parse_number(&mut self) -> Result<Number> {
        // TODO: exactly the grammar in the header; integers that fit become `PosInt`/`NegInt`,
        // `-0` and everything else a `Float`; a float too large to be finite is "number out of
        // range"
        todo!()
    }
}

/// Parses JSON text into a [`Value`].
pub fn parse_str(input: &str) -> Result<Value> {
    // TODO: parse the bytes
    todo!()
}

/// Parses JSON bytes into a [`Value`]; bytes that are not UTF-8 are an error.
pub fn parse_slice(input: &[u8]) -> Result<Value> {
    // TODO: one value, and nothing after it but whitespace
    todo!()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Category;

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
    fn literals_and_containers_build_the_right_values() {
        assert_eq!(parse_str("null").unwrap(), Value::Null);
        assert_eq!(parse_str(" true ").unwrap(), Value::Bool(true));
        assert_eq!(parse_str("false").unwrap(), Value::Bool(false));
        assert_eq!(
            parse_str("[1, [2], []]").unwrap(),
            Value::Array(vec![
                int(1),
                Value::Array(vec![int(2)]),
                Value::Array(vec![])
            ])
        );
        let v = parse_str(r#"{"name": "Ada", "tags": ["x"], "none": null}"#).unwrap();
        assert_eq!(v.get("name").and_then(Value::as_str), Some("Ada"));
        assert_eq!(v.get("tags"), Some(&Value::Array(vec![Value::from("x")])));
        assert_eq!(v.get("none"), Some(&Value::Null));
    }

    #[test]
    fn integers_stay_exact_and_floats_are_floats() {
        let n = |s: &str| match parse_str(s).unwrap() {
            Value::Number(n) => n,
            other => panic!("{s} must parse as a number, got {other:?}"),
        };
        assert_eq!(n("0"), Number::PosInt(0));
        assert_eq!(n("18446744073709551615"), Number::PosInt(u64::MAX));
        assert_eq!(
            n("-9223372036854775808"),
            Number::NegInt(i64::MIN),
            "i64::MIN fits in an i64 (its magnitude is 2^63, one more than i64::MAX): it must be NegInt"
        );
        assert_eq!(n("-42"), Number::NegInt(-42));
        assert_eq!(n("1.5"), Number::Float(1.5));
        assert_eq!(n("1e2"), Number::Float(100.0), "an exponent makes a float");
        assert_eq!(n("2.0"), Number::Float(2.0), "a fraction makes a float");
        assert_eq!(
            n("18446744073709551616"),
            Number::Float(18446744073709551616.0),
            "u64::MAX + 1 no longer fits: it becomes a float"
        );
        assert_eq!(
            n("-9223372036854775809"),
            Number::Float(-9223372036854775809.0),
            "i64::MIN - 1 becomes a float"
        );
        match n("-0") {
            Number::Float(f) => assert!(f == 0.0 && f.is_sign_negative(), "-0 keeps its sign"),
            other => panic!("-0 must be Float(-0.0), got {other:?}"),
        }
        assert_eq!(n("0.1"), Number::Float(0.1), "parsing must round correctly");
        assert_eq!(n("1e-400"), Number::Float(0.0));
    }

    #[test]
    fn floats_round_correctly() {
        for text in [
            "0.3",
            "123.456e-7",
            "1e22",
            "1e23",
            "9007199254740993.0",
            "4.35e15",
            "-7.0e-10",
            "2.2250738585072014e-308",
            "1.7976931348623157e308",
            "0.000001234567890123456789",
            "3.141592653589793238462643383279",
        ] {
            let expected: f64 = text.parse().unwrap();
            assert_eq!(
                parse_str(text).unwrap(),
                Value::Number(Number::Float(expected)),
                "{text} must parse to the nearest f64"
            );
        }
    }

    #[test]
    fn escapes_are_decoded() {
        let s = |src: &str| parse_str(src).unwrap().as_str().unwrap().to_owned();
        assert_eq!(s(r#""a\"b\\c\/d""#), "a\"b\\c/d");
        assert_eq!(s(r#""\b\f\n\r\t""#), "\u{8}\u{c}\n\r\t");
        assert_eq!(s(r#""\u0041\u00e9\u4e2d""#), "Aé中");
        assert_eq!(s(r#""x\u0000y""#), "x\0y");
        assert_eq!(s(r#""plain""#), "plain");
        assert_eq!(s(r#""\n""#), "\n", "a string that is only an escape");
        assert_eq!(
            s(r#""ab\ncd\tef""#),
            "ab\ncd\tef",
            "text between escapes is kept"
        );
    }

    #[test]
    fn surrogate_pairs_combine_into_one_character() {
        let v = parse_str(r#""\ud83d\ude00 \uD834\uDD1E""#).unwrap();
        assert_eq!(v.as_str(), Some("😀 𝄞"));
        assert_eq!(v.as_str().unwrap().chars().count(), 3);
    }

    #[test]
    fn lone_surrogates_are_errors_with_a_clear_message() {
        let e = parse_err(br#""\ud800""#);
        assert_eq!(e.category(), Category::Syntax);
        assert!(
            e.message().contains("surrogate"),
            "say what is wrong: {:?}",
            e.message()
        );
        assert!(parse_err(br#""\udfff""#).message().contains("surrogate"));
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
    fn invalid_utf8_is_rejected_in_strings() {
        let e = parse_err(b"[\"ok\", \"bad \xff\"]");
        assert_eq!(e.category(), Category::Syntax);
        assert!(e.message().contains("UTF-8"), "got {:?}", e.message());
        assert_eq!(
            (e.line(), e.column()),
            (1, 13),
            "the column is that of the first bad byte"
        );
        assert_eq!(
            parse_slice("\"日本\"".as_bytes()).unwrap().as_str(),
            Some("日本")
        );
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
