//! The webhook sink against a receiver that checks the HMAC-SHA256 signature: delivery, a
//! wrong secret (a configuration problem), a 429 whose Retry-After the outbox honours.

use std::sync::Arc;
use std::time::{Duration, Instant};

use brokerwatch::alert::outbox::{Outbox, Sinks};
use brokerwatch::alert::sink::Sink;
use brokerwatch::alert::webhook::WebhookSink;
use brokerwatch::alert::{AlertKind, AlertMessage, DeliveryError};
use brokerwatch::config::secret::SecretSource;
use brokerwatch::config::{SinkKind, WebhookConfig};
use brokerwatch::event::Severity;
use brokerwatch::store::{NewAlert, NewDelivery, Store};
use tokio::sync::Notify;

use crate::util::fakehook::FakeHook;

const SECRET: &str = "hook-5ecret-shared-with-the-receiver";

fn sink(hook: &FakeHook, secret: &str) -> WebhookSink {
    WebhookSink::new(&WebhookConfig {
        url: hook.url(),
        secret: SecretSource::Command(format!("printf '%s' '{secret}'")),
    })
    .expect("sink")
}

fn alert() -> AlertMessage {
    AlertMessage {
        id: 9,
        kind: AlertKind::Takeover,
        severity: Severity::Critical,
        title: "Possible account takeover at 楽天証券".into(),
        body: "1. login\n2. email_change".into(),
        actionable: true,
    }
}

#[tokio::test]
async fn an_alert_is_posted_as_json_with_a_signature_the_receiver_accepts() {
    let hook = FakeHook::start(SECRET).await;
    sink(&hook, SECRET)
        .deliver("-", &alert())
        .await
        .expect("delivered");
    let got = hook.accepted();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["id"], 9);
    assert_eq!(got[0]["kind"], "takeover");
    assert_eq!(got[0]["severity"], "critical");
    assert_eq!(got[0]["title"], "Possible account takeover at 楽天証券");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_reported_as_configuration() {
    let hook = FakeHook::start(SECRET).await;
    let r = sink(&hook, "not-the-secret").deliver("-", &alert()).await;
    assert!(
        matches!(r, Err(DeliveryError::Config(ref why)) if why.contains("401")),
        "{r:?}"
    );
    assert!(hook.accepted().is_empty());
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_delivers_once() {
    let hook = FakeHook::start(SECRET).await;
    hook.too_many_next(1);
    let store = Store::open_memory().expect("store");
    let to = vec![NewDelivery {
        sink: SinkKind::Webhook,
        target: "-".into(),
    }];
    store
        .insert_alert(&NewAlert::once(
            AlertKind::Unexpected,
            Severity::Critical,
            "t",
            to,
        ))
        .expect("alert");
    let mut sinks = Sinks::default();
    sinks.insert(Arc::new(sink(&hook, SECRET)));
    let outbox = Outbox::new(store.clone(), sinks, Arc::new(Notify::new()));
    let start = Instant::now();
    outbox.tick().await.expect("tick");
    assert_eq!((hook.refused(), hook.accepted().len()), (1, 0));
    while hook.accepted().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(5), "never retried");
        tokio::time::sleep(Duration::from_millis(100)).await;
        outbox.tick().await.expect("tick");
    }
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "Retry-After honoured"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    outbox.tick().await.expect("tick");
    assert_eq!(hook.accepted().len(), 1, "delivered once");
}
