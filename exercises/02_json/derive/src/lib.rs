//! `#[derive(Serialize, Deserialize)]` for the json crate.
//!
//! This proc-macro crate is written in three stages, one file each: `s08_derive.rs`
//! (structs), `s09_derive_enums.rs` (enums) and `s10_derive_attrs.rs` (the `#[json(...)]`
//! attributes). Each file's header says what to build. A stage's tests are in the json
//! crate's module of the same name (`src/s08_derive.rs`, ...), because a derive can only be
//! tested by a crate that uses it; the json crate's tests also compile these three files as
//! ordinary modules (`src/derive_expand.rs`), to check the errors they return.
//!
//! This file is given: it parses the item, hands it to the stage code, and turns an error
//! into a `compile_error!` at the error's span. A derive never panics on bad input.

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

mod s08_derive;
mod s09_derive_enums;
mod s10_derive_attrs;

/// `#[derive(Serialize)]`.
#[proc_macro_derive(Serialize, attributes(json))]
pub fn derive_serialize(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    s08_derive::expand_serialize(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `#[derive(Deserialize)]`.
#[proc_macro_derive(Deserialize, attributes(json))]
pub fn derive_deserialize(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    s08_derive::expand_deserialize(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
