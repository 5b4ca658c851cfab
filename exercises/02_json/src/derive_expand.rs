//! The derive's code generators (the stage files of `derive/src/`), compiled into this
//! crate's tests as ordinary modules, so that a test can call them on a parsed item and
//! check the error they return: its message, and where the compiler would point.

#[path = "../derive/src/s08_derive.rs"]
#[allow(dead_code)]
pub mod s08_derive;
#[path = "../derive/src/s09_derive_enums.rs"]
#[allow(dead_code)]
pub mod s09_derive_enums;
#[path = "../derive/src/s10_derive_attrs.rs"]
#[allow(dead_code)]
pub mod s10_derive_attrs;

/// A derive's expansion: `expand_serialize` or `expand_deserialize`.
pub type Expand = fn(&syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream>;

/// Derives with `expand` for `item` (Rust source) and returns the error it must report:
/// `(line, column, message)`, with the line 1-based and the column 0-based, counted in
/// `item`, where the compiler would point.
#[track_caller]
pub fn derive_error(expand: Expand, item: &str) -> (usize, usize, String) {
    let input: syn::DeriveInput = syn::parse_str(item).expect("the test's item is valid Rust");
    match expand(&input) {
        Ok(tokens) => panic!(
            "the derive must refuse this item with a compile error, but it generated code:\n\
             {item}\n=> {tokens}"
        ),
        Err(e) => {
            let start = e.span().start();
            (start.line, start.column, e.to_string())
        }
    }
}

/// `derive_error` for both derives: they must give the same error.
#[track_caller]
pub fn both_derives_error(item: &str) -> (usize, usize, String) {
    let ser = derive_error(s08_derive::expand_serialize, item);
    let de = derive_error(s08_derive::expand_deserialize, item);
    assert_eq!(
        ser, de,
        "Serialize and Deserialize must refuse {item:?} the same way"
    );
    ser
}
