//! The LINE sink against a fake Messaging API: a push with the channel token, the retry key and
//! the alert's text; a retry of the same delivery with the same `X-Line-Retry-Key` (a lost
//! answer met by a 409 counts as delivered, once); a 429 or a spent monthly budget moves the
//! alert to the next sink of its severity with nothing lost; repeats spend the budget only on
//! critical alerts; `doctor`'s check shows LINE's own quota.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use brokerwatch::alert::line::{LineSink, MAX_TEXT_UTF16, month_key, sent_this_month};
use brokerwatch::alert::outbox::{Outbox, Sinks};
use brokerwatch::alert::pause::Pauses;
use brokerwatch::alert::raise::{Draft, plan};
use brokerwatch::alert::sink::Sink;
use brokerwatch::alert::{AlertKind, AlertMessage};
use brokerwatch::config::{Config, SinkKind};
use brokerwatch::event::Severity;
use brokerwatch::store::{NewAlert, NewDelivery, Store, now};
use tokio::sync::{Notify, mpsc};

use crate::util::fakeline::{FakeLine, LineFault, TOKEN};
use crate::util::fakentfy::FakeNtfy;

const MOM: &str = "U4af4980629a0b1c2d3e4f5a6b7c8d9e0";
const FAMILY: &str = "Ca56f94637cc4347f90a25382909b24b9";

/// LINE (to `to`) for critical and warning alerts, ntfy configured beside it but listed in no
/// policy: it is where an alert goes when LINE cannot take it.
fn config(line: &FakeLine, ntfy: &FakeNtfy, to: &[&str], limit: u32) -> Config {
    let yaml = format!(
        "state_dir: state\n\
         sinks:\n  console: false\n  desktop: {{enabled: false}}\n  \
         line: {{channel_access_token: {{command: \"printf '%s' '{TOKEN}'\"}}, to: [{to}], \
         monthly_limit: {limit}, api_url: '{url}'}}\n  \
         ntfy: {{url: '{ntfy}', topic: brokerwatch-test}}\n\
         escalation:\n  critical: {{sinks: [line], repeat: 30m}}\n  warning: {{sinks: [line]}}\n",
        to = to.join(", "),
        url = line.url(),
        ntfy = ntfy.url(),
    );
    brokerwatch::config::load_str(&yaml, "line.yaml", Path::new("/")).expect("config")
}

fn outbox(cfg: &Config, store: &Store) -> Outbox {
    let (tx, _rx) = mpsc::channel(4);
    let (sinks, _) = Sinks::from_config(cfg, tx);
    let mut o = Outbox::new(store.clone(), sinks, Arc::new(Notify::new()));
    o.pauses = Pauses::new(Duration::from_millis(50), Duration::from_millis(100));
    o
}

fn raise(cfg: &Config, store: &Store, severity: Severity, title: &str) -> i64 {
    let d = Draft {
        account: None,
        kind: AlertKind::Unexpected,
        severity,
        broker: Some("sbi".into()),
        event: Some("withdrawal".into()),
        title: title.into(),
        body: "出金金額: ¥1,200,000\nLinks in it go to: sbi-sec[.]example".into(),
        actionable: true,
        only: None,
    };
    store.insert_alert(&plan(cfg, d)).expect("alert")
}

fn alert(title: &str, body: &str) -> AlertMessage {
    AlertMessage {
        id: 7,
        kind: AlertKind::Unexpected,
        severity: Severity::Critical,
        title: title.into(),
        body: body.into(),
        actionable: true,
    }
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts[2].starts_with('4')
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[tokio::test]
async fn a_push_carries_the_token_a_retry_key_and_the_alert_text_cut_to_5000_units() {
    let line = FakeLine::start().await;
    let ntfy = FakeNtfy::start(None).await;
    let cfg = config(&line, &ntfy, &[MOM, FAMILY], 200);
    let sink = LineSink::new(cfg.sinks.line.as_ref().unwrap()).expect("sink");
    assert_eq!(sink.targets(), [MOM, FAMILY]);

    let msg = alert(
        "SBI証券: 出金指示 ¥1,200,000",
        "Links in it go to: sbi-sec[.]example",
    );
    let done = sink.deliver(FAMILY, &msg).await.expect("delivered");
    assert!(done.remote_id.is_some());
    let long = alert("長文", &"🚨出金".repeat(2000)); // 8,000 UTF-16 units
    sink.deliver(MOM, &long)
        .await
        .expect("a long text is cut, not refused");

    let pushes = line.pushes();
    assert_eq!(pushes.len(), 2);
    assert_eq!(pushes[0].to, FAMILY);
    assert_eq!(pushes[0].authorization, format!("Bearer {TOKEN}"));
    assert_eq!(
        pushes[0].text,
        "SBI証券: 出金指示 ¥1,200,000\n\nLinks in it go to: sbi-sec[.]example"
    );
    let (k0, k1) = (
        pushes[0].retry_key.clone().unwrap(),
        pushes[1].retry_key.clone().unwrap(),
    );
    assert!(is_uuid(&k0), "{k0}");
    assert_ne!(k0, k1, "another delivery, another key");
    assert!(pushes[1].text.encode_utf16().count() <= MAX_TEXT_UTF16);
    assert!(pushes[1].text.ends_with('…'));
    assert!(pushes[1].text.encode_utf16().count() > MAX_TEXT_UTF16 - 3);

    let check = sink.check().await.expect("check");
    assert!(check.contains("198 of 200 messages left"), "{check}");
}

#[tokio::test]
async fn a_retry_of_a_delivery_carries_the_same_key_and_a_409_counts_as_delivered_once() {
    let line = FakeLine::start().await;
    let ntfy = FakeNtfy::start(None).await;
    let cfg = config(&line, &ntfy, &[MOM], 200);
    let store = Store::open_memory().expect("store");
    let outbox = outbox(&cfg, &store);
    let id = raise(&cfg, &store, Severity::Critical, "first");

    line.drop_next(1);
    line.fail_next(&[LineFault::AcceptThenFail]);
    outbox.tick().await.expect("tick: the connection drops");
    assert!(line.attempts().is_empty(), "dropped before an answer");
    tokio::time::sleep(Duration::from_millis(150)).await;
    outbox
        .tick()
        .await
        .expect("tick: accepted, the answer lost");
    assert_eq!(line.pushes().len(), 1);
    tokio::time::sleep(Duration::from_millis(150)).await;
    outbox.tick().await.expect("tick: 409");

    let attempts = line.attempts();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(
        attempts[0].is_some() && attempts[0] == attempts[1],
        "{attempts:?}"
    );
    assert_eq!(line.pushes().len(), 1, "LINE sent it once");
    assert!(store.pending_deliveries().expect("pending").is_empty());
    let remote = store.remote_ids(id).expect("remote ids");
    assert_eq!(remote.len(), 1);
    assert_eq!(remote[0].0, SinkKind::Line);
    assert!(
        remote[0].1.starts_with("fake-req-"),
        "the accepted request id: {remote:?}"
    );
    assert_eq!(sent_this_month(&store).unwrap(), 1, "counted once");
    assert!(ntfy.published().is_empty(), "nothing rerouted");
}

#[tokio::test]
async fn a_429_moves_the_alert_to_the_next_sink_and_a_monthly_limit_spends_the_budget() {
    let line = FakeLine::start().await;
    let ntfy = FakeNtfy::start(None).await;
    let cfg = config(&line, &ntfy, &[MOM], 200);
    let store = Store::open_memory().expect("store");
    let outbox = outbox(&cfg, &store);

    line.fail_next(&[LineFault::TooManyRequests]);
    raise(&cfg, &store, Severity::Critical, "rate limited");
    outbox.tick().await.expect("tick: 429");
    outbox.tick().await.expect("tick: the fallback");
    let titles = |n: &FakeNtfy| -> Vec<String> {
        n.published()
            .iter()
            .map(|m| m["title"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(titles(&ntfy), ["rate limited"]);
    assert!(line.pushes().is_empty());

    line.fail_next(&[LineFault::MonthlyLimit]);
    raise(&cfg, &store, Severity::Critical, "over the plan");
    raise(&cfg, &store, Severity::Critical, "after it");
    outbox.tick().await.expect("tick");
    outbox.tick().await.expect("tick");
    assert_eq!(titles(&ntfy), ["rate limited", "over the plan", "after it"]);
    assert_eq!(
        line.attempts().len(),
        2,
        "after LINE said the month is spent, brokerwatch stops asking"
    );
    assert_eq!(sent_this_month(&store).unwrap(), 200);
    assert!(
        store.pending_deliveries().expect("pending").is_empty(),
        "nothing lost, nothing stuck"
    );
    let status = brokerwatch::watch::status::report(&cfg, &store).expect("status");
    assert!(
        status.contains("LINE: 0 of 200 messages left this month"),
        "{status}"
    );
}

#[tokio::test]
async fn repeats_spend_the_budget_only_on_critical_alerts_and_a_reserve_stays_for_new_ones() {
    let line = FakeLine::start().await;
    let ntfy = FakeNtfy::start(None).await;
    // 10 a month: one kept for a new critical alert.
    let cfg = config(&line, &ntfy, &[MOM], 10);
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("state.sqlite");
    let store = Store::open(&db).expect("store");
    let to = vec![NewDelivery {
        sink: SinkKind::Line,
        target: MOM.into(),
    }];
    // Repeats due at once (every 0 s: the store's floor of 60 s applies from the 2nd round).
    let repeating = |severity, title: &str| NewAlert {
        actionable: true,
        repeat_secs: Some(0),
        repeat_to: to.clone(),
        ..NewAlert::once(AlertKind::Unexpected, severity, title, to.clone())
    };
    store
        .insert_alert(&repeating(Severity::Warning, "warning"))
        .unwrap();
    store
        .insert_alert(&repeating(Severity::Critical, "critical"))
        .unwrap();
    // Muted (`/mute`), so this tick sends the first round only.
    store
        .kv_set("mute_until", &(now() + 100).to_string())
        .unwrap();
    outbox(&cfg, &store).tick().await.expect("first round");
    store.kv_delete("mute_until").unwrap();
    assert_eq!(line.pushes().len(), 2);
    assert_eq!(sent_this_month(&store).unwrap(), 2);
    store.kv_set(&month_key(), "7").unwrap();

    // A restart: the count is in the store.
    drop(store);
    let store = Store::open(&db).expect("reopen");
    let outbox = outbox(&cfg, &store);
    assert_eq!(
        store.start_due_repeats(now()).expect("repeat round").len(),
        2
    );
    outbox.tick().await.expect("repeats");
    outbox.tick().await.expect("fallback");
    let texts: Vec<String> = line.pushes().iter().map(|p| p.text.clone()).collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts[2].contains("critical"),
        "only the critical repeat on LINE: {texts:?}"
    );
    let rerouted: Vec<String> = ntfy
        .published()
        .iter()
        .map(|m| m["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        rerouted.len(),
        1,
        "the warning's repeat went on: {rerouted:?}"
    );
    assert!(rerouted[0].contains("warning"), "{rerouted:?}");
    assert_eq!(sent_this_month(&store).unwrap(), 8);
    assert!(store.pending_deliveries().expect("pending").is_empty());

    // 2 left, 1 of them the reserve: a critical repeat still goes; then only a new critical.
    let sink = outbox.sinks.get(SinkKind::Line).expect("line").clone();
    assert!(sink.admit(Severity::Critical, 3).is_ok());
    assert!(sink.admit(Severity::Warning, 0).is_ok());
    store.kv_set(&month_key(), "9").unwrap();
    let why = sink
        .admit(Severity::Critical, 3)
        .expect_err("the reserve is not for repeats");
    assert!(why.contains("1 of 10"), "{why}");
    assert!(
        sink.admit(Severity::Warning, 0).is_err(),
        "nor for warnings"
    );
    assert!(
        sink.admit(Severity::Critical, 0).is_ok(),
        "a new critical alert takes it"
    );
    store.kv_set(&month_key(), "10").unwrap();
    assert!(sink.admit(Severity::Critical, 0).is_err());
}

fn run(home: &Path, cfg: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = crate::util::proc::command(home)
        .arg("-c")
        .arg(cfg)
        .args(args)
        .output()
        .expect("run brokerwatch");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_alert_test_doctor_and_status_cover_line_and_pushover() {
    use crate::util::fakepushover::{self, FakePushover};
    let line = FakeLine::start().await;
    let po = FakePushover::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let home = dir.path().to_path_buf();
    let cfg = home.join("config.yaml");
    let secret = |v: &str| format!("{{command: \"printf '%s' '{v}'\"}}");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: state\nsinks:\n  console: false\n  desktop: {{enabled: false}}\n  \
             line: {{channel_access_token: {lt}, to: [{MOM}, {FAMILY}], api_url: '{lu}'}}\n  \
             pushover:\n    token: {pt}\n    users: [{{key: {hk}, name: Hanako}}]\n    api_url: '{pu}'\n",
            lt = secret(TOKEN),
            lu = line.url(),
            pt = secret(fakepushover::TOKEN),
            hk = secret(fakepushover::HANAKO),
            pu = po.url(),
        ),
    )
    .expect("config");
    let (code, out) = tokio::task::block_in_place(|| run(&home, &cfg, &["check"]));
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = tokio::task::block_in_place(|| run(&home, &cfg, &["alert-test"]));
    assert_eq!(code, Some(0), "{out}");
    for want in [
        format!("✔ line {MOM}: delivered"),
        format!("✔ line {FAMILY}: delivered"),
        "✔ pushover Hanako: delivered".to_string(),
    ] {
        assert!(out.contains(&want), "missing `{want}`:\n{out}");
    }
    assert_eq!(line.pushes().len(), 2);
    assert_eq!(po.messages().len(), 1);
    let (_, out) = tokio::task::block_in_place(|| run(&home, &cfg, &["doctor"]));
    assert!(
        out.contains("✔ line: channel answers; 198 of 200 messages left this month"),
        "{out}"
    );
    assert!(
        out.contains("✔ pushover: app token and user keys valid: Hanako (iphone)"),
        "{out}"
    );
    let (_, out) = tokio::task::block_in_place(|| run(&home, &cfg, &["status"]));
    assert!(
        out.contains("LINE: 200 of 200 messages left this month"),
        "{out}"
    );
}

#[test]
fn bad_line_and_pushover_settings_are_reported_at_once_with_their_place() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "sinks:\n  line:\n    channel_access_token: {env: LINE_TOKEN}\n    to: ['@brokerwatch']\n    \
         monthly_limit: 0\n  pushover:\n    token: {env: PO_TOKEN}\n    users: [{key: {env: K}, name: Hanako}]\n    \
         retry: 10s\n    expire: 5h\n    receipt_poll: 1s\n",
    )
    .expect("config");
    let (code, out) = run(dir.path(), &cfg, &["check"]);
    assert_eq!(code, Some(2), "{out}");
    for want in [
        "config.yaml:4:10: `@brokerwatch` is not a LINE user or group id",
        "config.yaml:5:20: `monthly_limit` must be at least 1",
        "config.yaml:9:12: `retry` must be at least 30s",
        "config.yaml:10:13: `expire` must be at most 3h",
        "config.yaml:11:19: `receipt_poll` must be at least 5s",
    ] {
        assert!(out.contains(want), "missing `{want}`:\n{out}");
    }
}
