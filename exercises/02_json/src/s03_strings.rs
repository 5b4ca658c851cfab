//! # Strings: escapes, surrogates and UTF-8
//!
//! Teach the parser strings. `parse_string` starts at the opening `"` and returns the
//! string's text with both quotes consumed. The rules are RFC 8259's, section 7:
//!
//! - a string may not contain raw control characters (below U+0020), before an escape or
//!   after one;
//! - its escapes are `\" \\ \/ \b \f \n \r \t \uXXXX`, and nothing else (`\x41`, `\'`,
//!   `\U0041` are errors); `\u` takes exactly four hex digits, in either case, and no sign;
//! - a `\uXXXX` in D800–DBFF (a leading surrogate) must be followed by a `\uXXXX` in
//!   DC00–DFFF (a trailing surrogate), and the two combine into one character beyond
//!   U+FFFF: `"\ud83d\ude00"` is one emoji. Any other surrogate, alone or out of order, is
//!   an error whose message says "surrogate": Rust's `char` cannot hold one;
//! - the bytes must be valid UTF-8 (`parse_slice` can be handed anything), and an invalid
//!   byte is reported at its own column.
//!
//! Most strings have no escapes, and their text is already in the input, so copying it would
//! be waste: `parse_string` returns such a string from the input. A string with escapes has
//! to be decoded somewhere: into the parser's `scratch` buffer, emptied and reused from one
//! string to the next, and `parse_string` returns the text from there.
//!
//! Afterwards you will understand what a Rust `&str` guarantees and what JSON's `\u` escapes
//! encode (UTF-16 code units), and how to return borrowed data when you can and owned data
//! only when you must.
//!
//! Read: RFC 8259 (<https://www.rfc-editor.org/rfc/rfc8259>), sections 7 and 8; the
//! standard library's `std::str::from_utf8` and `Utf8Error::valid_up_to`; The Rust
//! Programming Language, chapter 8.2 (strings and UTF-8).

use crate::error::Result;
use crate::s02_parser::Parser;

impl<'a> Parser<'a> {
    /// Parses a string at the current position (which must be at its opening `"`).
    ///
    /// The result borrows from the input when the string has no escapes, and from the
    /// parser's scratch buffer otherwise, so a plain string costs no allocation.
    pub fn parse_string(&mut self) -> Result<&str> {
        // TODO: the string's text, both quotes consumed: escapes decoded, raw control characters
        // and invalid UTF-8 rejected; a string without escapes is not copied (see the header)
        todo!()
    }

    /// `input[start..end]` as text, or an error at the first byte that is not UTF-8.
    fn utf8(&self, start: usize, end: usize) -> Result<&'a str> {
        // TODO: the bytes as a `&str` that borrows the input, or an error at the first byte that
        // is not UTF-8
        todo!()
    }

    /// Parses the escape after a `\` (already consumed) and returns its character.
    fn parse_escape(&mut self) -> Result<char> {
        // TODO: the character the escape stands for, the escape consumed: surrogate pairs
        // combine, lone surrogates fail
        todo!()
    }

    /// Parses four hex digits.
    fn parse_hex4(&mut self) -> Result<u32> {
        // TODO: the four hex digits' value, the digits consumed
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Category, Error};
    use crate::s01_value::Value;
    use crate::s02_parser::{parse_slice, parse_str};

    fn parse_err(input: &[u8]) -> Error {
        match parse_slice(input) {
            Ok(v) => panic!(
                "{:?} is not JSON and must be rejected, but parsed as {v:?}",
                String::from_utf8_lossy(input)
            ),
            Err(e) => e,
        }
    }

    /// Strings RFC 8259 allows, each with a description.
    const MUST_ACCEPT: &[(&str, &str)] = &[
        ("\"\"", "the empty string"),
        ("\"a\"", "a string at the top level"),
        ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "every short escape"),
        ("\"\\u0000\"", "an escaped NUL"),
        ("\"\\u00e9\\u00E9\"", "hex escapes in both cases"),
        ("\"\\ud83d\\ude00\"", "a surrogate pair"),
        ("\"\\uFFFF\"", "a noncharacter is still a character"),
        ("\"é😀\u{7f}\"", "raw non-ASCII and DEL"),
        ("\"\u{2028}\u{2029}\"", "line and paragraph separators"),
        ("\"/\"", "an unescaped solidus"),
        ("[\"a\", \"b\\n\", \"\"]", "strings in an array"),
    ];

    /// Strings RFC 8259 forbids, each with a description.
    const MUST_REJECT: &[(&[u8], &str)] = &[
        (b"\"abc", "an unterminated string"),
        (b"'a'", "single quotes"),
        (b"\"\\x41\"", "an unknown escape"),
        (b"\"\\'\"", "an escaped single quote"),
        (b"\"\\u12\"", "a short hex escape"),
        (b"\"\\u12G4\"", "a bad hex digit"),
        (b"\"\\u+041\"", "a plus sign in a hex escape"),
        (b"\"\\u-041\"", "a minus sign in a hex escape"),
        (b"\"\\u 041\"", "a space in a hex escape"),
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
        (b"\"\\n\t\"", "a raw tab after an escape"),
        (b"\"a\\u0041\x01b\"", "a raw U+0001 after a hex escape"),
        (b"\"\n\"", "a raw newline in a string"),
        (b"\"\x00\"", "a raw NUL in a string"),
        (b"\"\x1f\"", "a raw U+001F in a string"),
        (b"\"\xff\"", "a byte that is never UTF-8"),
        (b"\"\xc0\xaf\"", "an overlong UTF-8 encoding"),
        (b"\"\xed\xa0\x80\"", "a surrogate encoded in UTF-8"),
        (b"\"\xe6\x97\"", "a truncated UTF-8 sequence"),
        (b"\"a\" \"b\"", "two strings"),
    ];

    /// Parses every case and describes each wrong verdict (including a panic), so that one
    /// run lists them all.
    fn wrong_verdicts(cases: &[(&[u8], &str)], must_accept: bool) -> Vec<String> {
        let mut wrong = Vec::new();
        for &(input, what) in cases {
            let shown = format!("{:?}", String::from_utf8_lossy(input));
            match std::panic::catch_unwind(|| parse_slice(input)) {
                Err(_) => wrong.push(format!(
                    "{what} ({shown}): the parser panicked; it must return a value or an error, never panic"
                )),
                Ok(Err(e)) if must_accept => {
                    wrong.push(format!("{what} must be accepted: {shown} gave {e:?}"))
                }
                Ok(Ok(v)) if !must_accept => {
                    wrong.push(format!("{what} must be rejected: {shown} parsed as {v:?}"))
                }
                Ok(_) => {}
            }
        }
        wrong
    }

    #[test]
    fn accepts_the_strings_rfc_8259_allows() {
        let cases: Vec<(&[u8], &str)> = MUST_ACCEPT
            .iter()
            .map(|&(input, what)| (input.as_bytes(), what))
            .collect();
        let wrong = wrong_verdicts(&cases, true);
        assert!(
            wrong.is_empty(),
            "{} of {} valid strings went wrong:\n{}",
            wrong.len(),
            cases.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn rejects_the_strings_rfc_8259_forbids() {
        let wrong = wrong_verdicts(MUST_REJECT, false);
        assert!(
            wrong.is_empty(),
            "{} of {} invalid strings went wrong:\n{}",
            wrong.len(),
            MUST_REJECT.len(),
            wrong.join("\n")
        );
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
        for (text, expected) in [
            (r#""\ud800\udc00""#, '\u{10000}'),
            (r#""\ud840\udc00""#, '\u{20000}'),
            (r#""\udbff\udfff""#, '\u{10FFFF}'),
        ] {
            assert_eq!(
                parse_str(text)
                    .unwrap()
                    .as_str()
                    .and_then(|s| s.chars().next()),
                Some(expected),
                "{text} is U+{:X}: the character is 0x10000 + ((leading - 0xD800) << 10) + \
                 (trailing - 0xDC00), in every plane, not only the first",
                u32::from(expected)
            );
        }
    }

    #[test]
    fn lone_surrogates_are_errors_with_a_clear_message() {
        for input in [
            &br#""\ud800""#[..],
            br#""\udfff""#,
            br#""\udc00""#,
            br#""\ud800\u0041""#,
            br#""\ud800\ud800""#,
        ] {
            let e = parse_err(input);
            assert_eq!(e.category(), Category::Syntax);
            assert!(
                e.message().contains("surrogate"),
                "{:?}: say what is wrong, got {:?}",
                String::from_utf8_lossy(input),
                e.message()
            );
        }
    }

    #[test]
    fn surrogate_errors_point_into_the_escapes_at_fault() {
        // (input, the escapes at fault as 1-based columns, what is wrong)
        let cases: [(&[u8], std::ops::RangeInclusive<usize>, &str); 4] = [
            (br#""\ud800""#, 2..=7, "a lone leading surrogate"),
            (br#""\udc00""#, 2..=7, "a lone trailing surrogate"),
            (
                br#""\ud800\u0041""#,
                2..=13,
                "a leading surrogate followed by a non-surrogate",
            ),
            (br#"  "ab\ud800\ud800""#, 6..=17, "two leading surrogates"),
        ];
        for (input, escapes, what) in cases {
            let e = parse_err(input);
            assert!(
                escapes.contains(&e.column()),
                "{:?} ({what}): the error must point into the escapes at fault, columns \
                 {escapes:?}, got column {}",
                String::from_utf8_lossy(input),
                e.column()
            );
        }
    }

    #[test]
    fn strings_side_by_side_are_unescaped_independently() {
        let v = parse_str(r#"["k\u0041", "v\n", "plain", "\u00e9"]"#).unwrap();
        let texts: Vec<&str> = match &v {
            Value::Array(items) => items.iter().map(|s| s.as_str().unwrap()).collect(),
            other => panic!("an array of strings, got {other:?}"),
        };
        assert_eq!(
            texts,
            ["kA", "v\n", "plain", "é"],
            "each string with escapes starts from an empty scratch buffer"
        );
    }

    #[test]
    fn a_string_without_escapes_borrows_from_the_input() {
        let input = br#""plain" "esc\n""#;
        let mut parser = Parser::new(input);
        let plain = parser.parse_string().unwrap();
        assert_eq!(plain, "plain");
        assert!(
            input.as_ptr_range().contains(&plain.as_ptr()),
            "a string without escapes must be returned from the input, not copied"
        );
        parser.skip_whitespace();
        let escaped = parser.parse_string().unwrap();
        assert_eq!(escaped, "esc\n");
        let escaped = escaped.as_ptr();
        assert_eq!(
            escaped,
            parser.scratch.as_ptr(),
            "a string with escapes is decoded into the parser's scratch buffer, from its start"
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
        let e = parse_err(b"\"a\\n\xe6\x97\"");
        assert_eq!(
            e.column(),
            5,
            "after an escape too, the column is that of the first bad byte"
        );
        assert_eq!(
            parse_slice("\"日本\"".as_bytes()).unwrap().as_str(),
            Some("日本")
        );
    }

    #[test]
    fn errors_in_strings_carry_line_and_column() {
        let e = parse_err(b"[\"a\",\n \"b\\x\"]");
        assert_eq!(
            (e.line(), e.column()),
            (2, 5),
            "at the letter after the backslash"
        );
        let e = parse_err(b"\"\\u12G4\"");
        assert_eq!(e.column(), 6, "at the bad hex digit");
    }

    #[test]
    fn running_out_of_input_in_a_string_is_an_eof_error() {
        for input in [&b"\"abc"[..], b"\"ab\\", b"\"\\u12", b"\"\\ud83d\\u"] {
            let e = parse_err(input);
            assert_eq!(
                e.category(),
                Category::Eof,
                "{:?} ends in the middle of a string: an Eof error, got {e:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
