//! The ntfy sink against a fake ntfy server: delivery with priority and tags and nothing to
//! tap, the Bearer token, a 429 retried through the outbox's target pause, a refused token.

use std::sync::Arc;
use std::time::Duration;

use brokerwatch::alert::ntfy::NtfySink;
use brokerwatch::alert::outbox::{Outbox, Sinks};
use brokerwatch::alert::pause::Pauses;
use brokerwatch::alert::sink::Sink;
use brokerwatch::alert::{AlertKind, AlertMessage, DeliveryError};
use brokerwatch::config::secret::SecretSource;
use brokerwatch::config::{NtfyConfig, SinkKind};
use brokerwatch::event::Severity;
use brokerwatch::store::{NewAlert, NewDelivery, Store};
use tokio::sync::Notify;

use crate::util::fakentfy::{FakeNtfy, NtfyFault};

const TOKEN: &str = "tk_fakefakefakefakefakefakefake";

fn config(server: &FakeNtfy, token: &str) -> NtfyConfig {
    NtfyConfig {
        url: server.url(),
        topic: "family-broker-alerts".into(),
        token: Some(SecretSource::Command(format!("printf '%s' '{token}'"))),
        tags: vec!["bank".into()],
    }
}

fn alert(severity: Severity) -> AlertMessage {
    AlertMessage {
        id: 7,
        kind: AlertKind::Unexpected,
        severity,
        title: "SBI証券: 出金指示 ¥1,200,000".into(),
        body: "Links in it go to: sbi-sec[.]example".into(),
        actionable: true,
    }
}

#[tokio::test]
async fn a_critical_alert_is_published_with_priority_5_tags_and_nothing_to_tap() {
    let server = FakeNtfy::start(Some(TOKEN)).await;
    let sink = NtfySink::new(&config(&server, TOKEN)).expect("sink");
    let done = sink.deliver("-", &alert(Severity::Critical)).await;
    assert!(done.expect("delivered").remote_id.is_some());
    let got = server.published();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m["topic"], "family-broker-alerts");
    assert_eq!(m["priority"], 5);
    assert_eq!(m["title"], "SBI証券: 出金指示 ¥1,200,000");
    assert_eq!(m["tags"], serde_json::json!(["rotating_light", "bank"]));
    for field in ["click", "actions", "attach"] {
        assert!(
            m.get(field).is_none(),
            "no `{field}`: nothing from a mail to tap"
        );
    }
    sink.deliver("-", &alert(Severity::Warning)).await.unwrap();
    assert_eq!(server.published()[1]["priority"], 4);
    assert!(sink.check().await.is_ok());
}

#[tokio::test]
async fn a_wrong_token_is_a_configuration_problem_naming_ntfys_error() {
    let server = FakeNtfy::start(Some(TOKEN)).await;
    let sink = NtfySink::new(&config(&server, "tk_wrong")).expect("sink");
    match sink.deliver("-", &alert(Severity::Critical)).await {
        Err(DeliveryError::Config(why)) => {
            assert!(why.contains("401") && why.contains("unauthorized"), "{why}");
            assert!(
                !why.contains("tk_wrong"),
                "the token is never in an error: {why}"
            );
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    assert!(server.published().is_empty());
}

#[tokio::test]
async fn a_429_pauses_the_topic_and_the_alert_goes_once_after_the_pause() {
    let server = FakeNtfy::start(Some(TOKEN)).await;
    server.fail_next(&[NtfyFault::TooManyRequests, NtfyFault::ServerError]);
    let store = Store::open_memory().expect("store");
    let to = NewDelivery {
        sink: SinkKind::Ntfy,
        target: "-".into(),
    };
    for title in ["first", "second"] {
        let a = NewAlert::once(
            AlertKind::Unexpected,
            Severity::Critical,
            title,
            vec![to.clone()],
        );
        store.insert_alert(&a).expect("alert");
    }
    let mut sinks = Sinks::default();
    sinks.insert(Arc::new(
        NtfySink::new(&config(&server, TOKEN)).expect("sink"),
    ));
    let mut outbox = Outbox::new(store.clone(), sinks, Arc::new(Notify::new()));
    outbox.pauses = Pauses::new(Duration::from_millis(100), Duration::from_millis(200));

    outbox.tick().await.expect("tick");
    assert_eq!(
        server.refused(),
        1,
        "one attempt for the topic, not one per alert"
    );
    outbox.tick().await.expect("tick while paused");
    assert_eq!(server.refused(), 1, "paused: nothing sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    outbox.tick().await.expect("probe");
    assert_eq!(server.refused(), 2, "the probe met the 500");
    tokio::time::sleep(Duration::from_millis(300)).await;
    outbox.tick().await.expect("probe");
    outbox.tick().await.expect("drain");
    let titles: Vec<String> = server
        .published()
        .iter()
        .map(|m| m["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(titles.len(), 2, "each alert once: {titles:?}");
    assert!(titles.contains(&"first".into()) && titles.contains(&"second".into()));
    let pending = store.pending_deliveries().expect("pending");
    assert!(pending.is_empty(), "{pending:?}");
}
