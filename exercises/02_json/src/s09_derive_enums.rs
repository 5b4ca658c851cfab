//! # `#[derive(Serialize, Deserialize)]` for enums: the tests
//!
//! The code of this stage is in the proc-macro crate, `derive/src/s09_derive_enums.rs`: read
//! its header for what to build. These tests derive both traits for enums with every kind of
//! variant, generic ones included, and compare the JSON with stage 7's hand-written `Shape`:
//!
//! ```
//! use json::{Deserialize, Serialize, from_json, to_json};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! enum Command {
//!     Stop,
//!     Move { x: i32, y: i32 },
//! }
//!
//! # fn main() -> Result<(), json::Error> {
//! assert_eq!(to_json(&Command::Stop)?, r#""Stop""#);
//! assert_eq!(to_json(&Command::Move { x: 1, y: 2 })?, r#"{"Move":{"x":1,"y":2}}"#);
//! assert_eq!(from_json::<Command>(r#"{"Move":{"x":1,"y":2}}"#)?, Command::Move { x: 1, y: 2 });
//! # Ok(())
//! # }
//! ```

#[cfg(test)]
mod tests {
    use crate::derive_expand::{Expand, bare_names, derive_error, expansion, s08_derive};
    use crate::{Deserialize, Serialize, from_json, to_json};

    /// The same enum as stage 7's `Shape`, derived.
    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    enum Shape {
        Empty,
        Circle(f64),
        Line(i32, i32),
        Rect { w: u32, h: u32 },
    }

    #[test]
    fn derived_enums_write_what_the_hand_written_impls_write() {
        use crate::s07_by_hand::Shape as Hand;
        let pairs = [
            (Shape::Empty, Hand::Empty),
            (Shape::Circle(0.5), Hand::Circle(0.5)),
            (Shape::Line(-1, 1), Hand::Line(-1, 1)),
            (Shape::Rect { w: 3, h: 4 }, Hand::Rect { w: 3, h: 4 }),
        ];
        for (derived, hand) in pairs {
            let text = to_json(&derived).unwrap();
            assert_eq!(text, to_json(&hand).unwrap());
            assert_eq!(from_json::<Shape>(&text).unwrap(), derived);
        }
        assert_eq!(
            to_json(&Shape::Rect { w: 3, h: 4 }).unwrap(),
            r#"{"Rect":{"w":3,"h":4}}"#
        );
        assert_eq!(
            from_json::<Shape>(r#"{"Empty":null}"#).unwrap(),
            Shape::Empty
        );
    }

    #[test]
    fn derived_enum_errors_match_the_hand_written_ones() {
        let msg = |text: &str| from_json::<Shape>(text).unwrap_err().message().to_owned();
        assert_eq!(
            msg(r#""Square""#),
            "unknown variant `Square`, expected one of `Empty`, `Circle`, `Line`, `Rect`"
        );
        assert_eq!(
            msg(r#""Circle""#),
            "variant `Circle` of enum Shape needs a value"
        );
        let rejected = |text: &str, why: &str| match from_json::<Shape>(text) {
            Ok(v) => panic!("{text} must be rejected ({why}), got {v:?}"),
            Err(e) => e.message().to_owned(),
        };
        for variant in ["Line", "Rect"] {
            let why = "every variant with data, tuple and struct variants too, needs a value \
                       when it is named as a bare string";
            assert_eq!(
                rejected(&format!("{variant:?}"), why),
                format!("variant `{variant}` of enum Shape needs a value"),
                "{why}"
            );
        }
        let why = "an unknown variant in the object form is the same error as in the string form";
        assert_eq!(
            rejected(r#"{"Square": 1}"#, why),
            "unknown variant `Square`, expected one of `Empty`, `Circle`, `Line`, `Rect`",
            "{why}"
        );
        let why = "a unit variant written as an object takes `null` as its value, nothing else";
        assert_eq!(
            rejected(r#"{"Empty": 5}"#, why),
            "invalid type: integer `5`, expected null",
            "{why}"
        );
        assert_eq!(
            msg("{}"),
            "expected an object with exactly one key, the variant"
        );
        assert_eq!(
            msg(r#"{"Empty": null, "Circle": 1}"#),
            "expected an object with exactly one key, the variant"
        );
        assert_eq!(msg(r#"{"Rect": {"w": 1}}"#), "missing field `h`");
        assert_eq!(
            msg("true"),
            "invalid type: boolean `true`, expected enum Shape"
        );
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum Tree<T> {
        Leaf(T),
        Node {
            left: Box<Tree<T>>,
            right: Box<Tree<T>>,
        },
    }

    #[test]
    fn generic_enums_get_bounds_on_their_parameters() {
        let tree = Tree::Node {
            left: Box::new(Tree::Leaf(1)),
            right: Box::new(Tree::Node {
                left: Box::new(Tree::Leaf(2)),
                right: Box::new(Tree::Leaf(3)),
            }),
        };
        let text = to_json(&tree).unwrap();
        assert_eq!(
            text,
            r#"{"Node":{"left":{"Leaf":1},"right":{"Node":{"left":{"Leaf":2},"right":{"Leaf":3}}}}}"#
        );
        assert_eq!(from_json::<Tree<i64>>(&text).unwrap(), tree);
    }

    #[test]
    // Miri: parses Rust source with syn, 30 s or more a test, no unsafe code of the course
    #[cfg_attr(miri, ignore)]
    fn an_enum_without_variants_cannot_be_deserialized() {
        assert_eq!(
            derive_error(s08_derive::expand_deserialize, "enum Never {}"),
            (
                1,
                0,
                "json cannot derive Deserialize for an enum with no variants".to_owned()
            ),
            "no JSON value could build an enum with no variants: refuse it at the `enum` keyword"
        );
    }

    /// No value of `Never` exists, so its `serialize` is never called; the derive must still
    /// generate an impl that compiles, which this use of it checks.
    #[derive(Serialize)]
    enum Never {}

    const _: fn(&Never) -> crate::Result<String> = to_json::<Never>;

    #[test]
    // Miri: parses Rust source with syn, 30 s or more a test, no unsafe code of the course
    #[cfg_attr(miri, ignore)]
    fn generated_code_names_everything_by_absolute_path() {
        for item in [
            "enum Shape { Empty, Circle(f64), Line(i32, i32), Rect { w: u32, h: u32 } }",
            "enum Tree<T> { Leaf(T), Node { left: Box<Tree<T>>, right: Box<Tree<T>> } }",
        ] {
            for (expand, name) in [
                (s08_derive::expand_serialize as Expand, "Serialize"),
                (s08_derive::expand_deserialize, "Deserialize"),
            ] {
                let bare = bare_names(expansion(expand, item));
                assert!(
                    bare.is_empty(),
                    "{name} for `{item}`: the generated code uses a name without its path, so a \
                     user's own item of that name (a `struct Some;`, a `type Result = ...;`) \
                     would take its place; write `::core::option::Option::Some` and the like:\n{}",
                    bare.join("\n")
                );
            }
        }
    }
}
