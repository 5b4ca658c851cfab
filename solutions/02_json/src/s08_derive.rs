//! # `#[derive(Serialize, Deserialize)]`: the tests
//!
//! The code of this stage is the proc-macro crate in `derive/src/s08_derive.rs`: read its
//! header for what to build. This module holds the stage's tests, because a derive can only
//! be tested by a crate that uses it. They derive `Serialize` and `Deserialize` for structs
//! and enums of every shape, check the JSON against the hand-written impls of stage 7, and
//! end with the example this project was built for:
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
//! The derive must refuse what it cannot do, at compile time. A union has no way to say
//! which field is live:
//!
//! ```compile_fail
//! #[derive(json::Serialize)]
//! union Bits {
//!     int: u32,
//!     float: f32,
//! }
//! ```
//!
//! An attribute the derive does not know is an error, not silently ignored:
//!
//! ```compile_fail
//! #[derive(json::Serialize)]
//! struct Outer {
//!     #[json(flatten)]
//!     inner: u32,
//! }
//! ```
//!
//! And a generic type is `Serialize` only when its type parameters are, because the derive
//! bounds every type parameter:
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
    struct Pair<A, B> {
        first: A,
        second: B,
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
    fn generic_types_get_bounds_on_their_parameters() {
        let p = Pair {
            first: 1u8,
            second: vec!["x".to_string()],
        };
        let text = to_json(&p).unwrap();
        assert_eq!(text, r#"{"first":1,"second":["x"]}"#);
        assert_eq!(from_json::<Pair<u8, Vec<String>>>(&text).unwrap(), p);

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

    #[derive(Serialize, Deserialize, Debug, PartialEq, Default)]
    struct Settings {
        #[json(rename = "userName")]
        user_name: String,
        #[json(skip)]
        cache: Vec<u8>,
        #[json(default)]
        retries: u32,
        level: Level,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Default)]
    enum Level {
        #[json(rename = "low")]
        #[default]
        Low,
        #[json(rename = "high")]
        High,
    }

    #[test]
    fn rename_changes_the_key_and_the_variant_name() {
        let s = Settings {
            user_name: "ada".into(),
            cache: vec![],
            retries: 2,
            level: Level::High,
        };
        assert_eq!(
            to_json(&s).unwrap(),
            r#"{"userName":"ada","retries":2,"level":"high"}"#
        );
        let back: Settings = from_json(r#"{"userName":"b","retries":0,"level":"low"}"#).unwrap();
        assert_eq!(back.user_name, "b");
        assert_eq!(back.level, Level::Low);
        assert_eq!(
            from_json::<Settings>(r#"{"user_name":"b","level":"low"}"#)
                .unwrap_err()
                .message(),
            "unknown field `user_name`, expected one of `userName`, `retries`, `level`",
            "the Rust name is not accepted once a field is renamed"
        );
        assert_eq!(
            from_json::<Level>(r#""High""#).unwrap_err().message(),
            "unknown variant `High`, expected one of `low`, `high`"
        );
    }

    #[test]
    fn skip_leaves_a_field_out_both_ways() {
        let s = Settings {
            user_name: "a".into(),
            cache: vec![1, 2, 3],
            retries: 0,
            level: Level::Low,
        };
        let text = to_json(&s).unwrap();
        assert!(
            !text.contains("cache"),
            "a skipped field is not written: {text}"
        );
        let back: Settings = from_json(&text).unwrap();
        assert_eq!(
            back.cache,
            Vec::<u8>::new(),
            "a skipped field is Default on read"
        );
        assert!(
            from_json::<Settings>(r#"{"userName":"a","level":"low","cache":[1]}"#).is_err(),
            "a skipped field is not an expected key"
        );
    }

    #[test]
    fn default_fills_an_absent_field() {
        let s: Settings = from_json(r#"{"userName":"a","level":"high"}"#).unwrap();
        assert_eq!(s.retries, 0);
        let s: Settings = from_json(r#"{"userName":"a","level":"high","retries":7}"#).unwrap();
        assert_eq!(s.retries, 7);
        assert_eq!(
            from_json::<Settings>(r#"{"level":"high"}"#)
                .unwrap_err()
                .message(),
            "missing field `userName`",
            "a field without `default` is still required, under its JSON name"
        );
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
}
