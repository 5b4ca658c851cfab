//! # Errors done properly
//!
//! Until now the crate's [`Error`] could only be inspected with `category()`, `message()`,
//! `line()` and `column()`. Make it a good citizen of the ecosystem:
//!
//! - `Display`: the message, then the position when there is one, in the form serde_json
//!   uses: `expected value at line 3 column 11`. An error without a position (line 0) is its
//!   message alone. Lowercase, no trailing period: errors get wrapped in other messages.
//! - `std::error::Error`, with `source()` returning the `io::Error` behind an I/O error (and
//!   `None` otherwise), so that error reporters can walk the chain.
//! - `From<io::Error>`, so that `?` converts I/O failures inside this crate's functions.
//! - [`Error::custom`], the constructor that user impls call when a value is wrong in a way
//!   only they can tell (`Error::custom(format_args!("{n} is odd"))`); it makes a data error,
//!   and `from_json` gives it the position of the value like any other data error.
//! - [`to_writer`] and [`from_reader`], the `io::Write` and `io::Read` versions of `to_json`
//!   and `from_json`, whose I/O failures come back as errors of category `Io`.
//!
//! One error type with a category is a deliberate design: callers match on
//! [`Category`] when they care (retry on `Io`, report `Syntax` and `Data` to the user, wait
//! for more input on `Eof`), and otherwise pass the error up with `?`, into a
//! `Box<dyn std::error::Error>` or an `anyhow::Error`, which both need `Display`, `Debug`,
//! `Send`, `Sync` and `'static`, all of which `Error` has.
//!
//! Afterwards you will know what a library error type owes its users, and why the fields
//! sit behind a `Box` (see `error.rs`).
//!
//! Read: Rust for Rustaceans, chapter 4 (error handling: enumerated vs opaque errors,
//! `source`, `Send + Sync`); Programming Rust, chapter 7 (errors); the `std::error::Error`
//! documentation.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use crate::error::{Category, Error, Result};
use crate::s05_serialize::{Serialize, to_json};
use crate::s06_deserialize::{Deserialize, from_slice};

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line() == 0 {
            f.write_str(self.message())
        } else {
            write!(
                f,
                "{} at line {} column {}",
                self.message(),
                self.line(),
                self.column()
            )
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.io_error().map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Error::io(error)
    }
}

impl Error {
    /// A data error with a message of the caller's choosing, for `Deserialize` and
    /// `Serialize` impls written by users of the crate.
    pub fn custom(message: impl fmt::Display) -> Self {
        Error::data(message.to_string())
    }

    /// Whether the input ended too soon: more input might make it valid.
    pub fn is_eof(&self) -> bool {
        self.category() == Category::Eof
    }
}

/// Writes `value` as compact JSON to `writer`.
pub fn to_writer<W: io::Write, T: Serialize + ?Sized>(mut writer: W, value: &T) -> Result<()> {
    let text = to_json(value)?;
    writer.write_all(text.as_bytes())?;
    Ok(())
}

/// Reads all of `reader` and deserializes one `T` from it.
pub fn from_reader<R: io::Read, T: Deserialize>(mut reader: R) -> Result<T> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    from_slice(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s01_value::Value;
    use crate::s06_deserialize::{Deserializer, Visitor, from_json};

    #[test]
    fn display_shows_the_message_and_the_position() {
        let e = from_json::<Value>("{\n  \"a\": 1,\n  \"b\": tru\n}").unwrap_err();
        assert_eq!(e.to_string(), "expected value at line 3 column 11");
        let e = from_json::<u8>("[]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid type: sequence, expected u8 at line 1 column 2"
        );
    }

    #[test]
    fn display_of_an_error_without_a_position_is_the_message() {
        assert_eq!(Error::custom("boom").to_string(), "boom");
        assert_eq!(Error::missing_field("id").to_string(), "missing field `id`");
    }

    #[test]
    fn custom_makes_a_data_error_from_anything_displayable() {
        let e = Error::custom(format_args!("{} is odd", 3));
        assert_eq!(e.category(), Category::Data);
        assert_eq!(e.message(), "3 is odd");
        assert_eq!(e.line(), 0);
    }

    /// A user type that validates its value with `Error::custom`.
    #[derive(Debug, PartialEq)]
    struct Even(u32);

    impl Deserialize for Even {
        fn deserialize<D: Deserializer>(deserializer: D) -> Result<Self> {
            struct EvenVisitor;
            impl Visitor for EvenVisitor {
                type Value = Even;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an even number")
                }
                fn visit_u64(self, v: u64) -> Result<Even> {
                    match u32::try_from(v) {
                        Ok(n) if n % 2 == 0 => Ok(Even(n)),
                        _ => Err(Error::custom(format_args!("{v} is not an even u32"))),
                    }
                }
            }
            deserializer.deserialize_any(EvenVisitor)
        }
    }

    #[test]
    fn custom_errors_from_user_impls_get_a_position() {
        assert_eq!(
            from_json::<Vec<Even>>("[2, 4]").unwrap(),
            vec![Even(2), Even(4)]
        );
        let e = from_json::<Vec<Even>>("[2,\n 3]").unwrap_err();
        assert_eq!(e.category(), Category::Data);
        assert_eq!(e.to_string(), "3 is not an even u32 at line 2 column 3");
    }

    #[test]
    fn io_errors_convert_and_keep_their_source() {
        let io = io::Error::new(io::ErrorKind::BrokenPipe, "pipe closed");
        let e = Error::from(io);
        assert_eq!(
            e.category(),
            Category::Io,
            "an io::Error converts into an error of category Io"
        );
        let source = e
            .source()
            .expect("an I/O error has its io::Error as source");
        assert_eq!(source.to_string(), "pipe closed");
        assert!(source.downcast_ref::<io::Error>().is_some());
        assert!(
            Error::custom("x").source().is_none(),
            "only I/O errors have a source"
        );
    }

    #[test]
    fn the_error_fits_in_a_box_dyn_error() {
        fn run() -> std::result::Result<u8, Box<dyn StdError + Send + Sync>> {
            let n: u8 = from_json("300")?;
            Ok(n)
        }
        let e = run().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value: integer `300`, expected u8 at line 1 column 4"
        );
        assert!(e.downcast_ref::<Error>().is_some());
    }

    #[test]
    fn is_eof_tells_incomplete_input_from_bad_input() {
        assert!(from_json::<Value>("[1, 2").unwrap_err().is_eof());
        assert!(!from_json::<Value>("[1, x]").unwrap_err().is_eof());
    }

    #[test]
    fn to_writer_writes_compact_json() {
        let mut out = Vec::new();
        to_writer(&mut out, &vec![Some(1), None]).unwrap();
        assert_eq!(out, b"[1,null]");
    }

    /// A writer that always fails, as a full disk or a closed socket does.
    struct Broken;

    impl io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
        }
    }

    #[test]
    fn write_failures_are_io_errors() {
        let e = to_writer(Broken, &1).unwrap_err();
        assert_eq!(e.category(), Category::Io);
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(
            e.io_error().map(io::Error::kind),
            Some(io::ErrorKind::StorageFull)
        );
    }

    /// A writer and reader that moves at most 3 bytes per call, as pipes and sockets may.
    struct Trickle {
        bytes: Vec<u8>,
        read: usize,
    }

    impl io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(3);
            self.bytes.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let rest = &self.bytes[self.read..];
            let n = buf.len().min(3).min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.read += n;
            Ok(n)
        }
    }

    #[test]
    fn to_writer_writes_every_byte_to_a_writer_that_takes_a_few_at_a_time() {
        let mut trickle = Trickle {
            bytes: Vec::new(),
            read: 0,
        };
        to_writer(&mut trickle, &vec!["abc", "def"]).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&trickle.bytes),
            r#"["abc","def"]"#,
            "io::Write::write may take only part of the buffer: all of the JSON must be written"
        );
    }

    #[test]
    fn from_reader_reads_a_reader_that_gives_a_few_bytes_at_a_time() {
        let trickle = Trickle {
            bytes: br#"{"k": [1, 2, 3], "s": "text"}"#.to_vec(),
            read: 0,
        };
        let v = from_reader::<_, Value>(trickle)
            .expect("a reader may deliver the input in pieces: read until it reports the end");
        assert_eq!(v.get("s").and_then(Value::as_str), Some("text"));
    }

    #[test]
    fn from_reader_reports_invalid_utf8_as_a_syntax_error_at_its_position() {
        let e = from_reader::<_, String>(&b"\"ab\xff\""[..]).unwrap_err();
        assert_eq!(
            (e.category(), e.line(), e.column()),
            (Category::Syntax, 1, 4),
            "bytes that are not UTF-8 are a syntax error at the bad byte, as from_slice reports \
             them, not an I/O error: {e:?}"
        );
    }

    #[test]
    fn from_reader_reads_a_whole_value() {
        let v: Vec<String> = from_reader(&b" [\"a\", \"\\u00e9\"] "[..]).unwrap();
        assert_eq!(v, vec!["a".to_string(), "é".to_string()]);
        let e = from_reader::<_, Vec<u8>>(io::Cursor::new("[1,\n2,]")).unwrap_err();
        assert_eq!(e.category(), Category::Syntax);
        assert_eq!(e.to_string(), "expected value at line 2 column 3");
    }

    #[test]
    fn read_failures_are_io_errors() {
        let e = from_reader::<_, Value>(Broken).unwrap_err();
        assert_eq!(e.category(), Category::Io);
        assert_eq!(e.source().unwrap().to_string(), "reset");
    }

    #[test]
    fn writer_and_reader_round_trip() {
        let value: Value = from_json(r#"{"k": [1, 2.5, "s", null]}"#).unwrap();
        let mut buf = Vec::new();
        to_writer(&mut buf, &value).unwrap();
        assert_eq!(from_reader::<_, Value>(buf.as_slice()).unwrap(), value);
    }
}
