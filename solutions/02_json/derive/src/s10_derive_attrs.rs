//! # Attributes, and errors that point at the mistake
//!
//! Let users adjust the derive with `#[json(...)]` attributes, as serde's `#[serde(...)]`:
//!
//! - on a named field, `rename = "..."` (the JSON key), `skip` (never written, never read,
//!   `Default::default()` when building the value) and `default` (`Default::default()` when
//!   the key is absent, instead of "missing field");
//! - on a variant, `rename = "..."` (its JSON name, written and read).
//!
//! `parse_attrs` reads them into a `FieldAttrs`; `named_fields` (stage 8) and `variant_key`
//! (given) already call it. Then honour `skip` and `default` in the code stages 8 and 9
//! generate: that is where a skipped field is left out of `serialize_struct`'s fields and out
//! of the keys `visit_map` accepts.
//!
//! Anything else is a compile error that points at the mistake, never a silently ignored
//! attribute: an unknown name ("unknown json attribute `flatten`: fields take rename, skip,
//! default", at `flatten`), an attribute where none is allowed (a tuple field: "tuple fields
//! take no json attributes"; the type itself: "types take no json attributes"), a `rename`
//! without a string. `Attribute::parse_nested_meta` walks `#[json(a, b = "x")]` one item at a
//! time, and `meta.error(...)` makes an error at the item it is looking at.
//!
//! Afterwards you will be able to parse helper attributes with syn and report errors that
//! the compiler shows at the user's mistake, as a well-behaved derive does.
//!
//! Read: the proc-macro-workshop's `derive(Builder)` project, tests 07 and 08 (an attribute
//! and its error); the syn documentation for `Attribute::parse_nested_meta` and
//! `syn::meta::ParseNestedMeta`; serde's attributes (<https://serde.rs/attributes.html>).

use syn::{Attribute, DeriveInput, Ident, LitStr};

/// What `#[json(...)]` says about one named field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) rename: Option<String>,
    pub(crate) skip: bool,
    pub(crate) default: bool,
}

/// Parses the `#[json(...)]` attributes in `attrs`; `allowed` lists the ones this position
/// accepts (a variant takes only `rename`, a tuple field nothing).
pub(crate) fn parse_attrs(
    attrs: &[Attribute],
    allowed: &[&str],
    what: &str,
) -> syn::Result<FieldAttrs> {
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

/// The JSON name of a variant.
pub(crate) fn variant_key(variant: &syn::Variant) -> syn::Result<String> {
    let attrs = parse_attrs(&variant.attrs, &["rename"], "variants")?;
    Ok(attrs.rename.unwrap_or_else(|| variant.ident.to_string()))
}

/// Rejects `#[json(...)]` on the type itself: no container attributes are supported.
pub(crate) fn check_container(input: &DeriveInput) -> syn::Result<()> {
    parse_attrs(&input.attrs, &[], "types").map(drop)
}

#[cfg(test)]
mod tests {
    // The tests of this stage are in the json crate, in `src/s10_derive_attrs.rs`.
}
