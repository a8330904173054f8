//! `docs/openapi.json` against the real service: every endpoint's real
//! answers (successes and errors) validate against the schema the document
//! gives for that path, method and status.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::serve_support::*;

fn openapi() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("docs/openapi.json")).expect("JSON")
}

/// The schema the document gives for an answer, with the components beside
/// it so that `$ref`s resolve.
fn answer_schema(doc: &Value, path: &str, method: &str, status: u16) -> Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not in the document");
    let mut resp = &op["responses"][status.to_string()];
    assert!(
        resp.is_object(),
        "{method} {path} {status} is not in the document"
    );
    if let Some(r) = resp["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/responses/");
        resp = &doc["components"]["responses"][name];
    }
    let schema = resp["content"]["application/json"]["schema"].clone();
    assert!(
        schema.is_object(),
        "{method} {path} {status} has no JSON schema"
    );
    let mut root = schema.as_object().unwrap().clone();
    root.insert("components".into(), doc["components"].clone());
    Value::Object(root)
}

struct Checker {
    doc: Value,
    seen: BTreeSet<(String, String)>,
}

impl Checker {
    fn check(&mut self, path: &str, method: &str, status: u16, body: &str) {
        let schema = answer_schema(&self.doc, path, method, status);
        let validator = jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("schema of {method} {path} {status}: {e}"));
        let v = parse(body);
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: {body}\ndoes not fit the document: {errors:?}"
        );
        self.seen.insert((method.to_string(), path.to_string()));
    }
}

#[test]
fn every_endpoint_answers_as_the_openapi_document_says() {
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    let server = TestServer::memory(CONFIG);
    let agent = agent();
    let mut c = Checker {
        doc: doc.clone(),
        seen: BTreeSet::new(),
    };
    let url = |p: &str| format!("{}{p}", server.base);
    let call = |c: &mut Checker,
                method: &str,
                doc_path: &str,
                path: &str,
                body: Option<Value>,
                want: u16| {
        let text_body = body.map(|b| b.to_string());
        let (s, t) = send(&agent, method, &url(path), text_body.as_deref());
        assert_eq!(s, want, "{method} {path}: {t}");
        c.check(doc_path, &method.to_lowercase(), s, &t);
    };
    call(
        &mut c,
        "POST",
        "/v1/route",
        "/v1/route",
        Some(json!({"call": "c1", "at": AT, "seed": 3, "tags": {"geo": "us-nc"}})),
        200,
    );
    call(
        &mut c,
        "POST",
        "/v1/route",
        "/v1/route",
        Some(json!({"at": AT})),
        400,
    );
    call(
        &mut c,
        "POST",
        "/v1/route",
        "/v1/route",
        Some(json!({"call": "c", "campaign": "nope"})),
        404,
    );
    call(
        &mut c,
        "POST",
        "/v1/connect",
        "/v1/connect",
        Some(json!({"call": "c1", "target": "a", "at": AT})),
        200,
    );
    call(
        &mut c,
        "POST",
        "/v1/connect",
        "/v1/connect",
        Some(json!({"call": "c2", "target": "a", "at": AT})),
        200,
    );
    call(
        &mut c,
        "POST",
        "/v1/connect",
        "/v1/connect",
        Some(json!({"call": "c1", "target": "a", "at": AT})),
        409,
    );
    call(
        &mut c,
        "POST",
        "/v1/connect",
        "/v1/connect",
        Some(json!({"call": "c1", "target": "nope", "at": AT})),
        404,
    );
    call(
        &mut c,
        "POST",
        "/v1/reserve",
        "/v1/reserve",
        Some(json!({"call": "r1", "target": "c", "ttl": 30, "at": AT})),
        200,
    );
    call(
        &mut c,
        "POST",
        "/v1/reserve",
        "/v1/reserve",
        Some(json!({"call": "r2", "target": "a", "ttl": 30, "at": AT})),
        200,
    );
    call(
        &mut c,
        "POST",
        "/v1/cancel",
        "/v1/cancel",
        Some(json!({"call": "r1", "at": AT})),
        200,
    );
    call(
        &mut c,
        "POST",
        "/v1/cancel",
        "/v1/cancel",
        Some(json!({"call": "c1", "at": AT})),
        409,
    );
    call(
        &mut c,
        "POST",
        "/v1/touch",
        "/v1/touch",
        Some(json!({"call": "c1", "at": AT})),
        200,
    );
    call(
        &mut c,
        "POST",
        "/v1/convert",
        "/v1/convert",
        Some(json!({"call": "c1", "revenue": 12.5, "at": AT})),
        200,
    );
    call(
        &mut c,
        "POST",
        "/v1/convert",
        "/v1/convert",
        Some(json!({"call": "c1", "revenue": "1", "at": AT})),
        409,
    );
    call(
        &mut c,
        "POST",
        "/v1/end",
        "/v1/end",
        Some(json!({"call": "c1", "at": AT})),
        200,
    );
    call(
        &mut c,
        "POST",
        "/v1/end",
        "/v1/end",
        Some(json!({"call": "zz", "at": AT})),
        404,
    );
    call(
        &mut c,
        "GET",
        "/v1/check",
        &format!("/v1/check?at={AT}&tag=geo%3Dus-nc&caller=%2B15550001"),
        None,
        200,
    );
    call(
        &mut c,
        "GET",
        "/v1/check",
        "/v1/check?at=2026-11-23T15:00:00Z&campaign=nope",
        None,
        404,
    );
    call(&mut c, "GET", "/v1/check", "/v1/check?when=now", None, 400);
    call(
        &mut c,
        "GET",
        "/v1/usage",
        &format!("/v1/usage?at={AT}"),
        None,
        200,
    );
    call(&mut c, "GET", "/v1/usage", "/v1/usage?at=soon", None, 400);
    call(
        &mut c,
        "PATCH",
        "/v1/targets/{id}",
        "/v1/targets/a",
        Some(json!({"caps": {"daily": 10}})),
        200,
    );
    call(
        &mut c,
        "PATCH",
        "/v1/targets/{id}",
        "/v1/targets/nope",
        Some(json!({"paused": true})),
        404,
    );
    call(
        &mut c,
        "PATCH",
        "/v1/groups/{id}",
        "/v1/groups/g",
        Some(json!({"caps": {"daily": 9}})),
        200,
    );
    call(
        &mut c,
        "PATCH",
        "/v1/groups/{id}",
        "/v1/groups/g",
        Some(json!({"caps": {"daily": "x"}})),
        400,
    );
    call(
        &mut c,
        "PUT",
        "/v1/config",
        "/v1/config",
        Some(json!({"targets": [{"id": "a"}]})),
        200,
    );
    call(
        &mut c,
        "PUT",
        "/v1/config",
        "/v1/config",
        Some(json!({"nothing": true})),
        400,
    );
    call(&mut c, "GET", "/healthz", "/healthz", None, 200);
    call(&mut c, "GET", "/v1/config", "/v1/config", None, 200);
    call(&mut c, "GET", "/openapi.json", "/openapi.json", None, 200);
    let (s, t) = send(&agent, "GET", &url("/metrics"), None);
    assert_eq!(s, 200);
    assert!(
        t.contains("# TYPE routecap_http_requests_total counter"),
        "{t}"
    );
    c.seen.insert(("get".into(), "/metrics".into()));
    // every operation of the document was exercised
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    assert_eq!(c.seen, documented);
}

#[test]
fn the_error_schema_rejects_what_is_not_the_error_shape() {
    // the check above could pass on a schema that accepts anything
    let doc = openapi();
    let schema = answer_schema(&doc, "/v1/end", "post", 404);
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(v.is_valid(&json!({"error": "unknown call \"x\"", "path": "call"})));
    assert!(!v.is_valid(&json!({"message": "x"})));
    assert!(!v.is_valid(&json!({"error": ""})));
    let schema = answer_schema(&doc, "/v1/route", "post", 200);
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(
        !v.is_valid(&json!({"at": AT, "seed": 1, "plan": [{"x": 1}], "rejected": [], "call": "c"}))
    );
}

#[test]
fn the_service_serves_the_document_in_docs() {
    let server = TestServer::memory(CONFIG);
    let (status, served) = get(&agent(), &format!("{}/openapi.json", server.base));
    assert_eq!(status, 200);
    assert_eq!(
        served,
        openapi(),
        "GET /openapi.json differs from docs/openapi.json"
    );
}
