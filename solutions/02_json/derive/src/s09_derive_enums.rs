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

use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::{DataEnum, Fields, Generics, Ident};

use super::s08_derive::{named_fields, tuple_fields, visit_named_fields, visitor};
use super::s10_derive_attrs::variant_key;

/// The body of `serialize` for an enum: one `match` arm per variant.
pub(crate) fn serialize_enum(name: &Ident, data: &DataEnum) -> syn::Result<TokenStream2> {
    let name_str = name.to_string();
    let mut arms = Vec::new();
    for variant in &data.variants {
        let v = &variant.ident;
        let key = variant_key(variant)?;
        arms.push(match &variant.fields {
            Fields::Unit => quote! {
                #name::#v => ::json::Serializer::serialize_unit_variant(__s, #name_str, #key),
            },
            Fields::Unnamed(fields) => {
                let n = tuple_fields(fields)?.len();
                let binds: Vec<_> = (0..n).map(|i| format_ident!("__f{}", i)).collect();
                if n == 1 {
                    quote! {
                        #name::#v(__f0) => ::json::Serializer::serialize_newtype_variant(
                            __s, #name_str, #key, __f0),
                    }
                } else {
                    quote! {
                        #name::#v(#(#binds),*) => {
                            let mut __tv = ::json::Serializer::serialize_tuple_variant(
                                __s, #name_str, #key, #n)?;
                            #(::json::s05_serialize::SerializeSeq::serialize_element(&mut __tv, #binds)?;)*
                            ::json::s05_serialize::SerializeSeq::end(__tv)
                        }
                    }
                }
            }
            Fields::Named(fields) => {
                let fields = named_fields(fields)?;
                let written: Vec<_> = fields.iter().filter(|f| !f.attrs.skip).collect();
                let len = written.len();
                let keys = written.iter().map(|f| &f.key);
                let idents: Vec<_> = written.iter().map(|f| f.ident).collect();
                quote! {
                    #name::#v { #(#idents,)* .. } => {
                        let mut __sv = ::json::Serializer::serialize_struct_variant(
                            __s, #name_str, #key, #len)?;
                        #(::json::s05_serialize::SerializeStruct::serialize_field(
                            &mut __sv, #keys, #idents)?;)*
                        ::json::s05_serialize::SerializeStruct::end(__sv)
                    }
                }
            }
        });
    }
    Ok(quote! {
        match self {
            #(#arms)*
        }
    })
}

/// The enum's visitor (`__Visitor`) and one visitor per struct variant, and the body of
/// `deserialize`.
pub(crate) fn deserialize_enum(
    name: &Ident,
    data: &DataEnum,
    generics: &Generics,
    value: &TokenStream2,
) -> syn::Result<(TokenStream2, TokenStream2)> {
    if data.variants.is_empty() {
        return Err(syn::Error::new(
            data.enum_token.span,
            "json cannot derive Deserialize for an enum with no variants",
        ));
    }
    let mut helpers = TokenStream2::new();
    let mut all_keys = Vec::new();
    let mut unit_arms = Vec::new();
    let mut data_keys = Vec::new();
    let mut map_arms = Vec::new();
    for variant in &data.variants {
        let v = &variant.ident;
        let key = variant_key(variant)?;
        all_keys.push(key.clone());
        match &variant.fields {
            Fields::Unit => {
                unit_arms.push(quote!(#key => ::core::result::Result::Ok(#name::#v),));
                map_arms.push(quote! {
                    #key => {
                        ::json::s06_deserialize::MapAccess::next_value::<()>(&mut __map)?;
                        #name::#v
                    }
                });
            }
            Fields::Unnamed(fields) => {
                let types = tuple_fields(fields)?;
                data_keys.push(key.clone());
                if types.len() == 1 {
                    map_arms.push(quote! {
                        #key => #name::#v(::json::s06_deserialize::MapAccess::next_value(&mut __map)?),
                    });
                } else {
                    let binds: Vec<_> = (0..types.len())
                        .map(|i| format_ident!("__f{}", i))
                        .collect();
                    map_arms.push(quote! {
                        #key => {
                            let (#(#binds,)*): (#(#types,)*) =
                                ::json::s06_deserialize::MapAccess::next_value(&mut __map)?;
                            #name::#v(#(#binds),*)
                        }
                    });
                }
            }
            Fields::Named(fields) => {
                let fields = named_fields(fields)?;
                data_keys.push(key.clone());
                let variant_visitor = format_ident!("__Visitor_{}", v);
                let visit = visit_named_fields(&fields, quote!(#name::#v));
                helpers.extend(visitor(
                    &variant_visitor,
                    generics,
                    value,
                    &format!("struct variant {name}::{v}"),
                    quote! {
                        fn visit_map<__A: ::json::s06_deserialize::MapAccess>(
                            self, mut __map: __A) -> ::json::Result<Self::Value> {
                            #visit
                        }
                    },
                ));
                map_arms.push(quote! {
                    #key => ::json::s06_deserialize::MapAccess::next_value_with(
                        &mut __map, #variant_visitor(::core::marker::PhantomData))?,
                });
            }
        }
    }
    let needs_value = format!("of enum {name} needs a value");
    let data_arm = if data_keys.is_empty() {
        TokenStream2::new()
    } else {
        quote! {
            #(#data_keys)|* => ::core::result::Result::Err(::json::Error::data(
                ::std::format!("variant `{}` {}", __v, #needs_value))),
        }
    };
    helpers.extend(visitor(
        &format_ident!("__Visitor"),
        generics,
        value,
        &format!("enum {name}"),
        quote! {
            fn visit_str(self, __v: &str) -> ::json::Result<Self::Value> {
                const __VARIANTS: &[&str] = &[#(#all_keys),*];
                match __v {
                    #(#unit_arms)*
                    #data_arm
                    __other => ::core::result::Result::Err(
                        ::json::Error::unknown_variant(__other, __VARIANTS)),
                }
            }

            fn visit_map<__A: ::json::s06_deserialize::MapAccess>(
                self, mut __map: __A) -> ::json::Result<Self::Value> {
                const __VARIANTS: &[&str] = &[#(#all_keys),*];
                let __one_key = || ::json::Error::data(
                    "expected an object with exactly one key, the variant");
                let __value = match ::json::s06_deserialize::MapAccess::next_key(&mut __map)? {
                    ::core::option::Option::None => return ::core::result::Result::Err(__one_key()),
                    ::core::option::Option::Some(__key) => match __key {
                        #(#map_arms)*
                        __other => return ::core::result::Result::Err(
                            ::json::Error::unknown_variant(__other, __VARIANTS)),
                    },
                };
                if ::json::s06_deserialize::MapAccess::next_key(&mut __map)?.is_some() {
                    return ::core::result::Result::Err(__one_key());
                }
                ::core::result::Result::Ok(__value)
            }
        },
    ));
    let body = quote!(::json::Deserializer::deserialize_any(
        __d,
        __Visitor(::core::marker::PhantomData)
    ));
    Ok((helpers, body))
}

#[cfg(test)]
mod tests {
    // The tests of this stage are in the json crate, in `src/s09_derive_enums.rs`.
}
