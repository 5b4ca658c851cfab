//! The one error type of the crate, shared by every stage.
//!
//! It is given: the stages build errors with these constructors and read them with these
//! accessors. Stage 11 (`s11_errors`) gives it `Display`, `std::error::Error`, `From<io::Error>`
//! and the `custom` constructor. Until then, tests look at `category()`, `message()`, `line()`
//! and `column()`, never at `to_string()`.

use std::io;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// The input is not JSON (RFC 8259): a stray character, a bad escape, a leading zero.
    Syntax,
    /// The input is JSON, but not the JSON the target type wants: `"x"` for a `u32`.
    Data,
    /// The input stopped in the middle of a value.
    Eof,
    /// Reading or writing failed.
    Io,
}

/// A JSON error: its category, a message, and where it happened.
///
/// The fields live behind one `Box`, so that `Result<T, Error>` stays one pointer wide
/// on the success path: parsers return a `Result` from every small step.
#[derive(Debug)]
pub struct Error {
    inner: Box<ErrorImpl>,
}

#[derive(Debug)]
struct ErrorImpl {
    category: Category,
    message: String,
    /// 1-based; 0 when the position is not known (an error raised outside a parser).
    line: usize,
    /// 1-based, counted in bytes from the start of the line; 0 when not known.
    column: usize,
    source: Option<io::Error>,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn new(category: Category, message: String, line: usize, column: usize) -> Self {
        Error {
            inner: Box::new(ErrorImpl {
                category,
                message,
                line,
                column,
                source: None,
            }),
        }
    }

    /// A syntax error at a known position.
    pub fn syntax(message: impl Into<String>, line: usize, column: usize) -> Self {
        Self::new(Category::Syntax, message.into(), line, column)
    }

    /// The input ended in the middle of a value.
    pub fn eof(line: usize, column: usize) -> Self {
        Self::new(
            Category::Eof,
            "EOF while parsing a value".into(),
            line,
            column,
        )
    }

    /// A data error (wrong type, value out of range, missing field). The position is filled
    /// in later by the parser that was reading when it happened (see [`Error::fix_position`]).
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(Category::Data, message.into(), 0, 0)
    }

    /// An I/O error, kept as the `source` of this one.
    pub fn io(error: io::Error) -> Self {
        let mut e = Self::new(Category::Io, error.to_string(), 0, 0);
        e.inner.source = Some(error);
        e
    }

    /// Gives an error without a position the position `(line, column)`.
    pub fn fix_position(mut self, line: usize, column: usize) -> Self {
        if self.inner.line == 0 {
            self.inner.line = line;
            self.inner.column = column;
        }
        self
    }

    /// What kind of error this is.
    pub fn category(&self) -> Category {
        self.inner.category
    }

    /// The message, without the position.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The 1-based line, or 0 if unknown.
    pub fn line(&self) -> usize {
        self.inner.line
    }

    /// The 1-based column in bytes, or 0 if unknown.
    pub fn column(&self) -> usize {
        self.inner.column
    }

    /// The I/O error behind this one, if it is an I/O error.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.inner.source.as_ref()
    }
}
