//! Runs every `conformance/scenarios/*.json` through the proxy and the TLS fixture.

use std::path::Path;

use agentlog_core::schema::SchemaProfile;
use agentlog_intercept::Profile;
use agentlog_testkit::{ProxyOptions, TlsFixture, start_proxy};
use serde_json::Value;

fn expand(text: &str, placeholders: &[(String, String)]) -> String {
    let mut out = text.to_owned();
    for (name, ph) in placeholders {
        out = out.replace(&format!("${{{name}}}"), ph);
    }
    out
}

/// Every key of `expected` equals the same key of `actual` (objects recursively).
fn subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| subset(v, av))),
        _ => expected == actual,
    }
}

async fn run_scenario(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let s: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let strings = |key: &str| -> Vec<String> {
        s[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let placeholders: Vec<(String, String)> = s["placeholders"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let fixture = TlsFixture::start().await.unwrap();
    // `${ROUTE_TARGET}` is a second, plain-HTTP upstream that routes may send requests to.
    let route_target = agentlog_testkit::mocks::plain_upstream().await;
    let mut placeholders = placeholders;
    placeholders.push(("ROUTE_TARGET".into(), route_target.address().to_string()));
    let profile = match s["profile"].as_str() {
        Some("v1") => Profile::V1,
        None | Some("v0") => Profile::V0,
        Some(other) => panic!("{name}: unknown profile {other}"),
    };
    let budget = s["budget_usd"]
        .as_f64()
        .map(|limit| std::sync::Arc::new(agentlog_intercept::Budget::new(limit, 0.8, (0.0, 0))));
    let options = ProxyOptions::default()
        .with_budget(budget)
        .with_secrets(strings("secrets"))
        .with_placeholders(placeholders[..placeholders.len() - 1].to_vec())
        .with_llm_hosts(strings("llm_hosts"))
        .with_profile(profile)
        .with_allow_hosts(strings("allow_hosts"))
        .with_routes(
            strings("routes")
                .iter()
                .map(|r| expand(r, &placeholders))
                .collect(),
        );
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let client = proxy.client().unwrap();
    for (i, req) in s["requests"].as_array().unwrap().iter().enumerate() {
        let url = expand(req["url"].as_str().unwrap(), &placeholders);
        let method =
            reqwest::Method::from_bytes(req["method"].as_str().unwrap().as_bytes()).unwrap();
        let mut builder = client.request(method, url);
        if let Some(headers) = req["headers"].as_object() {
            for (k, v) in headers {
                builder = builder.header(k, expand(v.as_str().unwrap(), &placeholders));
            }
        }
        if !req["body"].is_null() {
            builder = builder
                .header("content-type", "application/json")
                .body(expand(&req["body"].to_string(), &placeholders));
        }
        let resp = builder.send().await.unwrap();
        assert_eq!(
            resp.status().as_u16() as u64,
            req["expect_status"].as_u64().unwrap(),
            "{name} request {i}"
        );
        let body = resp.text().await.unwrap();
        if let Some(expected) = req["expect_body"].as_str() {
            assert_eq!(body, expected, "{name} request {i}");
        }
    }
    let received = fixture.mock().received_requests().await.unwrap();
    check_received(&name, "upstream", &s["expect_upstream"], &received);
    let routed = route_target.received_requests().await.unwrap();
    check_received(&name, "route target", &s["expect_route_target"], &routed);
    let expected_events: Vec<Value> = s["expect_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(&expand(&e.to_string(), &placeholders)).unwrap())
        .collect();
    proxy
        .wait_events(expected_events.len())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    // Every response was read to its end above: after shutdown no event may follow, so the
    // count below is final.
    let events: Vec<Value> = proxy
        .shutdown()
        .await
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(&e.to_json().unwrap()).unwrap())
        .collect();
    assert_eq!(
        events.len(),
        expected_events.len(),
        "{name}: event count: {events:#?}"
    );
    let schema = match profile {
        Profile::V1 => SchemaProfile::V1,
        _ => SchemaProfile::V0,
    };
    let validator = schema.envelope().unwrap();
    for (i, (exp, got)) in expected_events.iter().zip(&events).enumerate() {
        assert!(
            subset(exp, got),
            "{name} event {i}: expected {exp} got {got}"
        );
        assert!(
            validator.is_valid(got),
            "{name} event {i} invalid under {}: {got}",
            schema.name()
        );
    }
    // Secret values never reach the log.
    for spec in strings("secrets") {
        let value = spec
            .split_once('=')
            .map(|(_, v)| v.rsplit_once('@').map_or(v, |(v, _)| v))
            .unwrap();
        assert!(
            !events.iter().any(|e| e.to_string().contains(value)),
            "{name}: secret in log"
        );
    }
}

/// The requests `received` are those `expected` lists, in order (`path`, `query`, a subset of
/// `headers`); an absent list means nothing may arrive.
fn check_received(name: &str, label: &str, expected: &Value, received: &[wiremock::Request]) {
    let empty = Vec::new();
    let expected = expected.as_array().unwrap_or(&empty);
    assert_eq!(
        received.len(),
        expected.len(),
        "{name}: {label} request count"
    );
    for (i, (exp, got)) in expected.iter().zip(received).enumerate() {
        if let Some(p) = exp["path"].as_str() {
            assert_eq!(got.url.path(), p, "{name} {label} {i}");
        }
        if let Some(q) = exp["query"].as_str() {
            assert_eq!(got.url.query(), Some(q), "{name} {label} {i}");
        }
        if let Some(h) = exp["headers"].as_object() {
            for (k, v) in h {
                let got_v = got
                    .headers
                    .get(k.as_str())
                    .map(|x| x.to_str().unwrap_or_default());
                assert_eq!(got_v, v.as_str(), "{name} {label} {i} header {k}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_scenarios() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "scenarios missing");
    for file in files {
        run_scenario(&file).await;
    }
}
