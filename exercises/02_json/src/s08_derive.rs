//! # `#[derive(Serialize, Deserialize)]` for structs: the tests
//!
//! The code of this stage is in the proc-macro crate, `derive/src/s08_derive.rs`: read its
//! header for what to build. Its tests are here, in a crate that uses the derive: they derive
//! both traits for structs of every shape, check the JSON against the hand-written impls of
//! stage 7, and end with the example this project was built for:
//!
//! ```
//! use json::{Deserialize, Serialize, from_json, to_json};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Person {
//!     name: String,
//!     age: u32,
//! }
//!
//! # fn main() -> Result<(), json::Error> {
//! let person = Person { name: "Ada".into(), age: 36 };
//! let json = to_json(&person)?;
//! let back: Person = from_json(&json)?;
//! assert_eq!(back, person);
//! # Ok(())
//! # }
//! ```
//!
//! Generic structs work as hand-written impls do, recursive ones with a `where` clause and
//! a default too, even where look-alikes of the prelude's names are in scope:
//!
//! ```
//! mod look_alikes { pub struct Some; pub struct None; pub struct Ok; pub struct Err; }
//! use look_alikes::*;
//! #[derive(json::Serialize, json::Deserialize)]
//! struct Node<T = u8> where T: Clone { value: T, children: Vec<Node<T>> }
//! let node: Node = json::from_json(r#"{"value": 1, "children": []}"#).unwrap();
//! assert_eq!(json::to_json(&node).unwrap(), r#"{"value":1,"children":[]}"#);
//! ```
//!
//! The derive must refuse what it cannot do, at compile time. A union has no way to say
//! which field is live (the tests check the compiler's message, and where it points):
//!
//! ```compile_fail
//! #[derive(json::Serialize)]
//! union Bits {
//!     int: u32,
//!     float: f32,
//! }
//! ```
//!
//! The derive bounds every type parameter, so a generic type is `Serialize` only when they are:
//!
//! ```compile_fail,E0277
//! #[derive(json::Serialize)]
//! struct Wrapper<T> {
//!     inner: T,
//! }
//!
//! struct NotSerialize;
//!
//! let _ = json::to_json(&Wrapper { inner: NotSerialize });
//! ```

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::derive_expand::{
        Expand, bare_names, both_derives_error, expansion, s08_derive, trait_impl,
    };
    use crate::error::{Category, Result};
    use crate::{Deserialize, Serialize, from_json, to_json, to_json_pretty};

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Person {
        name: String,
        age: u32,
    }

    #[test]
    fn the_curriculum_example_round_trips() -> Result<()> {
        let person = Person {
            name: "Ada".into(),
            age: 36,
        };
        let json = to_json(&person)?;
        assert_eq!(json, r#"{"name":"Ada","age":36}"#);
        let back: Person = from_json(&json)?;
        assert_eq!(back, person);
        Ok(())
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Team {
        name: String,
        members: Vec<Person>,
        lead: Option<Person>,
        scores: HashMap<String, f64>,
        motto: Option<String>,
    }

    #[test]
    fn nested_derived_types_round_trip() {
        let team = Team {
            name: "core".into(),
            members: vec![
                Person {
                    name: "A".into(),
                    age: 1,
                },
                Person {
                    name: "B \"bee\"".into(),
                    age: 2,
                },
            ],
            lead: None,
            scores: HashMap::from([("q1".to_string(), 9.5)]),
            motto: Some("ship it\n".into()),
        };
        let text = to_json(&team).unwrap();
        assert_eq!(from_json::<Team>(&text).unwrap(), team);
        let pretty = to_json_pretty(&team).unwrap();
        assert_eq!(from_json::<Team>(&pretty).unwrap(), team);
    }

    #[test]
    fn an_absent_option_field_is_none() {
        let team: Team = from_json(r#"{"name": "x", "members": [], "scores": {}}"#)
            .expect("an absent Option field must be None, not an error");
        assert_eq!(team.lead, None);
        assert_eq!(team.motto, None);
    }

    #[test]
    fn derived_field_errors_match_the_hand_written_ones() {
        let e = from_json::<Person>(r#"{"name": "x"}"#).unwrap_err();
        assert_eq!(e.category(), Category::Data);
        assert_eq!(e.message(), "missing field `age`");
        match from_json::<Person>(r#"{"name": "x", "age": 1, "name": "y"}"#) {
            Ok(p) => {
                panic!("a second `name` must be the error \"duplicate field `name`\", got {p:?}")
            }
            Err(e) => assert_eq!(e.message(), "duplicate field `name`"),
        }
        assert_eq!(
            from_json::<Person>(r#"{"name": "x", "agee": 1}"#)
                .unwrap_err()
                .message(),
            "unknown field `agee`, expected one of `name`, `age`"
        );
        assert_eq!(
            from_json::<Person>("[]").unwrap_err().message(),
            "invalid type: sequence, expected struct Person"
        );
        assert_eq!(
            from_json::<Person>(r#"{"name": "x", "age": -1}"#)
                .unwrap_err()
                .message(),
            "invalid value: integer `-1`, expected u32"
        );
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Meters(f64);

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Rgb(u8, u8, u8);

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Marker;

    #[test]
    fn newtype_tuple_and_unit_structs() {
        assert_eq!(
            to_json(&Meters(1.5)).unwrap(),
            "1.5",
            "a newtype is transparent"
        );
        assert_eq!(from_json::<Meters>("2").unwrap(), Meters(2.0));
        assert_eq!(to_json(&Rgb(1, 2, 3)).unwrap(), "[1,2,3]");
        assert_eq!(from_json::<Rgb>("[4,5,6]").unwrap(), Rgb(4, 5, 6));
        assert_eq!(
            from_json::<Rgb>("[1,2]").unwrap_err().message(),
            "invalid length 2, expected a tuple of size 3"
        );
        assert_eq!(to_json(&Marker).unwrap(), "null");
        assert_eq!(from_json::<Marker>("null").unwrap(), Marker);
        assert!(from_json::<Marker>("0").is_err());
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Pair<A, B> {
        first: A,
        second: B,
    }

    #[test]
    fn generic_structs_get_bounds_on_their_parameters() {
        let p = Pair {
            first: 1u8,
            second: vec!["x".to_string()],
        };
        let text = to_json(&p).unwrap();
        assert_eq!(text, r#"{"first":1,"second":["x"]}"#);
        assert_eq!(from_json::<Pair<u8, Vec<String>>>(&text).unwrap(), p);
    }

    #[test]
    fn derived_types_work_inside_std_containers() {
        let people: HashMap<String, Vec<Option<Person>>> = HashMap::from([(
            "x".to_string(),
            vec![
                None,
                Some(Person {
                    name: "n".into(),
                    age: 3,
                }),
            ],
        )]);
        let text = to_json(&people).unwrap();
        assert_eq!(text, r#"{"x":[null,{"name":"n","age":3}]}"#);
        assert_eq!(
            from_json::<HashMap<String, Vec<Option<Person>>>>(&text).unwrap(),
            people
        );
    }

    #[test]
    // Miri: parses Rust source with syn, 30 s or more a test, no unsafe code of the course
    #[cfg_attr(miri, ignore)]
    fn unsupported_structs_are_compile_errors_that_point_at_the_problem() {
        assert_eq!(
            both_derives_error("union Bits {\n    int: u32,\n    float: f32,\n}"),
            (1, 0, "json cannot derive for a union".to_owned()),
            "a union is refused with this message, at the `union` keyword (line 1, column 0)"
        );
        let tuple_error = "json supports tuple structs and variants with 1 to 6 fields";
        assert_eq!(
            both_derives_error("struct Seven(u8, u8, u8, u8, u8, u8, u8);"),
            (1, 12, tuple_error.to_owned()),
            "a tuple struct with more than 6 fields is refused at its fields (column 12)"
        );
        assert_eq!(
            both_derives_error("struct Nothing();"),
            (1, 14, tuple_error.to_owned()),
            "a tuple struct with no field is refused at its fields (column 14)"
        );
        for (expand, _) in BOTH {
            // Six fields, the most there are tuple impls for, is still accepted.
            expansion(expand, "struct Six(u8, u8, u8, u8, u8, u8);");
        }
    }

    /// Both derives, with their trait's name.
    const BOTH: [(Expand, &str); 2] = [
        (s08_derive::expand_serialize, "Serialize"),
        (s08_derive::expand_deserialize, "Deserialize"),
    ];

    #[test]
    // Miri: parses Rust source with syn, 30 s or more a test, no unsafe code of the course
    #[cfg_attr(miri, ignore)]
    fn bounds_go_on_type_parameters_and_the_struct_generics_are_kept() {
        use quote::ToTokens;
        let item = "struct Node<T = u8> where T: Clone { value: T, children: Vec<Node<T>> }";
        for (expand, name) in BOTH {
            let imp = trait_impl(&expansion(expand, item));
            for param in &imp.generics.params {
                if let syn::GenericParam::Type(t) = param {
                    assert!(
                        t.default.is_none(),
                        "{name} for `{item}`: the impl's generics `{}` copy the default `= u8`, \
                         which an impl cannot have; take them from `split_for_impl`",
                        imp.generics.to_token_stream()
                    );
                }
            }
            let where_clause = imp.generics.where_clause.as_ref();
            assert!(
                where_clause.is_some_and(|w| w.to_token_stream().to_string().contains("Clone")),
                "{name} for `{item}`: the impl lost the struct's `where T: Clone` (it has `{}`); \
                 without it `Node<T>` is not a valid type in the impl",
                where_clause.to_token_stream()
            );
            for predicate in where_clause.iter().flat_map(|w| &w.predicates) {
                if let syn::WherePredicate::Type(p) = predicate {
                    let bounded = p.bounded_ty.to_token_stream().to_string();
                    let bounds = p.bounds.to_token_stream().to_string();
                    assert!(
                        !bounds.contains(name) || bounded == "T",
                        "{name} for `{item}`: the impl requires `{bounded}: {bounds}`, a bound \
                         on a field type. Bound the type parameters (`T: ::json::{name}`), as \
                         serde does: bounds on field types make a recursive type like this one \
                         fail to compile, because proving `Vec<Node<T>>: {name}` needs itself"
                    );
                }
            }
        }
    }

    #[test]
    // Miri: parses Rust source with syn, 30 s or more a test, no unsafe code of the course
    #[cfg_attr(miri, ignore)]
    fn generated_code_names_everything_by_absolute_path() {
        for item in [
            "struct Person { name: String, age: u32 }",
            "struct Meters(f64);",
            "struct Rgb(u8, u8, u8);",
            "struct Marker;",
            "struct Pair<A, B> { first: A, second: B }",
        ] {
            for (expand, name) in BOTH {
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
