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
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DataEnum, DeriveInput, Fields, FieldsNamed, GenericParam, Generics, Ident,
    LitStr, parse_macro_input, parse_quote,
};

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

/// What `#[json(...)]` says about one named field.
#[derive(Default)]
struct FieldAttrs {
    rename: Option<String>,
    skip: bool,
    default: bool,
}

/// Parses the `#[json(...)]` attributes in `attrs`; `allowed` lists the ones this position
/// accepts (a variant takes only `rename`, a tuple field nothing).
fn parse_attrs(attrs: &[Attribute], allowed: &[&str], what: &str) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("json")) {
        attr.parse_nested_meta(|meta| {
            let name = meta
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            if !allowed.contains(&name.as_str()) {
                let expected = if allowed.is_empty() {
                    format!("{what} take no json attributes")
                } else {
                    format!("{what} take {}", allowed.join(", "))
                };
                return Err(meta.error(format!("unknown json attribute `{name}`: {expected}")));
            }
            match name.as_str() {
                "rename" => out.rename = Some(meta.value()?.parse::<LitStr>()?.value()),
                "skip" => out.skip = true,
                _ => out.default = true,
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// `generics` with `bound` added to every type parameter.
fn with_bound(generics: &Generics, bound: TokenStream2) -> Generics {
    let mut generics = generics.clone();
    for param in &mut generics.params {
        if let GenericParam::Type(t) = param {
            t.bounds.push(parse_quote!(#bound));
        }
    }
    generics
}

/// One named field, as the generated code needs it.
struct NamedField<'a> {
    ident: &'a Ident,
    ty: &'a syn::Type,
    /// The JSON key.
    key: String,
    attrs: FieldAttrs,
}

fn named_fields(fields: &FieldsNamed) -> syn::Result<Vec<NamedField<'_>>> {
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
fn tuple_fields(fields: &syn::FieldsUnnamed) -> syn::Result<Vec<&syn::Type>> {
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

/// The JSON name of a variant.
fn variant_key(variant: &syn::Variant) -> syn::Result<String> {
    let attrs = parse_attrs(&variant.attrs, &["rename"], "variants")?;
    Ok(attrs.rename.unwrap_or_else(|| variant.ident.to_string()))
}

/// Rejects `#[json(...)]` on the type itself: no container attributes are supported.
fn check_container(input: &DeriveInput) -> syn::Result<()> {
    parse_attrs(&input.attrs, &[], "types").map(drop)
}

fn expand_serialize(input: &DeriveInput) -> syn::Result<TokenStream2> {
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

fn serialize_enum(name: &Ident, data: &DataEnum) -> syn::Result<TokenStream2> {
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

/// The body of a `visit_map` that reads `fields` and builds them with `construct` (a path
/// such as `Config` or `Shape::Rect`).
fn visit_named_fields(fields: &[NamedField<'_>], construct: TokenStream2) -> TokenStream2 {
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
fn visitor(
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

fn expand_deserialize(input: &DeriveInput) -> syn::Result<TokenStream2> {
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
        Data::Enum(data) if data.variants.is_empty() => {
            return Err(syn::Error::new(
                data.enum_token.span,
                "json cannot derive Deserialize for an enum with no variants",
            ));
        }
        Data::Enum(data) => {
            helpers.extend(deserialize_enum(name, data, &generics, &value)?);
            quote!(::json::Deserializer::deserialize_any(__d, #main(::core::marker::PhantomData)))
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

/// The enum's visitor (`__Visitor`) and one visitor per struct variant.
fn deserialize_enum(
    name: &Ident,
    data: &DataEnum,
    generics: &Generics,
    value: &TokenStream2,
) -> syn::Result<TokenStream2> {
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
    Ok(helpers)
}

#[cfg(test)]
mod tests {
    // The tests of this stage are in the json crate, in `src/s08_derive.rs`: a derive macro
    // is tested by deriving with it.
}
