//! # `#[derive(Serialize, Deserialize)]` for enums
//!
//! Teach the derive enums, in the externally tagged form of stage 5, as stage 7 wrote them
//! by hand for `Shape`: a unit variant is its name (`"Empty"`), a newtype variant an object
//! with one key (`{"Circle":1.5}`), a tuple variant with 2 to 6 fields an array under its key
//! (`{"Line":[1,2]}`), and a struct variant an object under its key (`{"Rect":{"w":1,"h":2}}`).
//!
//! `serialize_enum` returns the body of `serialize`: one `match` arm per variant. For
//! reading, `deserialize_enum` returns the helper types (the enum's visitor `__Visitor`, and
//! one visitor per struct variant, built with stage 8's `visitor` and `visit_named_fields`)
//! and the body of `deserialize`. The enum's visitor accepts a string (a unit variant; a
//! variant with data named as a string is "variant `Circle` of enum Shape needs a value")
//! and an object with exactly one key ("expected an object with exactly one key, the
//! variant"); any other name is `unknown_variant`. An enum with no variants cannot be read:
//! "json cannot derive Deserialize for an enum with no variants", at the `enum` keyword.
//! A variant's JSON name comes from `variant_key` (stage 10 lets `rename` change it).
//!
//! Afterwards you will be able to generate code from a sum type's shape, and you will see why
//! serde's enum handling is the largest part of its derive.
//!
//! Read: serde, "Enum representations" (<https://serde.rs/enum-representations.html>); the
//! proc-macro-workshop's `derive(CustomDebug)` and `sorted` projects (matching over
//! variants); the syn documentation for `DataEnum` and `Variant`.

// The stub leaves imports and parameters unused that the finished code needs.
#![allow(unused_imports, unused_variables, dead_code)]

use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::{DataEnum, Fields, Generics, Ident};

use super::s08_derive::{named_fields, tuple_fields, visit_named_fields, visitor};
use super::s10_derive_attrs::variant_key;

/// The body of `serialize` for an enum: one `match` arm per variant.
pub(crate) fn serialize_enum(name: &Ident, data: &DataEnum) -> syn::Result<TokenStream2> {
    // TODO: the body of `serialize` for this enum: one `match` arm per variant, externally
    // tagged as the header shows. Until then the body panics when called.
    Ok(quote!(::core::todo!("#[derive(Serialize)] for an enum")))
}

/// The enum's visitor (`__Visitor`) and one visitor per struct variant, and the body of
/// `deserialize`.
pub(crate) fn deserialize_enum(
    name: &Ident,
    data: &DataEnum,
    generics: &Generics,
    value: &TokenStream2,
) -> syn::Result<(TokenStream2, TokenStream2)> {
    // TODO: the helper types (`__Visitor` for the enum, one visitor per struct variant) and
    // the body of `deserialize` that uses them; an enum with no variants is an error. Until
    // then: no helpers, and a body that panics when called.
    Ok((
        TokenStream2::new(),
        quote!(::core::todo!("#[derive(Deserialize)] for an enum")),
    ))
}

#[cfg(test)]
mod tests {
    // The tests of this stage are in the json crate, in `src/s09_derive_enums.rs`.
}
