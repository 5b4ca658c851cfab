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

use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, FieldsNamed, GenericParam, Generics, Ident, parse_quote};

use super::s09_derive_enums::{deserialize_enum, serialize_enum};
use super::s10_derive_attrs::{FieldAttrs, check_container, parse_attrs};

/// `impl ::json::Serialize` for `input`.
pub fn expand_serialize(input: &DeriveInput) -> syn::Result<TokenStream2> {
    check_container(input)?;
    let name = &input.ident;
    let name_str = name.to_string();
    let body = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => {
                let fields = named_fields(fields)?;
                let written: Vec<_> = fields.iter().filter(|f| !f.attrs.skip).collect();
                let len = written.len();
                let keys = written.iter().map(|f| &f.key);
                let idents = written.iter().map(|f| f.ident);
                quote! {
                    let mut __st = ::json::Serializer::serialize_struct(__s, #name_str, #len)?;
                    #(::json::s05_serialize::SerializeStruct::serialize_field(
                        &mut __st, #keys, &self.#idents)?;)*
                    ::json::s05_serialize::SerializeStruct::end(__st)
                }
            }
            Fields::Unnamed(fields) => {
                let n = tuple_fields(fields)?.len();
                if n == 1 {
                    quote!(::json::Serialize::serialize(&self.0, __s))
                } else {
                    let index = (0..n).map(syn::Index::from);
                    quote! {
                        let mut __seq = ::json::Serializer::serialize_seq(__s, ::core::option::Option::Some(#n))?;
                        #(::json::s05_serialize::SerializeSeq::serialize_element(&mut __seq, &self.#index)?;)*
                        ::json::s05_serialize::SerializeSeq::end(__seq)
                    }
                }
            }
            Fields::Unit => quote!(::json::Serializer::serialize_unit(__s)),
        },
        Data::Enum(data) => serialize_enum(name, data)?,
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                "json cannot derive for a union",
            ));
        }
    };
    let generics = with_bound(&input.generics, quote!(::json::Serialize));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::json::Serialize for #name #ty_generics #where_clause {
            fn serialize<__S: ::json::Serializer>(&self, __s: __S) -> ::json::Result<__S::Ok> {
                #body
            }
        }
    })
}

/// `impl ::json::Deserialize` for `input`, and the visitors it needs.
pub fn expand_deserialize(input: &DeriveInput) -> syn::Result<TokenStream2> {
    check_container(input)?;
    let name = &input.ident;
    let generics = with_bound(&input.generics, quote!(::json::Deserialize));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let value = quote!(#name #ty_generics);
    let main = format_ident!("__Visitor");
    let mut helpers = TokenStream2::new();
    let body = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => {
                let fields = named_fields(fields)?;
                let visit = visit_named_fields(&fields, quote!(#name));
                helpers.extend(visitor(
                    &main,
                    &generics,
                    &value,
                    &format!("struct {name}"),
                    quote! {
                        fn visit_map<__A: ::json::s06_deserialize::MapAccess>(
                            self, mut __map: __A) -> ::json::Result<Self::Value> {
                            #visit
                        }
                    },
                ));
                quote!(::json::Deserializer::deserialize_any(__d, #main(::core::marker::PhantomData)))
            }
            Fields::Unnamed(fields) => {
                let types = tuple_fields(fields)?;
                if types.len() == 1 {
                    quote!(::core::result::Result::map(::json::Deserialize::deserialize(__d), #name))
                } else {
                    let binds: Vec<_> = (0..types.len())
                        .map(|i| format_ident!("__f{}", i))
                        .collect();
                    quote! {
                        let (#(#binds,)*): (#(#types,)*) = ::json::Deserialize::deserialize(__d)?;
                        ::core::result::Result::Ok(#name(#(#binds),*))
                    }
                }
            }
            Fields::Unit => quote! {
                <() as ::json::Deserialize>::deserialize(__d)?;
                ::core::result::Result::Ok(#name)
            },
        },
        Data::Enum(data) => {
            let (enum_helpers, body) = deserialize_enum(name, data, &generics, &value)?;
            helpers.extend(enum_helpers);
            body
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                "json cannot derive for a union",
            ));
        }
    };
    Ok(quote! {
        const _: () = {
            #helpers

            impl #impl_generics ::json::Deserialize for #name #ty_generics #where_clause {
                fn deserialize<__D: ::json::Deserializer>(__d: __D) -> ::json::Result<Self> {
                    #body
                }
            }
        };
    })
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
    for f in &fields.unnamed {
        parse_attrs(&f.attrs, &[], "tuple fields")?;
    }
    if fields.unnamed.is_empty() || fields.unnamed.len() > 6 {
        return Err(syn::Error::new(
            fields.span(),
            "json supports tuple structs and variants with 1 to 6 fields",
        ));
    }
    Ok(fields.unnamed.iter().map(|f| &f.ty).collect())
}

/// `generics` with `bound` added to every type parameter.
pub(crate) fn with_bound(generics: &Generics, bound: TokenStream2) -> Generics {
    let mut generics = generics.clone();
    for param in &mut generics.params {
        if let GenericParam::Type(t) = param {
            t.bounds.push(parse_quote!(#bound));
        }
    }
    generics
}

/// The body of a `visit_map` that reads `fields` and builds them with `construct` (a path
/// such as `Config` or `Shape::Rect`).
pub(crate) fn visit_named_fields(
    fields: &[NamedField<'_>],
    construct: TokenStream2,
) -> TokenStream2 {
    let read: Vec<_> = fields.iter().filter(|f| !f.attrs.skip).collect();
    let keys: Vec<_> = read.iter().map(|f| &f.key).collect();
    let slots: Vec<_> = read
        .iter()
        .map(|f| format_ident!("__field_{}", f.ident))
        .collect();
    let types = read.iter().map(|f| f.ty);
    let inits = fields.iter().map(|f| {
        let ident = f.ident;
        let slot = format_ident!("__field_{}", f.ident);
        let key = &f.key;
        if f.attrs.skip {
            quote!(#ident: ::core::default::Default::default())
        } else if f.attrs.default {
            quote!(#ident: #slot.unwrap_or_default())
        } else {
            quote! {
                #ident: match #slot {
                    ::core::option::Option::Some(__v) => __v,
                    ::core::option::Option::None => ::json::s06_deserialize::missing_field(#key)?,
                }
            }
        }
    });
    quote! {
        const __FIELDS: &[&str] = &[#(#keys),*];
        #(let mut #slots: ::core::option::Option<#types> = ::core::option::Option::None;)*
        while let ::core::option::Option::Some(__key) =
            ::json::s06_deserialize::MapAccess::next_key(&mut __map)?
        {
            match __key {
                #(#keys => {
                    if #slots.is_some() {
                        return ::core::result::Result::Err(::json::Error::duplicate_field(#keys));
                    }
                    #slots = ::core::option::Option::Some(
                        ::json::s06_deserialize::MapAccess::next_value(&mut __map)?);
                })*
                __other => {
                    return ::core::result::Result::Err(::json::Error::unknown_field(__other, __FIELDS));
                }
            }
        }
        ::core::result::Result::Ok(#construct { #(#inits),* })
    }
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
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #[allow(non_camel_case_types)]
        struct #visitor #impl_generics (::core::marker::PhantomData<fn() -> #value>) #where_clause;

        impl #impl_generics ::json::Visitor for #visitor #ty_generics #where_clause {
            type Value = #value;

            fn expecting(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __f.write_str(#expecting)
            }

            #methods
        }
    }
}

#[cfg(test)]
mod tests {
    // The tests of this stage are in the json crate, in `src/s08_derive.rs`: a derive macro
    // is tested by deriving with it.
}
