//! Filter semantics: unit tests per operator and kind, details, call
//! attributes, and property tests against a reference evaluation.

use proptest::prelude::*;

use super::*;

fn run(filter: &Filter, call: &CallAttrs) -> Result<(), String> {
    let mut keys = FilterTable::new();
    let compiled = keys.compile(filter);
    let prepared = keys.prepare(call);
    compiled.matches(&prepared).map_err(|m| m.detail())
}

fn one(cond: Condition) -> Filter {
    Filter::any_of(vec![Rule::all_of(vec![cond])])
}

fn holds(cond: &Condition, call: &CallAttrs) -> bool {
    run(&one(cond.clone()), call).is_ok()
}

fn c(tag: &str, op: Op, values: &[&str]) -> Condition {
    Condition::new(tag, op, values.iter().copied())
}

fn call(tags: &[(&str, &str)]) -> CallAttrs {
    tags.iter()
        .fold(CallAttrs::new(), |call, (k, v)| call.with_tag(k, v))
}

#[test]
fn in_and_not_in() {
    let nc = call(&[("geo", "301,us,us-28379,us-nc")]);
    let tx = call(&[("geo", "us-tx")]);
    let none = CallAttrs::new();
    let cond = c("geo", Op::In, &["us-nc", "us-sc"]);
    assert!(holds(&cond, &nc));
    assert!(!holds(&cond, &tx));
    assert!(!holds(&cond, &none), "a call without the key fails in");
    let not = c("geo", Op::NotIn, &["us-nc", "us-sc"]);
    assert!(!holds(&not, &nc));
    assert!(holds(&not, &tx));
    assert!(holds(&not, &none), "a call without the key passes not_in");
}

#[test]
fn case_and_whitespace_are_ignored_in_keys_and_values() {
    let call = call(&[(" GEO ", "  US-NC ")]);
    assert!(holds(&c("Geo", Op::In, &[" us-nc"]), &call));
    assert!(holds(&c("geo ", Op::StartsWith, &["Us-"]), &call));
    assert!(holds(&c("geo", Op::Contains, &["S-n"]), &call));
    // inner whitespace counts
    assert!(!holds(&c("geo", Op::In, &["us - nc"]), &call));
    // non-ASCII letters are not case-folded
    let e = CallAttrs::new().with_tag("city", "ÉVRY");
    assert!(!holds(&c("city", Op::In, &["évry"]), &e));
    assert!(holds(&c("city", Op::In, &["Évry"]), &e));
}

#[test]
fn contains_and_starts_with() {
    let call = call(&[("topic", "Medicare Advantage"), ("topic", "dental")]);
    assert!(holds(&c("topic", Op::Contains, &["advantage"]), &call));
    assert!(holds(&c("topic", Op::Contains, &["x", "dent"]), &call));
    assert!(!holds(&c("topic", Op::Contains, &["auto"]), &call));
    assert!(holds(&c("topic", Op::NotContains, &["auto"]), &call));
    assert!(!holds(&c("topic", Op::NotContains, &["dent"]), &call));
    assert!(holds(&c("topic", Op::StartsWith, &["medi"]), &call));
    assert!(holds(&c("topic", Op::StartsWith, &["den"]), &call));
    assert!(!holds(&c("topic", Op::StartsWith, &["advantage"]), &call));
    assert!(holds(&c("topic", Op::NotStartsWith, &["advantage"]), &call));
    assert!(!holds(&c("topic", Op::NotStartsWith, &["medi"]), &call));
    let none = CallAttrs::new();
    assert!(!holds(&c("topic", Op::Contains, &[""]), &none));
    assert!(holds(&c("topic", Op::NotContains, &[""]), &none));
    assert!(holds(&c("topic", Op::NotStartsWith, &["m"]), &none));
}

#[test]
fn comparisons_as_strings() {
    let call = call(&[("name", "Mike")]);
    assert!(holds(&c("name", Op::Gt, &["m"]), &call));
    assert!(holds(&c("name", Op::Gte, &["MIKE"]), &call));
    assert!(!holds(&c("name", Op::Gt, &["mike"]), &call));
    assert!(holds(&c("name", Op::Lt, &["n"]), &call));
    assert!(holds(&c("name", Op::Lte, &["mike"]), &call));
    assert!(!holds(&c("name", Op::Lt, &["mike"]), &call));
    // strings compare byte by byte: "10" < "9"
    let n = CallAttrs::new().with_tag("n", "10");
    assert!(!holds(&c("n", Op::Gt, &["9"]), &n));
    assert!(holds(&c("n", Op::Gt, &["9"]).number(), &n));
}

#[test]
fn comparisons_as_numbers() {
    let age = |v: &str| CallAttrs::new().with_tag("age", v);
    let gte = c("age", Op::Gte, &["65"]).number();
    assert!(holds(&gte, &age("65")));
    assert!(holds(&gte, &age(" 65.000 ")));
    assert!(holds(&gte, &age("+070")));
    assert!(!holds(&gte, &age("64.999")));
    assert!(!holds(&gte, &age("")));
    assert!(
        !holds(&gte, &age("sixty-five")),
        "a non-number never satisfies"
    );
    assert!(!holds(&gte, &age("6.5e1")), "no exponents");
    let gt = c("age", Op::Gt, &["-1.5"]).number();
    assert!(holds(&gt, &age("-1.49")));
    assert!(!holds(&gt, &age("-1.50")));
    let lt = c("age", Op::Lt, &["18"]).number();
    assert!(holds(&lt, &age("9")));
    assert!(!holds(&lt, &age("18.0")));
    let lte = c("age", Op::Lte, &["18"]).number();
    assert!(holds(&lte, &age("18.0")));
    assert!(!holds(&lte, &age("18.01")));
    // exact beyond f64
    let big = c("id", Op::Gt, &["9007199254740992"]).number();
    assert!(holds(
        &big,
        &CallAttrs::new().with_tag("id", "9007199254740993")
    ));
    // numeric equality
    let is = c("age", Op::In, &["65", "70"]).number();
    assert!(holds(&is, &age("65.0")));
    assert!(holds(&is, &age("070")));
    assert!(!holds(&is, &age("66")));
    assert!(
        !holds(&c("age", Op::In, &["65"]), &age("65.0")),
        "string kind"
    );
    assert!(holds(&c("age", Op::NotIn, &["65"]).number(), &age("abc")));
    // several bounds: some value beyond some bound
    assert!(holds(&c("age", Op::Gt, &["80", "60"]).number(), &age("70")));
    assert!(holds(&c("age", Op::Lt, &["60", "80"]).number(), &age("70")));
    assert!(!holds(
        &c("age", Op::Lt, &["60", "65"]).number(),
        &age("70")
    ));
}

#[test]
fn numeric_values_that_are_not_numbers_never_satisfy() {
    // a condition value that is not a number (only possible when built in code)
    let cond = c("age", Op::Gt, &["old"]).number();
    assert!(!holds(&cond, &CallAttrs::new().with_tag("age", "70")));
    assert!(holds(
        &cond.negated(),
        &CallAttrs::new().with_tag("age", "70")
    ));
}

#[test]
fn multi_value_any_value_satisfies() {
    let call = call(&[
        ("age", "unknown"),
        ("age", "70"),
        ("state", "nc"),
        ("state", "tx"),
    ]);
    assert!(holds(&c("age", Op::Gte, &["65"]).number(), &call));
    assert!(holds(&c("state", Op::In, &["tx"]), &call));
    // not_in is the negation: one listed value is enough to fail
    assert!(!holds(&c("state", Op::NotIn, &["tx"]), &call));
}

#[test]
fn exists_needs_a_non_empty_value() {
    let exists = c("zip", Op::Exists, &[]);
    let not_exists = c("zip", Op::NotExists, &[]);
    let empty = call(&[("zip", ""), ("zip", "   ")]);
    assert!(!holds(&exists, &empty));
    assert!(holds(&not_exists, &empty));
    let absent = CallAttrs::new();
    assert!(!holds(&exists, &absent));
    assert!(holds(&not_exists, &absent));
    let some = call(&[("zip", ""), ("zip", "28379")]);
    assert!(holds(&exists, &some));
    assert!(!holds(&not_exists, &some));
}

#[test]
fn geo_is_split_on_commas() {
    let call = CallAttrs::new().with_tag("Geo", "301,us,us-28379,us-nc");
    assert_eq!(call.tag("geo"), ["301", "us", "us-28379", "us-nc"]);
    assert!(holds(&c("geo", Op::In, &["us-28379"]), &call));
    assert!(holds(&c("geo", Op::In, &["301"]), &call));
    assert!(!holds(&c("geo", Op::In, &["301,us,us-28379,us-nc"]), &call));
    // other tags are not split
    let other = CallAttrs::new().with_tag("request_id", "a,b");
    assert_eq!(other.tag("request_id"), ["a,b"]);
}

#[test]
fn caller_is_the_tag_caller_when_known() {
    let known = CallAttrs::new().with_caller(" +19195550100 ");
    assert_eq!(known.caller(), Some("+19195550100"));
    assert!(holds(&c("caller", Op::In, &["+19195550100"]), &known));
    assert!(holds(&c("Caller", Op::StartsWith, &["+1919"]), &known));
    assert!(holds(&c("caller", Op::Exists, &[]), &known));
    for unknown in ["anonymous", "Restricted", "ANONYMOUS", "", "  "] {
        let call = CallAttrs::new().with_caller(unknown);
        assert_eq!(call.caller(), None, "{unknown:?}");
        assert!(!holds(&c("caller", Op::Exists, &[]), &call));
        assert!(holds(&c("caller", Op::NotExists, &[]), &call));
        assert!(holds(&c("caller", Op::NotIn, &[unknown]), &call));
    }
    // a caller tag and the caller add up
    let both = CallAttrs::new()
        .with_tag("caller", "+15550001")
        .with_caller("+15550002");
    assert_eq!(
        both.filter_values("caller").collect::<Vec<_>>(),
        ["+15550001", "+15550002"]
    );
    assert!(holds(&c("caller", Op::In, &["+15550002"]), &both));
    assert!(holds(&c("caller", Op::In, &["+15550001"]), &both));
}

#[test]
fn rules_and_empty_lists() {
    let call = call(&[("a", "1")]);
    // a rule with no conditions matches every call
    assert_eq!(
        run(
            &Filter::any_of(vec![Rule::all_of(vec![])]),
            &CallAttrs::new()
        ),
        Ok(())
    );
    // no rules: no call
    assert_eq!(
        run(&Filter::any_of(vec![]), &call),
        Err("the filter has no rules, so it matches no call".to_string())
    );
    // any one rule suffices
    let f = Filter::any_of(vec![
        Rule::all_of(vec![c("a", Op::In, &["2"])]),
        Rule::all_of(vec![c("a", Op::In, &["1"]), c("b", Op::NotExists, &[])]),
    ]);
    assert_eq!(run(&f, &call), Ok(()));
    // a condition with no values never holds
    assert!(!holds(&c("a", Op::In, &[]), &call));
    assert!(holds(&c("a", Op::NotIn, &[]), &call));
}

#[test]
fn detail_names_the_first_failing_condition_of_the_first_rule() {
    let f = Filter::any_of(vec![
        Rule::all_of(vec![
            c("topic", Op::Exists, &[]),
            c("geo", Op::In, &["us-nc", "us-sc"]),
            c("age", Op::Gte, &["65"]).number(),
        ]),
        Rule::all_of(vec![c("vip", Op::In, &["yes"])]),
    ]);
    let call = CallAttrs::new()
        .with_tag("topic", "medicare")
        .with_tag("geo", "301,us,us-28379,US-TX");
    let mut keys = FilterTable::new();
    let compiled = keys.compile(&f);
    let prepared = keys.prepare(&call);
    let m = compiled.matches(&prepared).unwrap_err();
    assert_eq!(m.rule(), Some(0));
    assert_eq!(m.condition(), Some(&f.any_of[0].all_of[1]));
    assert_eq!(
        m.detail(),
        "geo in [us-nc, us-sc]: call has geo = [301, us, us-28379, US-TX]"
    );
    let call = call.with_tag("geo", "us-nc");
    let prepared = keys.prepare(&call);
    assert_eq!(
        compiled.matches(&prepared).unwrap_err().to_string(),
        "age gte 65 (number): call has no age"
    );
}

#[test]
fn detail_formats() {
    let detail = |cond: Condition, call: &CallAttrs| run(&one(cond), call).unwrap_err();
    let age = CallAttrs::new().with_tag("age", " 70 ");
    assert_eq!(
        detail(c("age", Op::Gt, &["65"]).number().negated(), &age),
        "age not gt 65 (number): call has age = [70]"
    );
    assert_eq!(
        detail(c("age", Op::NotIn, &["70"]), &age),
        "age not_in [70]: call has age = [70]"
    );
    assert_eq!(
        detail(
            c(" Zip ", Op::Exists, &[]),
            &call(&[("zip", ""), ("zip", "  ")])
        ),
        "Zip exists: call has Zip = [\"\", \"\"]"
    );
    assert_eq!(
        detail(
            c("zip", Op::In, &["[x]", "y"]),
            &call(&[("zip", "a,b"), ("zip", "say \"hi\"")])
        ),
        "zip in [\"[x]\", y]: call has zip = [\"a,b\", \"say \\\"hi\\\"\"]"
    );
    assert_eq!(
        detail(
            c("name", Op::StartsWith, &["x", "y"]),
            &call(&[("name", "bob")])
        ),
        "name starts_with [x, y]: call has name = [bob]"
    );
    assert_eq!(
        detail(c("name", Op::Contains, &["x"]), &CallAttrs::new()),
        "name contains x: call has no name"
    );
    let many = (0..12).fold(CallAttrs::new(), |call, i| {
        call.with_tag("n", &i.to_string())
    });
    assert_eq!(
        detail(c("n", Op::In, &["x"]), &many),
        "n in [x]: call has n = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (2 more)]"
    );
    assert_eq!(
        detail(
            c("caller", Op::NotStartsWith, &["+1"]),
            &CallAttrs::new().with_caller("+1555")
        ),
        "caller not_starts_with +1: call has caller = [+1555]"
    );
}

#[test]
fn equal_conditions_and_filters_are_stored_once() {
    let mut table = FilterTable::new();
    let a = table.compile(&one(c("Geo", Op::In, &["US-NC", "us-sc"])));
    let b = table.compile(&one(c(" geo", Op::In, &["us-sc", "us-nc", "us-nc"])));
    let other = table.compile(&Filter::any_of(vec![Rule::all_of(vec![
        c("geo", Op::In, &["us-nc", "us-sc"]),
        c("age", Op::Gte, &["65"]).number(),
    ])]));
    assert_eq!(table.key_count(), 2);
    assert_eq!(table.condition_count(), 2);
    assert_eq!(table.filter_count(), 2);
    let call = table.prepare(&CallAttrs::new().with_tag("geo", "us-nc"));
    assert!(a.is_match(&call));
    assert!(b.is_match(&call));
    // shared memo, but each filter reports its own conditions as written
    assert_eq!(
        other.matches(&call).unwrap_err().detail(),
        "age gte 65 (number): call has no age"
    );
    let none = table.prepare(&CallAttrs::default());
    assert_eq!(
        b.matches(&none).unwrap_err().detail(),
        " geo in [us-sc, us-nc, us-nc]: call has no geo".trim_start()
    );
    // asking twice gives the same answer (memoized)
    assert!(!a.is_match(&none));
    assert!(a.matches(&none).is_err());
}

#[test]
fn call_attrs_from_and_to_json() {
    let call: CallAttrs = serde_json::from_str(
        r#"{"caller": "+19195550100", "campaign": " medicare ",
            "tags": {"geo": "301,us,us-28379,us-nc", "Age": 70, "topic": ["a", "b"],
                     "vip": true, "none": null},
            "at": "ignored"}"#,
    )
    .unwrap();
    assert_eq!(call.caller(), Some("+19195550100"));
    assert_eq!(call.campaign(), Some("medicare"));
    assert_eq!(call.tag("geo"), ["301", "us", "us-28379", "us-nc"]);
    assert_eq!(call.tag("age"), ["70"]);
    assert_eq!(call.tag("topic"), ["a", "b"]);
    assert_eq!(call.tag("vip"), ["true"]);
    assert!(call.tag("none").is_empty());
    let json = serde_json::to_string(&call).unwrap();
    assert_eq!(
        json,
        r#"{"caller":"+19195550100","tags":{"geo":["301","us","us-28379","us-nc"],"age":["70"],"topic":["a","b"],"vip":["true"]},"campaign":"medicare"}"#
    );
    assert_eq!(serde_json::from_str::<CallAttrs>(&json).unwrap(), call);
    let anon: CallAttrs = serde_json::from_str(r#"{"caller": "anonymous"}"#).unwrap();
    assert_eq!(anon, CallAttrs::new());
    assert!(anon.is_empty());
    assert!(serde_json::from_str::<CallAttrs>(r#"{}"#)
        .unwrap()
        .is_empty());
    for bad in [
        r#"{"tags": ["geo"]}"#,
        r#"{"tags": {"geo": {"a": 1}}}"#,
        r#"{"tags": {"geo": [null]}}"#,
        r#"{"caller": ["+1"]}"#,
    ] {
        assert!(serde_json::from_str::<CallAttrs>(bad).is_err(), "{bad}");
    }
}

#[test]
fn tag_arguments() {
    let mut call = CallAttrs::new();
    call.add_tag_arg("geo=301,us,us-nc").unwrap();
    call.add_tag_arg("q=a=b").unwrap();
    call.add_tag_arg("Q=").unwrap();
    assert_eq!(call.tag("geo"), ["301", "us", "us-nc"]);
    assert_eq!(call.tag("q"), ["a=b", ""]);
    for bad in ["geo", "=x", " =x", ""] {
        assert_eq!(
            call.add_tag_arg(bad),
            Err(format!("{bad:?} is not a tag KEY=VALUE (e.g. geo=us-nc)"))
        );
    }
}

#[test]
fn op_names_round_trip() {
    for op in Op::ALL {
        assert_eq!(op.as_str().parse::<Op>(), Ok(op));
        assert_eq!(
            format!(" {} ", op.as_str().to_uppercase()).parse::<Op>(),
            Ok(op)
        );
        assert!(!op.positive().is_not());
        if let Some(twin) = op.twin() {
            assert_eq!(twin.twin(), Some(op));
            assert_ne!(twin.is_not(), op.is_not());
        }
    }
    assert!("eq".parse::<Op>().is_err());
}

// ---- property tests -------------------------------------------------------

/// The uncompiled semantics, written as directly as possible.
fn reference(filter: &Filter, call: &CallAttrs) -> bool {
    filter
        .any_of
        .iter()
        .any(|rule| rule.all_of.iter().all(|cond| reference_holds(cond, call)))
}

/// A number as an integer scaled by 10^6 (the generators stay within that).
fn reference_number(text: &str) -> Option<i128> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) || frac.len() > 6 {
        return None;
    }
    let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac: i128 = format!("{frac:0<6}").parse().ok()?;
    let n = int * 1_000_000 + frac;
    Some(if neg { -n } else { n })
}

fn reference_holds(cond: &Condition, call: &CallAttrs) -> bool {
    let norm = |s: &str| s.trim().to_ascii_lowercase();
    let vals: Vec<String> = call.filter_values(&cond.tag).map(norm).collect();
    let want: Vec<String> = cond.values.iter().map(|v| norm(v)).collect();
    let any_pair =
        |f: &dyn Fn(&str, &str) -> bool| vals.iter().any(|v| want.iter().any(|w| f(v, w)));
    let num_pair = |f: &dyn Fn(i128, i128) -> bool| {
        any_pair(&|v, w| match (reference_number(v), reference_number(w)) {
            (Some(a), Some(b)) => f(a, b),
            _ => false,
        })
    };
    let number = cond.kind == Kind::Number;
    let positive = match cond.op.positive() {
        Op::Exists => vals.iter().any(|v| !v.is_empty()),
        Op::In if number => num_pair(&|a, b| a == b),
        Op::In => any_pair(&|v, w| v == w),
        Op::Contains => any_pair(&|v, w| v.contains(w)),
        Op::StartsWith => any_pair(&|v, w| v.starts_with(w)),
        Op::Gt if number => num_pair(&|a, b| a > b),
        Op::Gte if number => num_pair(&|a, b| a >= b),
        Op::Lt if number => num_pair(&|a, b| a < b),
        Op::Lte if number => num_pair(&|a, b| a <= b),
        Op::Gt => any_pair(&|v, w| v > w),
        Op::Gte => any_pair(&|v, w| v >= w),
        Op::Lt => any_pair(&|v, w| v < w),
        _ => any_pair(&|v, w| v <= w),
    };
    positive ^ cond.op.is_not() ^ cond.negate
}

const KEYS: [&str; 5] = ["geo", " Geo", "age", "caller", "TOPIC"];
const VALUES: [&str; 22] = [
    "us-nc", "US-NC ", "us", "301", "us-28379", "65", "065", "65.0", "-1.5", "+2", ".5", "5.",
    "1e3", "abc", "", " ", "9", "10", "-0", "0.000001", "medicare", "Med",
];

fn condition() -> impl Strategy<Value = Condition> {
    (
        prop::sample::select(&KEYS[..]),
        prop::sample::select(&Op::ALL[..]),
        prop::collection::vec(prop::sample::select(&VALUES[..]), 0..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(tag, op, values, number, negate)| Condition {
            tag: tag.to_string(),
            op,
            values: values.into_iter().map(str::to_string).collect(),
            kind: if number { Kind::Number } else { Kind::String },
            negate,
        })
}

fn filter() -> impl Strategy<Value = Filter> {
    prop::collection::vec(
        prop::collection::vec(condition(), 0..4).prop_map(Rule::all_of),
        0..4,
    )
    .prop_map(Filter::any_of)
}

fn call_attrs() -> impl Strategy<Value = CallAttrs> {
    (
        prop::sample::select(&["", "anonymous", "+19195550100", "65", " US-NC"][..]),
        prop::collection::vec(
            (
                prop::sample::select(&KEYS[..]),
                prop::sample::select(&["us,us-nc,301", "us-tx, 9 ,abc", ""][..]),
                prop::sample::select(&VALUES[..]),
            ),
            0..6,
        ),
    )
        .prop_map(|(caller, tags)| {
            let mut call = CallAttrs::new().with_caller(caller);
            for (key, geo_like, value) in tags {
                let v = if key.trim().eq_ignore_ascii_case("geo") && !geo_like.is_empty() {
                    geo_like
                } else {
                    value
                };
                call.add_tag(key, v);
            }
            call
        })
}

proptest! {
    #[test]
    fn not_x_is_exactly_not_x(cond in condition(), call in call_attrs()) {
        let negated = cond.clone().negated();
        prop_assert_eq!(holds(&negated, &call), !holds(&cond, &call));
        // the twin operator, when there is one, is the same negation
        if let Some(twin) = cond.op.twin() {
            let twin = Condition { op: twin, ..cond.clone() };
            prop_assert_eq!(holds(&twin, &call), !holds(&cond, &call));
        }
        prop_assert_eq!(negated.negated(), cond);
    }

    #[test]
    fn compiled_equals_reference(filter in filter(), call in call_attrs()) {
        let mut keys = FilterTable::new();
        let compiled = keys.compile(&filter);
        let prepared = keys.prepare(&call);
        let expected = reference(&filter, &call);
        match compiled.matches(&prepared) {
            Ok(()) => prop_assert!(expected),
            Err(m) => {
                prop_assert!(!expected);
                // the first failing condition of the first rule
                if let Some(rule) = filter.any_of.first() {
                    let first = rule.all_of.iter().find(|c| !reference_holds(c, &call));
                    prop_assert_eq!(m.condition(), first);
                } else {
                    prop_assert_eq!(m.condition(), None);
                }
            }
        }
    }

    #[test]
    fn keys_shared_across_filters(filters in prop::collection::vec(filter(), 1..5), call in call_attrs()) {
        let mut keys = FilterTable::new();
        let compiled: Vec<_> = filters.iter().map(|f| keys.compile(f)).collect();
        let prepared = keys.prepare(&call);
        for (f, cf) in filters.iter().zip(&compiled) {
            prop_assert_eq!(cf.is_match(&prepared), reference(f, &call));
        }
    }
}

proptest! {
    /// Every owner's verdict from the rows (all owners at once, 64 a word)
    /// is its own filter's, whatever the shape (rows judge at most two
    /// rules of two conditions; others are asked on their own), for owners
    /// without a filter (they take every call) and across word boundaries.
    #[test]
    fn rows_equal_reference(
        filters in prop::collection::vec(prop::option::of(filter()), 0..70),
        calls in prop::collection::vec(call_attrs(), 1..4),
    ) {
        let mut table = FilterTable::new();
        let compiled: Vec<_> = filters.iter().map(|f| f.as_ref().map(|f| table.compile(f))).collect();
        let rows = FilterRows::new(&table, compiled.iter().map(Option::as_ref));
        prop_assert_eq!(rows.len(), filters.len());
        let mut buffers = CallBuffers::default();
        for call in &calls {
            let mut prepared = table.prepare_with(call, buffers);
            rows.refuse(&mut prepared);
            for (i, f) in filters.iter().enumerate() {
                let refused = f.as_ref().is_some_and(|f| !reference(f, call));
                prop_assert_eq!(prepared.refused(i), refused, "owner {}", i);
            }
            prop_assert!(!prepared.refused(filters.len()));
            buffers = prepared.into_buffers();
        }
    }
}

/// Owners sharing an atom in one slot are kept as a bit set when at least
/// one owner in 64 has it, else as a list: both give the same verdicts.
#[test]
fn rows_dense_and_sparse_agree() {
    let geo = |s: &str| Filter::any_of(vec![Rule::all_of(vec![c("geo", Op::In, &[s])])]);
    let mut table = FilterTable::new();
    // 200 owners: "us-nc" on every other one (dense), "us-tx" on one (sparse)
    let filters: Vec<Option<Filter>> = (0..200)
        .map(|i| match i {
            7 => Some(geo("us-tx")),
            i if i % 2 == 0 => Some(geo("us-nc")),
            _ => None,
        })
        .collect();
    let compiled: Vec<_> = filters
        .iter()
        .map(|f| f.as_ref().map(|f| table.compile(f)))
        .collect();
    let rows = FilterRows::new(&table, compiled.iter().map(Option::as_ref));
    for (state, taken_by) in [("us-nc", 0usize), ("us-tx", 7)] {
        let mut call = table.prepare(&CallAttrs::new().with_tag("geo", state));
        rows.refuse(&mut call);
        let refused: Vec<usize> = (0..200).filter(|&i| call.refused(i)).collect();
        let want: Vec<usize> = (0..200)
            .filter(|&i| filters[i].is_some())
            .filter(|&i| match state {
                "us-nc" => i == 7,
                _ => i != 7,
            })
            .collect();
        assert_eq!(refused, want, "call from {state}");
        assert!(!call.refused(taken_by));
    }
}
