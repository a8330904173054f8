//! `docs/config.schema.json` checked by an independent validator (Python's
//! `jsonschema`, Draft 2020-12): every bundled native config passes, a
//! typo'd one fails. `scripts/ci-setup` installs `jsonschema`; without it
//! the test fails under `CI=true` and is skipped loudly elsewhere.

use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");

/// Validates each file named on the command line; prints one line per
/// file: `ok` or the first error's path and message.
const VALIDATE: &str = r#"
import json, sys
from jsonschema import Draft202012Validator, FormatChecker
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema, format_checker=FormatChecker())
for f in sys.argv[2:]:
    errors = sorted(v.iter_errors(json.load(open(f))), key=lambda e: list(e.absolute_path))
    print("ok" if not errors else "error %s: %s" % (errors[0].json_path, errors[0].message))
"#;

fn have_jsonschema() -> bool {
    Command::new("python3")
        .args(["-c", "import jsonschema"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn the_schema_accepts_every_native_example_and_refuses_a_typo() {
    if !have_jsonschema() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 jsonschema is missing: run scripts/ci-setup"
        );
        eprintln!("SKIPPED: python3 jsonschema is missing (run scripts/ci-setup); the schema was not checked");
        return;
    }
    let dir = std::env::temp_dir().join(format!("routecap-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut native = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(format!("{ROOT}examples/native.json")).unwrap(),
    )
    .unwrap();
    native["$schema"] = "../docs/config.schema.json".into();
    let with_schema = dir.join("with-schema.json");
    std::fs::write(&with_schema, native.to_string()).unwrap();
    let caps = native["targets"][0]["caps"].as_object_mut().unwrap();
    let daily = caps.remove("daily").unwrap();
    caps.insert("dialy".into(), daily);
    let typo = dir.join("typo.json");
    std::fs::write(&typo, native.to_string()).unwrap();

    let mut files: Vec<String> = ["native", "attributes", "callers"]
        .iter()
        .map(|f| format!("{ROOT}examples/{f}.json"))
        .collect();
    files.push(with_schema.display().to_string());
    files.push(typo.display().to_string());
    let out = Command::new("python3")
        .args(["-c", VALIDATE, &format!("{ROOT}docs/config.schema.json")])
        .args(&files)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..4], ["ok", "ok", "ok", "ok"], "{text}");
    assert!(lines[4].starts_with("error $.targets[0].caps: "), "{text}");
    assert!(lines[4].contains("'dialy'"), "{text}");
}
