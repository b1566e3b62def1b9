//! A state database written by an older brokerwatch (tests/fixtures/state/v1.sqlite: schema 1,
//! made by the first release from demo/maildir/new with a Telegram sink that was down, an
//! expectation, an unacknowledged critical alert with repeats) is upgraded in place and carries
//! on: its pending deliveries go out, its repeats still fire, nothing is alerted twice.

use std::path::Path;
use std::time::Duration;

use brokerwatch::store::Store;

use crate::util::fakebot::{FakeBot, TOKEN};
use crate::util::proc::{Daemon, command};

const CHAT: i64 = 4242;

fn old_state(home: &Path) -> std::path::PathBuf {
    let state = home.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let db = state.join("brokerwatch.sqlite");
    std::fs::copy(crate::util::fixtures().join("state/v1.sqlite"), &db).unwrap();
    db
}

fn query<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> Vec<T> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c.prepare(sql).unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_version_1_state_is_migrated_and_its_repeats_survive() {
    let dir = tempfile::tempdir().unwrap();
    let db = old_state(dir.path());
    assert_eq!(query::<i64>(&db, "PRAGMA user_version"), [1]);
    let alerts_before: Vec<String> = query(&db, "SELECT title FROM alerts ORDER BY id");

    let store = Store::open(&db).unwrap();
    // Migrated through every version since: 2 (repeat targets), 3 (texts per language).
    assert_eq!(query::<i64>(&db, "PRAGMA user_version"), [3]);
    assert_eq!(
        query::<String>(
            &db,
            "SELECT sink || ':' || target FROM repeat_targets WHERE alert = 2"
        ),
        ["telegram:4242"],
        "the old kv repeat key became a row"
    );
    assert!(query::<String>(&db, "SELECT key FROM kv WHERE key LIKE 'repeat:%'").is_empty());
    assert_eq!(
        query::<String>(&db, "SELECT title FROM alerts ORDER BY id"),
        alerts_before
    );
    let unacked: Vec<i64> = store
        .unacked_alerts()
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(unacked, [3, 2]);
    assert_eq!(
        store
            .active_expectations(brokerwatch::store::now())
            .unwrap()
            .len(),
        1
    );

    // The critical alert's next round goes to the same chat, as before the upgrade.
    let far = brokerwatch::store::now() + 10 * 86_400;
    assert_eq!(store.start_due_repeats(far).unwrap(), [2]);
    assert_eq!(
        query::<String>(
            &db,
            "SELECT sink || ':' || target FROM deliveries WHERE alert = 2 AND round = 1"
        ),
        ["telegram:4242"]
    );
    // At most one alert of a kind per message, now enforced by the database.
    let c = rusqlite::Connection::open(&db).unwrap();
    let dup = c.execute(
        "INSERT INTO alerts (created_at, message, kind, severity, title, body, actionable)
         SELECT created_at, message, kind, severity, title, body, actionable FROM alerts WHERE id = 2",
        [],
    );
    assert!(dup.is_err(), "a second alert for message 2 must be refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_on_a_version_1_state_delivers_what_was_pending_and_nothing_twice() {
    let bot = FakeBot::start().await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let db = old_state(home);
    let pending: Vec<i64> = query(
        &db,
        "SELECT alert FROM deliveries WHERE state = 'pending' ORDER BY alert",
    );
    assert_eq!(pending, [2, 3, 4]);
    // The same Maildir the old state was written from.
    for sub in ["mail/new", "mail/cur", "mail/tmp"] {
        std::fs::create_dir_all(home.join(sub)).unwrap();
    }
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/maildir/new");
    for e in std::fs::read_dir(&demo).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, home.join("mail/new").join(p.file_name().unwrap())).unwrap();
    }
    let tok = home.join("tok");
    std::fs::write(&tok, format!("{TOKEN}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&tok, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = home.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "authserv_ids: [mx.brokerwatch.test]\nstate_dir: state\nfirst_run_lookback: 3650d\n\
             accounts:\n  - {{name: demo, maildir: mail, poll_interval: 1s}}\n\
             sinks:\n  console: false\n  desktop: {{enabled: false}}\n  \
             telegram: {{token: {{file: {}}}, chat_ids: [{CHAT}], api_url: '{}', commands: false}}\n",
            tok.display(),
            bot.url()
        ),
    )
    .unwrap();
    let mut cmd = command(home);
    cmd.arg("-c").arg(&cfg).arg("run").env("RUST_LOG", "info");
    let daemon = Daemon::spawn(cmd);
    let sent = bot
        .wait_for("sendMessage", 3, Duration::from_secs(30))
        .await;
    // Another poll of the Maildir, then stop: nothing new may appear.
    tokio::time::sleep(Duration::from_secs(3)).await;
    daemon.signal(15);
    let (status, out) = tokio::task::spawn_blocking(move || daemon.wait(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0), "{out}");
    // Each pending alert once; alert 2's repeat may also have fallen due since the file was
    // written (every 30 min): that is a reminder round, not a second first delivery.
    let delivered = bot.delivered();
    assert!(delivered.iter().all(|r| r.chat_id == Some(CHAT)));
    let reminders = delivered
        .iter()
        .filter(|r| r.text.as_deref().is_some_and(|t| t.starts_with("Reminder")))
        .count();
    assert_eq!(
        delivered.len() - reminders,
        3,
        "the three pending alerts, once each: {sent:#?}\n{out}"
    );
    let sent_rounds: Vec<String> = query(
        &db,
        "SELECT alert || '/' || round FROM deliveries WHERE state = 'sent' ORDER BY alert, round",
    );
    let first_rounds: Vec<&String> = sent_rounds.iter().filter(|r| r.ends_with("/0")).collect();
    assert_eq!(first_rounds, ["2/0", "3/0", "4/0"], "{out}");
    let repeats: Vec<&String> = sent_rounds.iter().filter(|r| !r.ends_with("/0")).collect();
    assert_eq!(repeats.len(), reminders, "{sent_rounds:?}");
    assert!(
        repeats.iter().all(|r| r.starts_with("2/")),
        "only alert 2 repeats: {repeats:?}"
    );
    assert_eq!(
        query::<i64>(&db, "SELECT COUNT(*) FROM alerts"),
        [5],
        "no mail alerted again"
    );
    assert!(
        query::<i64>(&db, "SELECT alert FROM deliveries WHERE state = 'pending'").is_empty(),
        "{out}"
    );
}
