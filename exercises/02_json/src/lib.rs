//! A JSON parser and serializer with a serde-like data model and its own derive.
//!
//! Each `sNN_*` module is one stage of the project; `error` is shared by all of them.

// The stubs name parameters, imports and helpers that only the finished code uses.
#![allow(unused_variables, unused_imports, unused_mut, dead_code)]

// The derive macros name this crate `::json`; this makes that path work inside the crate too.
extern crate self as json;

pub mod error;

pub mod s01_value;
pub mod s02_parser;
pub mod s03_strings;
pub mod s04_objects;
pub mod s05_serialize;
pub mod s06_deserialize;
pub mod s07_by_hand;
pub mod s08_derive;
pub mod s09_derive_enums;
pub mod s10_derive_attrs;
pub mod s11_errors;

#[cfg(test)]
mod derive_expand;

pub use error::{Category, Error, Result};
pub use json_derive::{Deserialize, Serialize};
pub use s01_value::{Map, Number, Value};
pub use s02_parser::{parse_slice, parse_str};
pub use s05_serialize::{Serialize, Serializer, to_json, to_json_pretty};
pub use s06_deserialize::{Deserialize, Deserializer, Visitor, from_json, from_slice};

pub use s11_errors::{from_reader, to_writer};
