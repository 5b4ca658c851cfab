//! # `#[derive(Serialize, Deserialize)]`
//!
//! Write the derive macros that generate the impls you wrote by hand in stage 7. This file
//! is the proc-macro crate `json_derive`; its tests are in the `json` crate, in
//! `src/s08_derive.rs`, because a derive can only be tested by a crate that uses it.
//!
//! A derive macro is a function from tokens to tokens: `syn` parses the item into a
//! `DeriveInput` (name, generics, and the fields or variants), and `quote!` builds the impl.
//! Support:
//!
//! - structs with named fields (an object), newtype structs `struct Meters(f64)` (the inner
//!   value, transparently), tuple structs with 2 to 6 fields (an array, through the tuple
//!   impls of stages 3 and 4), and unit structs (`null`);
//! - enums with unit, newtype, tuple and struct variants, externally tagged as in stage 7;
//! - generic types: add the bound `T: ::json::Serialize` (or `Deserialize`) to every *type
//!   parameter*, not to the field types (as serde does). Generated visitors are generic too;
//! - the field attributes `#[json(rename = "...")]`, `#[json(skip)]` (not written, not read,
//!   filled with `Default::default()`) and `#[json(default)]` (`Default::default()` when
//!   absent), and `#[json(rename = "...")]` on variants.
//!
//! Everything else is a compile error with a clear message at the right span: a union
//! ("json cannot derive for a union"), an unknown attribute, an attribute on a tuple field,
//! a tuple with more than 6 fields. Return a `syn::Error` and turn it into tokens with
//! `into_compile_error`; never panic in a macro.
//!
//! Generated code must be hygienic in practice: name everything by absolute path
//! (`::json::Serializer`), prefix local names with `__`, and put helper types (the visitors)
//! inside a `const _: () = { ... };` block so that two derives in one module do not clash.
//!
//! Afterwards you will be able to write a derive macro that handles generics and attributes,
//! and you will know how much of serde is generated code.
//!
//! Read: dtolnay's proc-macro-workshop (<https://github.com/dtolnay/proc-macro-workshop>),
//! the `derive(Builder)` and `derive(CustomDebug)` projects (bounds on type parameters);
//! the syn documentation for `DeriveInput` and `Attribute::parse_nested_meta`; Programming
//! Rust, chapter 21 (macros).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{DeriveInput, parse_macro_input};

/// `#[derive(Serialize)]`.
#[proc_macro_derive(Serialize, attributes(json))]
pub fn derive_serialize(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_serialize(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `#[derive(Deserialize)]`.
#[proc_macro_derive(Deserialize, attributes(json))]
pub fn derive_deserialize(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_deserialize(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand_serialize(input: &DeriveInput) -> syn::Result<TokenStream2> {
    // TODO: generate `impl ::json::Serialize for Type` as the header says: every shape of
    // struct and enum, a bound on every type parameter, the `#[json(...)]` attributes, and a
    // `syn::Error` for what is not supported. Until then this placeholder
    // impl compiles and panics when called, so the json crate builds and this stage's tests
    // fail.
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

fn expand_deserialize(input: &DeriveInput) -> syn::Result<TokenStream2> {
    // TODO: generate `impl ::json::Deserialize for Type` and the visitors it needs, as stage
    // 5 wrote them by hand, without adding a name to the user's module. Until then this
    // placeholder impl compiles and panics when called.
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

#[cfg(test)]
mod tests {
    // The tests of this stage are in the json crate, in `src/s08_derive.rs`: a derive macro
    // is tested by deriving with it.
}
