//! The Pushover sink against a fake Pushover API: emergency priority with `retry`/`expire` for
//! critical alerts, 1 for warnings, 0 for info; refused tokens and keys are configuration
//! problems that never quote a secret; 429, 500 and a dropped connection are retried; an
//! acknowledgement in the Pushover app acknowledges the alert — through the responder, as
//! Telegram's /ack — with the person's name and device, and its repeats stop; an alert
//! acknowledged elsewhere cancels the receipt's retries.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use brokerwatch::alert::outbox::{Outbox, Sinks};
use brokerwatch::alert::pushover::PushoverSink;
use brokerwatch::alert::raise::{Draft, plan};
use brokerwatch::alert::sink::Sink;
use brokerwatch::alert::{AlertKind, AlertMessage, DeliveryError, Response};
use brokerwatch::config::live::Live;
use brokerwatch::config::{Config, SinkKind};
use brokerwatch::daemon::respond::Responder;
use brokerwatch::event::Severity;
use brokerwatch::rules::RuleSet;
use brokerwatch::store::{Store, now};
use tokio::sync::{Notify, mpsc};

use crate::util::fakepushover::{FakePushover, HANAKO, PushoverFault, TARO, TOKEN};

fn config(server: &FakePushover, token: &str, hanako: &str) -> Config {
    let secret = |v: &str| format!("{{command: \"printf '%s' '{v}'\"}}");
    let yaml = format!(
        "state_dir: state\n\
         sinks:\n  console: false\n  desktop: {{enabled: false}}\n  \
         pushover:\n    token: {token}\n    users:\n      - {{key: {h}, name: Hanako}}\n      \
         - {{key: {t}, name: Taro}}\n    retry: 45s\n    expire: 2h\n    receipt_poll: 5s\n    \
         api_url: '{url}'\n\
         escalation:\n  critical: {{sinks: [pushover], repeat: 1m}}\n",
        token = secret(token),
        h = secret(hanako),
        t = secret(TARO),
        url = server.url(),
    );
    brokerwatch::config::load_str(&yaml, "pushover.yaml", Path::new("/")).expect("config")
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
async fn priority_follows_severity_and_critical_is_an_emergency_with_retry_and_expire() {
    let server = FakePushover::start().await;
    let cfg = config(&server, TOKEN, HANAKO);
    let sink = PushoverSink::new(cfg.sinks.pushover.as_ref().unwrap()).expect("sink");
    assert_eq!(sink.targets(), ["Hanako", "Taro"], "names, never keys");

    let done = sink
        .deliver("Hanako", &alert(Severity::Critical))
        .await
        .expect("sent");
    let receipt = done.remote_id.expect("an emergency returns a receipt");
    assert_eq!(server.receipts(), [(receipt, HANAKO.to_string())]);
    sink.deliver("Taro", &alert(Severity::Warning))
        .await
        .expect("sent");
    let info = sink
        .deliver("Taro", &alert(Severity::Info))
        .await
        .expect("sent");
    assert_eq!(info.remote_id, None);

    let m = server.messages();
    assert_eq!(m.len(), 3);
    let field = |i: usize, k: &str| m[i].get(k).cloned();
    assert_eq!(field(0, "token").as_deref(), Some(TOKEN));
    assert_eq!(field(0, "user").as_deref(), Some(HANAKO));
    assert_eq!(field(0, "priority").as_deref(), Some("2"));
    assert_eq!(field(0, "retry").as_deref(), Some("45"));
    assert_eq!(field(0, "expire").as_deref(), Some("7200"));
    assert_eq!(
        field(0, "title").as_deref(),
        Some("SBI証券: 出金指示 ¥1,200,000")
    );
    assert_eq!(
        field(0, "message").as_deref(),
        Some("Links in it go to: sbi-sec[.]example")
    );
    assert_eq!(field(1, "user").as_deref(), Some(TARO));
    assert_eq!(field(1, "priority").as_deref(), Some("1"));
    assert_eq!(field(1, "retry"), None);
    assert_eq!(field(2, "priority").as_deref(), Some("0"));
    for key in ["url", "url_title", "attachment"] {
        assert!(
            m.iter().all(|f| !f.contains_key(key)),
            "nothing from a mail to tap: {key}"
        );
    }
    let check = sink.check().await.expect("check");
    assert!(
        check.contains("Hanako") && check.contains("Taro"),
        "{check}"
    );
    assert!(!check.contains(HANAKO), "{check}");
}

#[tokio::test]
async fn refusals_are_configuration_problems_and_429_500_and_drops_are_retried() {
    let server = FakePushover::start().await;
    let wrong = "aWrongTokenWrongTokenWrongToke";
    let sink = PushoverSink::new(
        config(&server, wrong, HANAKO)
            .sinks
            .pushover
            .as_ref()
            .unwrap(),
    )
    .expect("sink");
    match sink.deliver("Hanako", &alert(Severity::Critical)).await {
        Err(DeliveryError::Config(why)) => {
            assert!(
                why.contains("400") && why.contains("application token is invalid"),
                "{why}"
            );
            assert!(!why.contains(wrong));
        }
        other => panic!("expected a configuration problem, got {other:?}"),
    }
    let unknown = "uUnknownUserUnknownUserUnknown";
    let sink = PushoverSink::new(
        config(&server, TOKEN, unknown)
            .sinks
            .pushover
            .as_ref()
            .unwrap(),
    )
    .expect("sink");
    match sink.deliver("Hanako", &alert(Severity::Critical)).await {
        Err(DeliveryError::Config(why)) => {
            assert!(why.contains("user identifier is not a valid user"), "{why}");
            assert!(!why.contains(unknown));
        }
        other => panic!("expected a configuration problem, got {other:?}"),
    }
    assert!(matches!(
        sink.deliver("Nobody", &alert(Severity::Critical)).await,
        Err(DeliveryError::Config(_))
    ));

    let sink = PushoverSink::new(
        config(&server, TOKEN, HANAKO)
            .sinks
            .pushover
            .as_ref()
            .unwrap(),
    )
    .expect("sink");
    server.fail_next(&[PushoverFault::TooManyRequests, PushoverFault::ServerError]);
    for want in ["429", "500"] {
        match sink.deliver("Taro", &alert(Severity::Warning)).await {
            Err(DeliveryError::Retry { reason, .. }) => assert!(reason.contains(want), "{reason}"),
            other => panic!("expected a retry for {want}, got {other:?}"),
        }
    }
    server.drop_next(1);
    assert!(matches!(
        sink.deliver("Taro", &alert(Severity::Warning)).await,
        Err(DeliveryError::Retry { .. })
    ));
    sink.deliver("Taro", &alert(Severity::Warning))
        .await
        .expect("then it goes");
    assert_eq!(server.messages().len(), 1);
}

/// The responder, as the daemon runs it: every answer from any sink goes through it.
fn responder(cfg: &Config, store: &Store) -> Responder {
    Responder {
        store: store.clone(),
        live: Live::new(Arc::new(cfg.clone()), Arc::new(RuleSet::default())),
    }
}

#[tokio::test]
async fn an_acknowledgement_in_the_app_acknowledges_the_alert_with_the_name_and_repeats_stop() {
    let server = FakePushover::start().await;
    let cfg = config(&server, TOKEN, HANAKO);
    let store = Store::open_memory().expect("store");
    let (tx, mut rx) = mpsc::channel::<Response>(4);
    let (sinks, _) = Sinks::from_config(&cfg, tx);
    let outbox = Outbox::new(store.clone(), sinks, Arc::new(Notify::new()));
    let draft = Draft {
        account: None,
        kind: AlertKind::Unexpected,
        severity: Severity::Critical,
        broker: Some("sbi".into()),
        event: Some("withdrawal".into()),
        title: "SBI証券: 出金指示".into(),
        body: "出金金額: ¥1,200,000".into(),
        actionable: true,
        only: None,
    };
    let id = store.insert_alert(&plan(&cfg, draft)).expect("alert");
    outbox.tick().await.expect("first round");
    let receipts = server.receipts();
    assert_eq!(receipts.len(), 2, "one emergency per person: {receipts:?}");
    let sink = outbox.sinks.get(SinkKind::Pushover).expect("sink").clone();

    assert_eq!(sink.poll().await, Some(Duration::from_secs(5)));
    assert!(rx.try_recv().is_err(), "nobody acknowledged yet");
    let taro = receipts.iter().find(|(_, u)| u == TARO).unwrap().0.clone();
    server.acknowledge(&taro, TARO, "pixel8");
    sink.poll().await;
    let ack = rx.try_recv().expect("the acknowledgement");
    let reply = responder(&cfg, &store).handle(&ack).expect("handled");
    assert!(reply.contains("Taro (Pushover, pixel8)"), "{reply}");
    let a = store.alert(id).unwrap().unwrap();
    assert!(a.acked_at.is_some());
    assert_eq!(a.acked_by.as_deref(), Some("Taro (Pushover, pixel8)"));

    // Repeats stop for everyone; Hanako's phone stops ringing.
    store.start_due_repeats(now() + 3600).expect("repeats");
    outbox.tick().await.expect("tick");
    assert_eq!(
        server.messages().len(),
        2,
        "no repeat after the acknowledgement"
    );
    sink.poll().await;
    assert!(rx.try_recv().is_err(), "acknowledged once");
    let hanako = receipts
        .iter()
        .find(|(_, u)| u == HANAKO)
        .unwrap()
        .0
        .clone();
    assert!(
        server.cancelled(&hanako),
        "the other emergency is cancelled"
    );
    assert_eq!(server.polls(&taro).len(), 2);
    sink.poll().await;
    assert_eq!(
        server.polls(&taro).len(),
        2,
        "a settled receipt is not asked about again"
    );
}
