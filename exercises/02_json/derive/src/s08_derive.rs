//! # `#[derive(Serialize, Deserialize)]` for structs
//!
//! Write the derive macros that generate the impls you wrote by hand in stage 7, starting
//! with structs. The derive is the proc-macro crate `json_derive` in `derive/`: its `lib.rs`
//! (given) parses the item into a `syn::DeriveInput`, calls `expand_serialize` or
//! `expand_deserialize` of this file, and turns a `syn::Error` into a `compile_error!`. The
//! next stages add enums (`s09_derive_enums.rs`) and the `#[json(...)]` attributes
//! (`s10_derive_attrs.rs`). The tests are in the json crate, in `src/s08_derive.rs`: a
//! derive is tested by deriving with it, and its errors by calling these functions on a
//! parsed item, as the compiler would show them (message and position).
//!
//! Support every shape of struct, as stage 7 wrote them:
//!
//! - named fields: an object, one member per field;
//! - a newtype struct `struct Meters(f64)`: the inner value, transparently;
//! - a tuple struct with 2 to 6 fields: an array, through the tuple impls of stages 5 and 6;
//! - a unit struct: `null`.
//!
//! A generic struct gets the bound `T: ::json::Serialize` (or `Deserialize`) on every *type
//! parameter*, not on the field types, as serde does; the generated visitor is generic too.
//! Each named field comes as a `NamedField` (given): its JSON key and its attributes, which
//! stage 10 fills in; until then the key is the field's name.
//!
//! What the derive cannot do is a compile error with a clear message at the right place,
//! never a panic: a union is "json cannot derive for a union" at the `union` keyword; a tuple
//! struct with no field or more than 6 is "json supports tuple structs and variants with 1
//! to 6 fields" at its fields. Enums go to `serialize_enum` and `deserialize_enum` of the
//! next file, which give a body that panics until stage 9.
//!
//! Generated code must be hygienic in practice: name everything by absolute path
//! (`::json::Serializer`), prefix local names with `__`, and put helper types (the visitors)
//! inside a `const _: () = { ... };` block so that two derives in one module do not clash.
//!
//! Afterwards you will be able to turn a syntax tree into code with `syn` and `quote!`,
//! including generics, and you will know how much of serde is generated code.
//!
//! Read: dtolnay's proc-macro-workshop (<https://github.com/dtolnay/proc-macro-workshop>),
//! the `derive(Builder)` project's first steps and `derive(CustomDebug)` (bounds on type
//! parameters); the syn documentation for `DeriveInput`, `Generics::split_for_impl` and
//! `syn::Error`; Programming Rust, chapter 21 (macros).

// The stub leaves imports and parameters unused that the finished code needs.
#![allow(unused_imports, unused_variables, dead_code)]

use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, FieldsNamed, GenericParam, Generics, Ident, parse_quote};

use super::s09_derive_enums::{deserialize_enum, serialize_enum};
use super::s10_derive_attrs::{FieldAttrs, check_container, parse_attrs};

/// `impl ::json::Serialize` for `input`.
pub fn expand_serialize(input: &DeriveInput) -> syn::Result<TokenStream2> {
    // TODO: `impl ::json::Serialize` for every shape of struct, as the header says (an enum's
    // body comes from `serialize_enum`), with a bound on every type parameter; a union is an
    // error. Until then this placeholder impl compiles and panics when called, so that the
    // json crate builds and this stage's tests fail.
    Ok(placeholder(
        input,
        quote!(::json::Serialize),
        quote! {
            fn serialize<__S: ::json::Serializer>(&self, __s: __S) -> ::json::Result<__S::Ok> {
                ::core::todo!("#[derive(Serialize)]")
            }
        },
    ))
}

/// `impl ::json::Deserialize` for `input`, and the visitors it needs.
pub fn expand_deserialize(input: &DeriveInput) -> syn::Result<TokenStream2> {
    // TODO: `impl ::json::Deserialize` and the visitors it needs, as stage 7 wrote them by
    // hand, without adding a name to the user's module (an enum's come from
    // `deserialize_enum`). Until then this placeholder impl compiles and panics when called.
    Ok(placeholder(
        input,
        quote!(::json::Deserialize),
        quote! {
            fn deserialize<__D: ::json::Deserializer>(__d: __D) -> ::json::Result<Self> {
                ::core::todo!("#[derive(Deserialize)]")
            }
        },
    ))
}

/// An impl of `trait_path` for the input type, with `items` as its body and no bounds
/// added. Replace it: it exists so that the json crate compiles before the derive is written.
fn placeholder(input: &DeriveInput, trait_path: TokenStream2, items: TokenStream2) -> TokenStream2 {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics #trait_path for #name #ty_generics #where_clause {
            #items
        }
    }
}

/// One named field, as the generated code needs it.
pub(crate) struct NamedField<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a syn::Type,
    /// The JSON key.
    pub(crate) key: String,
    pub(crate) attrs: FieldAttrs,
}

/// The named fields of a struct or struct variant, with their keys and attributes.
pub(crate) fn named_fields(fields: &FieldsNamed) -> syn::Result<Vec<NamedField<'_>>> {
    fields
        .named
        .iter()
        .map(|f| {
            let attrs = parse_attrs(&f.attrs, &["rename", "skip", "default"], "fields")?;
            let ident = f.ident.as_ref().expect("named fields have names");
            Ok(NamedField {
                ident,
                ty: &f.ty,
                key: attrs.rename.clone().unwrap_or_else(|| ident.to_string()),
                attrs,
            })
        })
        .collect()
}

/// Checks that a tuple has 1 to 6 fields and no attributes, and returns its field types.
pub(crate) fn tuple_fields(fields: &syn::FieldsUnnamed) -> syn::Result<Vec<&syn::Type>> {
    // TODO: the field types of a tuple struct or variant, or the error the header gives for
    // fewer than 1 or more than 6 fields, at the fields
    todo!()
}

/// `generics` with `bound` added to every type parameter.
pub(crate) fn with_bound(generics: &Generics, bound: TokenStream2) -> Generics {
    // TODO: a copy of `generics` in which every type parameter also has `bound`
    todo!()
}

/// The body of a `visit_map` that reads `fields` and builds them with `construct` (a path
/// such as `Config` or `Shape::Rect`).
pub(crate) fn visit_named_fields(
    fields: &[NamedField<'_>],
    construct: TokenStream2,
) -> TokenStream2 {
    // TODO: the body of a `visit_map` that reads `fields` (each key at most once, no other
    // key; an absent field is for `missing_field` to judge) and builds `construct { .. }`
    todo!()
}

/// A visitor type named `visitor` with `generics`, whose `Value` is `value`, whose
/// `expecting` writes `expecting`, and whose methods are `methods`.
pub(crate) fn visitor(
    visitor: &Ident,
    generics: &Generics,
    value: &TokenStream2,
    expecting: &str,
    methods: TokenStream2,
) -> TokenStream2 {
    // TODO: the visitor type and its `Visitor` impl, generic over `generics` without holding
    // a value of them
    todo!()
}

#[cfg(test)]
mod tests {
    // The tests of this stage are in the json crate, in `src/s08_derive.rs`: a derive macro
    // is tested by deriving with it.
}
