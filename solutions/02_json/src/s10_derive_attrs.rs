//! # Attributes, and errors that point at the mistake: the tests
//!
//! The code of this stage is in the proc-macro crate, `derive/src/s10_derive_attrs.rs`: read
//! its header for what to build. These tests derive with `rename`, `skip` and `default`, and
//! check the error of every attribute the derive must refuse: its message and where the
//! compiler points.
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

#[cfg(test)]
mod tests {
    use crate::derive_expand::both_derives_error;
    use crate::{Deserialize, Serialize, from_json, to_json};

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
    // Miri: parses Rust source with syn, 30 s or more a test, no unsafe code of the course
    #[cfg_attr(miri, ignore)]
    fn unknown_and_misplaced_attributes_are_errors_at_the_attribute() {
        assert_eq!(
            both_derives_error("struct Outer {\n    #[json(flatten)]\n    inner: u32,\n}"),
            (
                2,
                11,
                "unknown json attribute `flatten`: fields take rename, skip, default".to_owned()
            ),
            "an unknown attribute is refused at its name, and the message lists what is allowed"
        );
        assert_eq!(
            both_derives_error("struct Pair(#[json(skip)] u8, u8);"),
            (
                1,
                19,
                "unknown json attribute `skip`: tuple fields take no json attributes".to_owned()
            ),
            "a tuple field takes no attributes"
        );
        assert_eq!(
            both_derives_error("#[json(rename = \"x\")]\nstruct S {\n    a: u8,\n}"),
            (
                1,
                7,
                "unknown json attribute `rename`: types take no json attributes".to_owned()
            ),
            "the type itself takes no attributes"
        );
        assert_eq!(
            both_derives_error("enum E {\n    #[json(skip)]\n    A,\n}"),
            (
                2,
                11,
                "unknown json attribute `skip`: variants take rename".to_owned()
            ),
            "a variant takes only `rename`"
        );
        assert_eq!(
            both_derives_error("struct S {\n    #[json(rename = 5)]\n    a: u8,\n}"),
            (2, 20, "expected string literal".to_owned()),
            "`rename` needs a string, and the error points at what is there instead"
        );
    }
}
