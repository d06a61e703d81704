//! The OpenAPI documents (issue 19): each plane serves `/openapi.json` (OpenAPI 3.1) and an
//! interactive reference at `/docs` from the binary. Every route the routers declare is in the
//! document with its method, every documented path is a route, every `$ref` resolves, and the
//! bodies the server really answers fit the schemas the document names.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::common::*;

/// `(path, method)` of every `.route("…", method(…))` in a router's source.
fn declared_routes(source: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut rest = source;
    while let Some(i) = rest.find(".route(") {
        rest = &rest[i + ".route(".len()..];
        let open = rest.find('"').unwrap();
        let close = open + 1 + rest[open + 1..].find('"').unwrap();
        let path = &rest[open + 1..close];
        let after = rest[close + 1..].trim_start_matches([',', ' ', '\n']);
        let method: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        assert!(
            ["get", "post", "patch", "put", "delete"].contains(&method.as_str()),
            "cannot read the method of {path}: {after:.40}"
        );
        out.insert((path.to_string(), method));
    }
    out
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_some() {
                out.insert((path.clone(), method.to_string()));
            }
        }
    }
    out
}

/// Every `$ref` in `v`, as written.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn check_document(doc: &Value, source: &str, plane: &str) {
    assert_eq!(doc["openapi"], "3.1.0", "{plane}");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let declared = declared_routes(source);
    assert!(declared.len() > 20, "{plane}: read only {declared:?}");
    let documented = documented_routes(doc);
    let missing: Vec<_> = declared.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "{plane}: routes without a document entry: {missing:?}"
    );
    let stale: Vec<_> = documented.difference(&declared).collect();
    assert!(
        stale.is_empty(),
        "{plane}: documented but not routes: {stale:?}"
    );
    // Operation ids are unique; each operation answers something and has a tag.
    let mut ids = BTreeSet::new();
    for (path, method) in &documented {
        let op = &doc["paths"][path][method];
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} has no id"));
        assert!(
            ids.insert(id.to_string()),
            "{plane}: operation id {id} twice"
        );
        assert!(!op["responses"].as_object().unwrap().is_empty(), "{path}");
        assert!(
            op["tags"][0].is_string(),
            "{plane}: {method} {path} has no tag"
        );
        // Path parameters are declared.
        for seg in path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(['{', '}']);
            let declared = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
            assert!(declared, "{plane}: {method} {path} does not declare {name}");
        }
    }
    let mut all = Vec::new();
    refs(doc, &mut all);
    assert!(all.len() > 30, "{plane}: {} refs", all.len());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{plane}: unexpected $ref {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{plane}: $ref {r} does not resolve"
        );
    }
}

/// The schema a response of `method path` with `status` names, resolved.
fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]
        ["application/json"]["schema"];
    let r = schema["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{method} {path} {status}: no schema ref in {schema}"));
    &doc["components"]["schemas"][r.rsplit('/').next().unwrap()]
}

/// Every field of `body` is a property of `schema`, and every required property is there.
fn fits(body: &Value, schema: &Value, what: &str) {
    let props = schema["properties"].as_object().unwrap();
    for key in body.as_object().unwrap().keys() {
        assert!(
            props.contains_key(key),
            "{what}: `{key}` is not in the schema"
        );
    }
    for req in schema["required"].as_array().into_iter().flatten() {
        let req = req.as_str().unwrap();
        assert!(
            body.get(req).is_some(),
            "{what}: required `{req}` is missing"
        );
    }
}

async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let resp = http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn both_planes_document_every_route_and_serve_a_reference_offline() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let exp_doc = get_json(&t.http, &format!("{}/openapi.json", t.exp)).await;
    let rt_doc = get_json(&t.http, &format!("{}/openapi.json", t.base)).await;
    check_document(
        &exp_doc,
        include_str!("../../src/experience/mod.rs"),
        "experience",
    );
    check_document(
        &rt_doc,
        include_str!("../../src/runtime/wire/server/mod.rs"),
        "runtime",
    );
    assert_eq!(exp_doc["info"]["title"], "Symphainy Experience API");
    assert_eq!(rt_doc["info"]["title"], "Symphainy Runtime API");
    // Runtime routes need the service token; the probes do not.
    assert_eq!(
        rt_doc["paths"]["/api/intent/submit"]["post"]["security"],
        json!([{"service_token": []}])
    );
    assert!(rt_doc["paths"]["/livez"]["get"]["security"].is_null());
    assert_eq!(
        rt_doc["components"]["securitySchemes"]["service_token"]["scheme"],
        "bearer"
    );
    // An alias is the same operation under its own id.
    assert_eq!(
        exp_doc["paths"]["/v1/content/upload"]["post"]["operationId"],
        "upload_v1"
    );
    assert_eq!(
        exp_doc["paths"]["/v1/content/upload"]["post"]["requestBody"],
        exp_doc["paths"]["/api/v1/content/upload"]["post"]["requestBody"]
    );
    // A store enum is documented by its wire values.
    assert_eq!(
        exp_doc["components"]["schemas"]["ExecutionState"]["enum"],
        json!([
            "pending",
            "awaiting_approval",
            "running",
            "completed",
            "failed",
            "cancelled"
        ])
    );

    // The reference: Swagger UI from the binary, pointed at this plane's document.
    for base in [&t.exp, &t.base] {
        let resp = t.http.get(format!("{base}/docs/")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let page = resp.text().await.unwrap();
        assert!(page.contains("swagger-ui"), "{page:.300}");
        for asset in [
            "swagger-ui-bundle.js",
            "swagger-ui.css",
            "swagger-initializer.js",
        ] {
            assert!(page.contains(asset), "{asset} not in the page");
            let resp = t
                .http
                .get(format!("{base}/docs/{asset}"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{base}/docs/{asset}");
            let text = resp.text().await.unwrap();
            assert!(text.len() > 100, "{asset}: {} bytes", text.len());
            if asset == "swagger-initializer.js" {
                assert!(text.contains("/openapi.json"), "{text}");
                assert!(
                    !text.contains("https://"),
                    "the reference fetches nothing outside"
                );
            }
        }
        for outside in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
            assert!(!page.contains(outside), "the page loads {outside}…");
        }
    }
    t.app.shutdown().await;
    db.cleanup().await;
}

#[tokio::test]
async fn the_bodies_answered_fit_the_documented_schemas() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let doc = get_json(&t.http, &format!("{}/openapi.json", t.exp)).await;
    let schema =
        |path: &str, method: &str, status: u16| response_schema(&doc, path, method, status);

    // Register: 201 and the AuthResponse (with its nested user).
    let resp = t
        .http
        .post(format!("{}/api/auth/register", t.exp))
        .json(&json!({"name": "Ada", "email": "ada@example.com", "password": "correct horse 9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let auth: Value = resp.json().await.unwrap();
    let auth_schema = schema("/api/auth/register", "post", 201);
    fits(&auth, auth_schema, "AuthResponse");
    let user_ref = auth_schema["properties"]["user"]["$ref"].as_str().unwrap();
    let user_schema = &doc["components"]["schemas"][user_ref.rsplit('/').next().unwrap()];
    fits(&auth["user"], user_schema, "User");
    let token = auth["access_token"].as_str().unwrap();
    let session = auth["session_id"].as_str().unwrap();

    // Submit and status.
    let resp = t
        .http
        .post(format!("{}/api/intent/submit", t.exp))
        .bearer_auth(token)
        .json(&json!({"intent_type": "echo", "session_id": session,
            "parameters": {"message": "hi"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let accepted: Value = resp.json().await.unwrap();
    fits(
        &accepted,
        schema("/api/intent/submit", "post", 202),
        "IntentAccepted",
    );
    let eid = accepted["execution_id"].as_str().unwrap();
    let status = eventually(std::time::Duration::from_secs(20), || async {
        let resp = t
            .http
            .get(format!("{}/api/execution/{eid}/status", t.exp))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let v: Value = resp.json().await.unwrap();
        terminal(v)
    })
    .await;
    let status_schema = schema("/api/execution/{id}/status", "get", 200);
    fits(&status, status_schema, "ExecutionStatus");
    let step_ref = status_schema["properties"]["steps"]["items"]["$ref"]
        .as_str()
        .unwrap();
    let step_schema = &doc["components"]["schemas"][step_ref.rsplit('/').next().unwrap()];
    fits(&status["steps"][0], step_schema, "StepStatus");

    // The list of executions.
    let resp = t
        .http
        .get(format!("{}/api/executions", t.exp))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let page: Value = resp.json().await.unwrap();
    fits(
        &page,
        schema("/api/executions", "get", 200),
        "ExecutionPage",
    );
    let summary = &doc["components"]["schemas"]["ExecutionSummary"];
    fits(&page["executions"][0], summary, "ExecutionSummary");

    // An error: the documented error body.
    let resp = t
        .http
        .post(format!("{}/api/auth/login", t.exp))
        .json(&json!({"email": "ada@example.com", "password": "wrong password 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let err: Value = resp.json().await.unwrap();
    fits(&err, schema("/api/auth/login", "post", 401), "ErrorBody");
    let required: BTreeMap<&str, ()> = doc["components"]["schemas"]["ErrorBody"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v.as_str().unwrap(), ()))
        .collect();
    assert_eq!(
        required.keys().copied().collect::<Vec<_>>(),
        vec!["detail", "error", "message", "success"]
    );
    t.app.shutdown().await;
    db.cleanup().await;
}
