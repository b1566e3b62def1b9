//! The desktop sink against a real session bus and a real notification server (dunst).
//!
//! NOTE: notify-rust (zbus) only reads `DBUS_SESSION_BUS_ADDRESS`; it cannot be given an address.
//! Every test here therefore holds the lock of [`use_bus`] while it sets the variable and talks to the bus,
//! so that tests running in parallel never see each other's bus. Nothing else in this test binary
//! reads that variable, and std serialises its own environment access.

use std::time::Duration;

use brokerwatch::alert::desktop::DesktopSink;
use brokerwatch::alert::{AlertKind, AlertMessage, DeliveryError, Response};
use brokerwatch::config::DesktopConfig;
use brokerwatch::event::Severity;
use tokio::sync::mpsc;

use crate::util::desktop::{DesktopEnv, use_bus};

fn sink() -> DesktopSink {
    DesktopSink::new(&DesktopConfig {
        app_name: "brokerwatch".into(),
    })
}

fn alert(id: i64, severity: Severity, actionable: bool) -> AlertMessage {
    AlertMessage {
        id,
        kind: AlertKind::Unexpected,
        severity,
        title: "SBI証券: 出金指示 ¥1,200,000 — not expected".into(),
        body: "To: ****1234 (new payout account)\nIf this was not you, lock the account now."
            .into(),
        actionable,
    }
}

#[tokio::test]
async fn critical_alert_reaches_dunst_with_critical_urgency_and_buttons() {
    let env = tokio::task::spawn_blocking(DesktopEnv::start)
        .await
        .expect("env");
    let _bus = use_bus(&env.address).await;
    let msg = alert(5, Severity::Critical, true);
    let d = sink().deliver(&msg).await.expect("delivered");

    let got = env.wait_for_notifications(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let n = &got[0];
    assert_eq!(n.app_name, "brokerwatch");
    assert_eq!(n.summary, msg.title);
    assert_eq!(n.body, msg.body);
    assert_eq!(n.urgency, Some(2));
    assert_eq!(n.timeout, 0, "critical never expires");
    assert_eq!(n.actions, ["ack", "It was me", "notme", "Not me"]);
    let id: u32 = d
        .remote_id
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("numeric id");
    assert!(id > 0, "dunst assigned the id");
}

#[tokio::test]
async fn lesser_severities_use_normal_and_low_urgency_without_buttons() {
    let env = tokio::task::spawn_blocking(DesktopEnv::start)
        .await
        .expect("env");
    let _bus = use_bus(&env.address).await;
    let s = sink();
    s.deliver(&alert(1, Severity::Warning, false))
        .await
        .expect("warning");
    s.deliver(&alert(2, Severity::Info, false))
        .await
        .expect("info");

    let got = env.wait_for_notifications(2, Duration::from_secs(5)).await;
    let urgencies: Vec<_> = got.iter().map(|n| n.urgency).collect();
    assert_eq!(urgencies, [Some(1), Some(0)]);
    assert!(got.iter().all(|n| n.actions.is_empty() && n.timeout == -1));
}

#[tokio::test]
async fn clicking_a_button_comes_back_as_a_response() {
    let env = tokio::task::spawn_blocking(DesktopEnv::start)
        .await
        .expect("env");
    let _bus = use_bus(&env.address).await;
    let (tx, mut rx) = mpsc::channel(4);
    let s = sink().with_responses(tx);
    let d = s
        .deliver(&alert(77, Severity::Critical, true))
        .await
        .expect("delivered");
    let id: u32 = d
        .remote_id
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("id");

    // The waiter subscribes right after Notify returns; give it a moment before clicking.
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.click(id, "notme");
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(
        got,
        Ok(Some(Response::NotMe {
            alert_id: 77,
            by: "desktop".into()
        }))
    );
}

#[tokio::test]
async fn a_repeat_replaces_the_toast_instead_of_stacking() {
    let env = tokio::task::spawn_blocking(DesktopEnv::start)
        .await
        .expect("env");
    let _bus = use_bus(&env.address).await;
    let s = sink();
    let first = s
        .deliver(&alert(9, Severity::Critical, true))
        .await
        .expect("first");
    let second = s
        .deliver(&alert(9, Severity::Critical, true))
        .await
        .expect("second");
    assert_eq!(first.remote_id, second.remote_id);

    let got = env.wait_for_notifications(2, Duration::from_secs(5)).await;
    let first_id: u32 = first
        .remote_id
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("id");
    assert_eq!(got[1].replaces_id, first_id);
}

#[tokio::test]
async fn no_session_bus_is_unavailable_quickly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nowhere = format!("unix:path={}", dir.path().join("no-bus").display());
    let _bus = use_bus(&nowhere).await;
    // A hang guard, not a benchmark: without a bus the sink must give up, not wait forever.
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        sink().deliver(&alert(1, Severity::Critical, true)),
    )
    .await
    .expect("no bus: the sink must give up")
    .unwrap_err();
    assert!(matches!(err, DeliveryError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn a_bus_without_a_notification_server_is_unavailable() {
    let env = tokio::task::spawn_blocking(DesktopEnv::start_bus_only)
        .await
        .expect("env");
    let _bus = use_bus(&env.address).await;
    let err = sink()
        .deliver(&alert(1, Severity::Warning, false))
        .await
        .unwrap_err();
    assert!(matches!(&err, DeliveryError::Unavailable(_)), "{err:?}");
    assert!(env.notifications().is_empty(), "refused before Notify");
}
