//! # The parser: tokens, numbers and arrays
//!
//! Build a recursive-descent parser from JSON text to [`Value`]: [`parse_str`] for `&str`
//! and [`parse_slice`] for bytes. This stage writes [`Parser`]'s `parse_value`,
//! `parse_array` and `parse_number`; the next two stages add strings (`parse_string`) and
//! objects (`parse_object`), and the stages after those reuse all of them to read JSON
//! straight into Rust types. `parse_value` dispatches to every kind of value, so it calls
//! `parse_string` and `parse_object` already: their stubs wait in the next two files, and
//! this stage's tests stay clear of strings and objects.
//!
//! Follow RFC 8259 exactly. The grammar is small, and the traps are in the details:
//!
//! - whitespace is only space, tab, line feed and carriage return;
//! - a number is `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`: no leading zeros,
//!   no `+`, no bare `.` or `1.`, no hex, no `NaN`. Integers that fit become
//!   `PosInt`/`NegInt`; larger ones, and anything with a fraction or exponent, become
//!   `Float`, the `f64` nearest to the text; `-0` becomes `Float(-0.0)` (there is no
//!   negative integer zero); a number whose magnitude does not fit in an `f64` (`1e400`) is
//!   an error, "number out of range";
//! - an array is `[`, values separated by `,`, then `]`, with whitespace allowed between
//!   any two tokens; `[1,]` and `[,1]` are errors;
//! - after the value, only whitespace may follow: `[1] x` is an error, "trailing characters".
//!
//! Recursion has a price: each nested `[` costs a stack frame, and 100 000 of them overflow
//! the stack and abort the process. So the parser counts its depth and gives up with
//! "recursion limit exceeded" past [`MAX_DEPTH`] (128, as serde_json).
//!
//! Every error carries a 1-based line and column (columns count bytes). Computing them only
//! when an error happens keeps the happy path fast: the parser tracks a byte offset, and
//! [`Parser::error`] turns it into a line and column.
//!
//! Afterwards you will be able to turn a grammar into code, one function per rule, and to
//! say which inputs your parser accepts and why.
//!
//! Read: RFC 8259 (<https://www.rfc-editor.org/rfc/rfc8259>), sections 2 to 6; the
//! JSONTestSuite (<https://github.com/nst/JSONTestSuite>) and its write-up "Parsing JSON is a
//! Minefield" for what real parsers get wrong.

use crate::error::{Error, Result};
use crate::s01_value::{Number, Value};

/// How deep arrays and objects may nest.
pub const MAX_DEPTH: usize = 128;

/// A parser over JSON bytes. It keeps a position and a scratch buffer for strings with
/// escapes; it never copies the input.
pub struct Parser<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) pos: usize,
    /// How many arrays and objects enclose the current position.
    depth: usize,
    /// Unescaped string contents, reused between strings (stage 3).
    pub(crate) scratch: String,
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
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("expected value")),
            Some(b'n') => self.expect_literal(b"null").map(|()| Value::Null),
            Some(b't') => self.expect_literal(b"true").map(|()| Value::Bool(true)),
            Some(b'f') => self.expect_literal(b"false").map(|()| Value::Bool(false)),
            Some(b'"') => Ok(Value::String(self.parse_string()?.to_owned())),
            Some(b'-' | b'0'..=b'9') => self.parse_number().map(Value::Number),
            Some(b'[') => self.parse_array(),
            Some(b'{') => self.parse_object(),
            Some(_) => Err(self.error("expected value")),
        }
    }

    /// Parses an array at the current position (which must be at its `[`).
    pub fn parse_array(&mut self) -> Result<Value> {
        self.enter()?;
        self.bump();
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.bump();
        } else {
            loop {
                items.push(self.parse_value()?);
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.bump(),
                    Some(b']') => {
                        self.bump();
                        break;
                    }
                    _ => return Err(self.error("expected `,` or `]`")),
                }
            }
        }
        self.leave();
        Ok(Value::Array(items))
    }

    /// Parses a number at the current position.
    pub fn parse_number(&mut self) -> Result<Number> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.bump();
        }
        // All the significant digits, integer and fraction, accumulated exactly while they
        // fit in a u64 (`None` once they do not).
        let mut mantissa: Option<u64> = Some(0);
        match self.peek() {
            Some(b'0') => {
                self.bump();
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error("invalid number: leading zero"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits(&mut mantissa)?;
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut is_float = false;
        let mut fraction_digits = 0i32;
        if self.peek() == Some(b'.') {
            is_float = true;
            self.bump();
            fraction_digits = self.digits(&mut mantissa)?;
        }
        let mut exponent = 0i32;
        if let Some(b'e' | b'E') = self.peek() {
            is_float = true;
            self.bump();
            let negative_exponent = match self.peek() {
                Some(b'-') => {
                    self.bump();
                    true
                }
                Some(b'+') => {
                    self.bump();
                    false
                }
                _ => false,
            };
            let mut value = Some(0);
            self.digits(&mut value)?;
            // Saturate: an exponent this large is out of range (or underflows) anyway.
            let value = value.map_or(i32::MAX, |v| i32::try_from(v).unwrap_or(i32::MAX));
            exponent = if negative_exponent { -value } else { value };
        }
        if !is_float {
            match (negative, mantissa) {
                (false, Some(m)) => return Ok(Number::PosInt(m)),
                (true, Some(0)) => return Ok(Number::Float(-0.0)),
                (true, Some(m)) if m <= 1 << 63 => {
                    // -(2^63) is i64::MIN; 0 - m as i128 always fits.
                    return Ok(Number::NegInt((-i128::from(m)) as i64));
                }
                _ => {} // too large for 64 bits: a float
            }
        }
        // Clinger's fast path: a mantissa below 2^53 and a power of ten up to 10^22 are both
        // exact f64s, so one multiplication or division rounds correctly.
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        let scale = exponent.saturating_sub(fraction_digits);
        if let Some(m) = mantissa.filter(|&m| m < 1 << 53)
            && (-22..=22).contains(&scale)
        {
            let magnitude = if scale >= 0 {
                m as f64 * POW10[scale as usize]
            } else {
                m as f64 / POW10[(-scale) as usize]
            };
            return Ok(Number::Float(if negative { -magnitude } else { magnitude }));
        }
        // Otherwise the standard library's correctly rounded parser. The text is ASCII and
        // matches Rust's float grammar, which is a superset of JSON's.
        let text = std::str::from_utf8(&self.input[start..self.pos]).expect("ASCII digits");
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Number::Float(f)),
            _ => Err(self.error_at(start, "number out of range")),
        }
    }

    /// Consumes one or more decimal digits, accumulating them into `value` (which becomes
    /// `None` on overflow), and returns how many there were.
    fn digits(&mut self, value: &mut Option<u64>) -> Result<i32> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error("invalid number: expected a digit"));
        }
        let mut count = 0i32;
        while let Some(b @ b'0'..=b'9') = self.peek() {
            *value = value
                .and_then(|v| v.checked_mul(10))
                .and_then(|v| v.checked_add(u64::from(b - b'0')));
            count = count.saturating_add(1);
            self.bump();
        }
        Ok(count)
    }
}

/// Parses JSON text into a [`Value`].
pub fn parse_str(input: &str) -> Result<Value> {
    parse_slice(input.as_bytes())
}

/// Parses JSON bytes into a [`Value`]; bytes that are not UTF-8 are an error.
pub fn parse_slice(input: &[u8]) -> Result<Value> {
    let mut parser = Parser::new(input);
    let value = parser.parse_value()?;
    parser.end()?;
    Ok(value)
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

    /// Literals, numbers and arrays RFC 8259 allows, each with a description.
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
        ("[]", "an empty array"),
        ("[ ]", "an empty array with whitespace inside"),
        ("[[]]", "nested arrays"),
        ("[1,null,true,[]]", "mixed elements"),
        (
            " \t\r\n[ \t\r\n1 \t\r\n, 2 ] \t\r\n",
            "all four whitespace characters everywhere",
        ),
        ("[-1.0e-2]", "a full number in an array"),
    ];

    /// Literals, numbers and arrays RFC 8259 forbids, each with a description.
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
        (b"[", "an unclosed array"),
        (b"[1", "an unclosed array after an element"),
        (b"[1,", "an unclosed array after a comma"),
        (b"[1,]", "a trailing comma in an array"),
        (b"[,1]", "a leading comma in an array"),
        (b"[1 2]", "a missing comma"),
        (b"[1,,2]", "two commas"),
        (b"]", "a lone closing bracket"),
        (b"[}", "mismatched brackets"),
        (b"[1] x", "trailing characters"),
        (b"1 2", "two values"),
        (b"[][]", "two arrays"),
        (b"[]]", "an extra closing bracket"),
        (b"[1]\x00", "a trailing NUL"),
        (b"\x0c1", "form feed is not JSON whitespace"),
        (b"\xc2\xa01", "no-break space is not JSON whitespace"),
        (b"/* c */ 1", "a comment"),
        (b"\xff", "a non-UTF-8 byte at the top level"),
    ];

    #[test]
    fn accepts_the_literals_numbers_and_arrays_rfc_8259_allows() {
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
    fn rejects_the_literals_numbers_and_arrays_rfc_8259_forbids() {
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
    fn literals_and_arrays_build_the_right_values() {
        assert_eq!(parse_str("null").unwrap(), Value::Null);
        assert_eq!(parse_str(" true ").unwrap(), Value::Bool(true));
        assert_eq!(parse_str("false").unwrap(), Value::Bool(false));
        assert_eq!(
            parse_str("[1, [2], [], null]").unwrap(),
            Value::Array(vec![
                int(1),
                Value::Array(vec![int(2)]),
                Value::Array(vec![]),
                Value::Null
            ])
        );
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
    fn trailing_characters_are_an_error() {
        let e = parse_err(b"[] x");
        assert_eq!(e.category(), Category::Syntax);
        assert_eq!(e.message(), "trailing characters");
        assert_eq!((e.line(), e.column()), (1, 4));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = parse_err(b"[\n  1,\n  tru\n]");
        assert_eq!(e.line(), 3, "the error is on the third line");
        assert_eq!(e.column(), 6, "at the byte that broke the literal");
        let e = parse_err(b"[1,\n\n  01]");
        assert_eq!((e.line(), e.column()), (3, 4), "the second digit of 01");
        let e = parse_err(b"[1 2]");
        assert_eq!((e.line(), e.column()), (1, 4));
        assert_eq!(e.message(), "expected `,` or `]`");
        let e = parse_err(b"[1, 1e999]");
        assert_eq!(e.message(), "number out of range");
        assert_eq!(e.column(), 5, "at the start of the number");
    }

    #[test]
    fn running_out_of_input_is_an_eof_error() {
        for input in [
            &b""[..],
            b"[",
            b"[1,",
            b"[1",
            b"tr",
            b"  ",
            b"-",
            b"1.",
            b"1e-",
        ] {
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
    }

    #[test]
    fn arrays_side_by_side_do_not_add_up_to_the_limit() {
        let n = 2 * MAX_DEPTH;
        for item in ["[]", "[ ]", "[1]", "[[]]"] {
            let text = format!("[{}]", vec![item; n].join(","));
            if let Err(e) = parse_str(&text) {
                panic!(
                    "an array of {n} `{item}` is at most three levels deep, not {}: every `enter` \
                     needs its `leave`, on every path out of an array; got {e:?}",
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
            .spawn(|| parse_slice("[".repeat(100_000).as_bytes()).map_err(|e| e.category()))
            .unwrap();
        let arrays = handle
            .join()
            .expect("the parser must not overflow its stack");
        assert_eq!(arrays, Err(Category::Syntax));
    }
}
