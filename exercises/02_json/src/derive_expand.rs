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

/// The code a derive generates for `item` (Rust source), which it must accept.
#[track_caller]
pub fn expansion(expand: Expand, item: &str) -> proc_macro2::TokenStream {
    let input: syn::DeriveInput = syn::parse_str(item).expect("the test's item is valid Rust");
    expand(&input)
        .unwrap_or_else(|e| panic!("the derive must accept this item, but refused it: {e}\n{item}"))
}

/// The `impl` of `Serialize` or `Deserialize` in an expansion, at the top level or inside a
/// `const _: () = { ... };` block.
#[track_caller]
pub fn trait_impl(tokens: &proc_macro2::TokenStream) -> syn::ItemImpl {
    fn find(items: Vec<syn::Item>) -> Option<syn::ItemImpl> {
        items.into_iter().find_map(|item| match item {
            syn::Item::Impl(imp) => {
                let (_, path, _) = imp.trait_.as_ref()?;
                let last = path.segments.last()?;
                (last.ident == "Serialize" || last.ident == "Deserialize").then_some(imp)
            }
            syn::Item::Const(c) => match *c.expr {
                syn::Expr::Block(block) => find(
                    block
                        .block
                        .stmts
                        .into_iter()
                        .filter_map(|stmt| match stmt {
                            syn::Stmt::Item(item) => Some(item),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            },
            _ => None,
        })
    }
    let file: syn::File = syn::parse2(tokens.clone()).unwrap_or_else(|e| {
        panic!("the derive generated something that is not items ({e}):\n{tokens}")
    });
    find(file.items).unwrap_or_else(|| {
        panic!("the derive generated no `impl ::json::Serialize` or `Deserialize`:\n{tokens}")
    })
}

/// Names the generated code must not use bare, because an item of the same name in the
/// user's scope would take their place: the prelude's, and `PhantomData` and `Formatter`.
const SHADOWABLE: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "Default",
    "PhantomData",
    "Formatter",
];

/// Each use in `tokens` of a name from [`SHADOWABLE`] without a path before it (`Some(x)`
/// rather than `::core::option::Option::Some(x)`), with the tokens around it.
pub fn bare_names(tokens: proc_macro2::TokenStream) -> Vec<String> {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut found = Vec::new();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(group) => found.extend(bare_names(group.stream())),
            TokenTree::Ident(ident) if SHADOWABLE.iter().any(|name| ident == name) => {
                let colon = |j: Option<usize>| matches!(j.map(|j| &trees[j]), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                if !(colon(i.checked_sub(1)) && colon(i.checked_sub(2))) {
                    let context: Vec<String> = trees[i.saturating_sub(3)..(i + 4).min(trees.len())]
                        .iter()
                        .map(|t| match t {
                            TokenTree::Group(g) => {
                                let (open, close) = match g.delimiter() {
                                    proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                                    proc_macro2::Delimiter::Brace => ("{", "}"),
                                    proc_macro2::Delimiter::Bracket => ("[", "]"),
                                    proc_macro2::Delimiter::None => ("", ""),
                                };
                                format!("{open}...{close}")
                            }
                            other => other.to_string(),
                        })
                        .collect();
                    found.push(format!("`{ident}` in `{}`", context.join(" ")));
                }
            }
            _ => {}
        }
    }
    found
}
