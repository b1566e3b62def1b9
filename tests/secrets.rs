//! The bot token and the IMAP passwords never show: a full run of the real binary with every log
//! level on (`RUST_LOG=trace`, dependencies included) through a delivered alert, Telegram 500s, a
//! Telegram outage, a refused IMAP login and a `/status` command; then `check`, `status`,
//! `doctor` and `alert-test`. Every line printed, every message sent and the state database are
//! searched for the secrets.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use crate::util::dovecot::Dovecot;
use crate::util::fakebot::{FakeBot, Fault, TOKEN};
use crate::util::fakentfy::{FakeNtfy, NtfyFault};
use crate::util::proc::{Daemon, command};

const WRONG_PASSWORD: &str = "bob-Wr0ng-s3cret-Pw";
const CHAT: i64 = 4242;
const NTFY_TOKEN: &str = "tk_ntfy5ecretT0kenNeverLogged";

fn notice(n: u32) -> Vec<u8> {
    let date = "Tue, 24 Nov 2026 09:37:00 +0900";
    format!(
        "From: SBI <info@sbisec.co.jp>\r\nTo: alice@example.com\r\n\
         Subject: =?UTF-8?B?44CQU0JJ6Ki85Yi444CR5Ye66YeR5oyH56S644KS5Y+X44GR5LuY44GR44G+44GX44Gf?=\r\n\
         Date: {date}\r\nMessage-ID: <secret-{n}@sbisec.co.jp>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         以下の内容で出金指示を受け付けました。\r\n出金金額：{n},000円\r\n"
    )
    .into_bytes()
}

fn secret_file(dir: &Path, name: &str, value: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("{value}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p.display().to_string()
}

fn config(dir: &Path, d: &Dovecot, bot: &FakeBot, ntfy: &FakeNtfy) -> std::path::PathBuf {
    let good = secret_file(dir, "alice-pw", Dovecot::password("alice"));
    let bad = secret_file(dir, "bob-pw", WRONG_PASSWORD);
    let account = |name: &str, user: &str, pw: &str| {
        format!(
            "  - name: {name}\n    imap: {{host: localhost, port: {port}, username: {user}, \
             password: {{file: {pw}}}, ca_file: {ca}, mailboxes: [INBOX]}}\n",
            port = d.imaps_port,
            ca = d.ca_path.display(),
        )
    };
    let cfg = dir.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: state\nfirst_run_lookback: 1d\ncannot_watch_after: 1s\n\
             accounts:\n{alice}{bob}\
             sinks:\n  console: true\n  desktop: {{enabled: false}}\n  \
             telegram: {{token: {{env: BW_SECRET_TOKEN}}, chat_ids: [{CHAT}], api_url: '{url}', commands: true}}\n  \
             ntfy: {{url: '{ntfy}', topic: brokerwatch-test, token: {{env: BW_SECRET_NTFY}}}}\n",
            alice = account("home", "alice", &good),
            bob = account("other", "bob", &bad),
            url = bot.url(),
            ntfy = ntfy.url(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    cfg
}

fn bw(home: &Path, cfg: &Path) -> std::process::Command {
    let mut c = command(home);
    c.arg("-c")
        .arg(cfg)
        .env("RUST_LOG", "trace")
        .env("BW_SECRET_TOKEN", TOKEN)
        .env("BW_SECRET_NTFY", NTFY_TOKEN);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_secret_in_any_output_of_a_full_run() {
    let d = tokio::task::spawn_blocking(Dovecot::start).await.unwrap();
    let bot = FakeBot::start().await;
    let ntfy = FakeNtfy::start(Some(NTFY_TOKEN)).await;
    ntfy.fail_next(&[NtfyFault::TooManyRequests]);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let cfg = config(home, &d, &bot, &ntfy);
    let daemon = Daemon::spawn({
        let mut c = bw(home, &cfg);
        c.arg("run");
        c
    });

    // A delivered alert, after two 500s.
    bot.fail_next_on("sendMessage", 2, Fault::ServerError);
    d.append("alice", "INBOX", &notice(1)).await;
    let got = bot
        .wait_for("sendMessage", 3, Duration::from_secs(30))
        .await;
    assert!(got.len() >= 3, "{}", daemon.output());
    // An outage: network errors while the next alert waits.
    bot.down().await;
    d.append("alice", "INBOX", &notice(2)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    bot.up().await;
    // A command answered in the chat.
    bot.inject_message(CHAT, "/status");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let texts: Vec<String> = bot.delivered().into_iter().filter_map(|r| r.text).collect();
        let alerts = texts.iter().filter(|t| t.contains("出金")).count();
        let cannot_watch = texts.iter().any(|t| t.contains("other/INBOX"));
        let status = texts.iter().any(|t| t.contains("home/INBOX"));
        if alerts >= 2 && cannot_watch && status {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not everything arrived: {texts:#?}\n{}",
            daemon.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    daemon.signal(15);
    let (status, mut everything) =
        tokio::task::spawn_blocking(move || daemon.wait(Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(status.code(), Some(0), "{everything}");
    // The run really logged its internals and its failures.
    for want in ["TRACE", "login failed", "alert recorded"] {
        assert!(
            everything.contains(want),
            "missing `{want}` in the run's output"
        );
    }

    for sub in [&["check"][..], &["status"], &["doctor"], &["alert-test"]] {
        let out = tokio::process::Command::from({
            let mut c = bw(home, &cfg);
            c.args(sub);
            c
        })
        .output()
        .await
        .unwrap();
        everything.push_str(&String::from_utf8_lossy(&out.stdout));
        everything.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    for r in bot.requests() {
        everything.push_str(&r.text.unwrap_or_default());
    }
    assert!(!ntfy.published().is_empty(), "ntfy got the alerts");
    for m in ntfy.published() {
        everything.push_str(&m.to_string());
    }
    let mut state = Vec::new();
    for f in ["brokerwatch.sqlite", "brokerwatch.sqlite-wal"] {
        state.extend(std::fs::read(home.join("state").join(f)).unwrap_or_default());
    }
    let state = String::from_utf8_lossy(&state);

    let token_secret = TOKEN.split_once(':').map(|(_, s)| s).unwrap();
    for (what, secret) in [
        ("bot token", token_secret),
        ("ntfy token", NTFY_TOKEN),
        ("IMAP password", Dovecot::password("alice")),
        ("wrong IMAP password", WRONG_PASSWORD),
    ] {
        assert!(
            !everything.contains(secret),
            "the {what} appears in the output:\n{}",
            everything
                .lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            !state.contains(secret),
            "the {what} is in the state database"
        );
    }
    eprintln!(
        "secrets: {} lines and {} bytes of state searched, none found",
        everything.lines().count(),
        state.len()
    );
}

#[test]
fn secrets_readable_by_others_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let pw = home.join("imap-password");
    std::fs::write(&pw, "pw\n").unwrap();
    let cfg = home.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: state\naccounts:\n  - name: a\n    imap: {{host: imap.example.com, username: u, password: {{file: {}}}}}\n  \
             - name: b\n    imap: {{host: imap.example.com, username: v, password: {{command: 'pass show mail'}}}}\n",
            pw.display()
        ),
    )
    .unwrap();
    let check = || {
        let out = command(home)
            .arg("-c")
            .arg(&cfg)
            .arg("check")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    };
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();

    mode(&pw, 0o644);
    mode(&cfg, 0o644);
    let out = check();
    assert!(
        out.contains(&format!(
            "secret file {} is readable by other users",
            pw.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("names a secret command and is readable by other users"),
        "{out}"
    );

    mode(&pw, 0o600);
    mode(&cfg, 0o600);
    let out = check();
    assert!(!out.contains("readable by other users"), "{out}");
}

/// Issue #18 item 1: `inline.yaml:3:59: invalid type: string "hunter2", expected struct
/// RawSecret`. Every secret-bearing field, written in every wrong shape, through every command
/// that loads the config: the written value appears nowhere in what they print.
#[test]
fn a_secret_written_in_the_wrong_shape_is_not_echoed() {
    const SECRET: &str = "hunter2-Inl1ne";
    let shapes = [
        SECRET.to_string(),
        format!("'{SECRET}'"),
        "314159265358979".to_string(),
        format!("[{SECRET}]"),
        format!("{{{SECRET}: x}}"),
        format!("{{value: {SECRET}}}"),
        format!("{{file: [{SECRET}]}}"),
        format!("{{env: {{{SECRET}: 1}}}}"),
        format!("{{file: f, {SECRET}: 1}}"),
    ];
    type Field = (&'static str, fn(&str) -> String);
    let fields: [Field; 2] = [
        ("imap password", |v| {
            format!(
                "accounts:\n  - name: a\n    imap: {{host: localhost, username: u, password: {v}}}\n"
            )
        }),
        ("telegram token", |v| {
            format!("sinks:\n  telegram: {{token: {v}, chat_ids: [1]}}\n")
        }),
    ];
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let mut cases = 0;
    for (field, yaml) in fields {
        for shape in &shapes {
            let cfg = home.join("inline.yaml");
            std::fs::write(&cfg, format!("state_dir: state\n{}", yaml(shape))).unwrap();
            let hidden = if shape.starts_with("314") {
                "314159265358979"
            } else {
                SECRET
            };
            for sub in [
                &["check"][..],
                &["run"],
                &["status"],
                &["scan"],
                &["doctor"],
            ] {
                let out = command(home)
                    .arg("-c")
                    .arg(&cfg)
                    .args(sub)
                    .env("RUST_LOG", "trace")
                    .output()
                    .unwrap();
                let all = String::from_utf8_lossy(&out.stdout).to_string()
                    + &String::from_utf8_lossy(&out.stderr);
                assert!(
                    !all.contains(hidden),
                    "{field} written as `{shape}`: `{}` echoes it:\n{all}",
                    sub.join(" ")
                );
                if sub == ["check"] {
                    assert_eq!(out.status.code(), Some(2), "{field} `{shape}`: {all}");
                    assert!(all.contains("inline.yaml:"), "no location: {all}");
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 2 * shapes.len() * 5);
}

/// OAuth2: no access token, refresh token or client secret in any line of a traced run that
/// refreshes (with a confidential client's secret), rotates, logs in by XOAUTH2, alerts, and
/// is then refused a refresh; nor in `check`, `status` and `doctor`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_oauth2_token_or_client_secret_in_any_output() {
    use crate::util::dovecot_oauth;
    use crate::util::fakeauth::{CLIENT_ID, FakeAuth};
    const CLIENT_SECRET: &str = "Qx~8Q~fakeClientSecretNeverLogged.9";
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let fake = FakeAuth::start_confidential("alice", Duration::from_secs(5), CLIENT_SECRET).await;
    let d = dovecot_oauth::start(home, &format!("{}/introspect", fake.url()));
    let state = home.join("state");
    let g = fake.grant();
    // Signed in, with an access token that is already too old to use: the run refreshes first.
    let tokens = state.join("oauth2/home.json");
    std::fs::create_dir_all(tokens.parent().unwrap()).unwrap();
    std::fs::write(
        &tokens,
        serde_json::json!({"refresh_token": g["refresh_token"], "access_token": g["access_token"],
            "obtained_at": 0, "expires_at": 1})
        .to_string(),
    )
    .unwrap();
    let u = fake.url();
    let cfg = home.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: state\nfirst_run_lookback: 1d\naccounts:\n  - name: home\n    imap:\n      \
             host: localhost\n      port: {port}\n      username: alice\n      ca_file: {ca}\n      \
             auth: {{oauth2: {{provider: custom, client_id: {CLIENT_ID}, client_secret: {{env: BW_OAUTH_SECRET}}, \
             scopes: [imap], token_url: '{u}/token', device_url: '{u}/devicecode'}}}}\n\
             sinks:\n  console: true\n  desktop: {{enabled: false}}\n",
            port = d.imaps_port,
            ca = d.ca_path.display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let oauth = |c: &mut std::process::Command| {
        c.arg("-c")
            .arg(&cfg)
            .env("RUST_LOG", "trace")
            .env("BW_OAUTH_SECRET", CLIENT_SECRET);
    };
    let daemon = Daemon::spawn({
        let mut c = command(home);
        oauth(&mut c);
        c.arg("run");
        c
    });
    let watching = daemon.wait_for_line(Duration::from_secs(20), |l| l.contains("watching"));
    assert!(watching.is_some(), "{}", daemon.output());
    d.append("alice", "INBOX", &notice(7)).await;
    let alerted = daemon.wait_for_line(Duration::from_secs(20), |l| l.contains("7,000"));
    assert!(alerted.is_some(), "{}", daemon.output());
    // The token expires (5 s); a restart of the server makes the run refresh again; then the
    // refresh token is revoked and the next reconnect is refused.
    tokio::time::sleep(Duration::from_secs(5)).await;
    d.restart();
    let rotated = daemon.wait_for_line(Duration::from_secs(30), |l| l.contains("rotated"));
    assert!(rotated.is_some(), "{}", daemon.output());
    fake.revoke_refresh_tokens();
    tokio::time::sleep(Duration::from_secs(5)).await;
    d.restart();
    let refused = daemon.wait_for_line(Duration::from_secs(30), |l| {
        l.contains("sign in again with `brokerwatch login home`")
    });
    assert!(refused.is_some(), "{}", daemon.output());
    daemon.signal(15);
    let (_, mut everything) =
        tokio::task::spawn_blocking(move || daemon.wait(Duration::from_secs(30)))
            .await
            .unwrap();
    assert!(
        everything.contains("TRACE"),
        "the run logged at trace level"
    );
    for sub in [&["check"][..], &["status"], &["doctor"]] {
        let mut c = command(home);
        oauth(&mut c);
        let out = c.args(sub).output().unwrap();
        everything.push_str(&String::from_utf8_lossy(&out.stdout));
        everything.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let mut secrets: Vec<(&str, String)> = vec![("client secret", CLIENT_SECRET.to_string())];
    secrets.extend(
        fake.access_tokens()
            .into_iter()
            .map(|t| ("access token", t)),
    );
    secrets.extend(
        fake.issued_refresh_tokens()
            .into_iter()
            .map(|t| ("refresh token", t)),
    );
    assert!(
        secrets.len() >= 5,
        "tokens were issued and rotated: {}",
        secrets.len()
    );
    let mut db = Vec::new();
    for f in ["brokerwatch.sqlite", "brokerwatch.sqlite-wal"] {
        db.extend(std::fs::read(state.join(f)).unwrap_or_default());
    }
    let db = String::from_utf8_lossy(&db);
    for (what, secret) in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "the {what} appears in the output:\n{}",
            everything
                .lines()
                .filter(|l| l.contains(secret.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            !db.contains(secret.as_str()),
            "the {what} is in the state database"
        );
    }
}

/// The LINE channel access token, the Pushover app token and the Pushover user keys never show:
/// a full run with every log level on through LINE and Pushover deliveries after a 500 each,
/// LINE's monthly limit, a Pushover emergency receipt acknowledged in the app (so the receipt
/// poll and the acknowledgement with the person's name are logged); then `check`, `status`,
/// `doctor` and `alert-test`. Every line printed, every text sent and the state database are
/// searched.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_line_or_pushover_secret_in_any_output() {
    use crate::util::fakeline::{self, FakeLine, LineFault};
    use crate::util::fakepushover::{self, FakePushover, HANAKO, PushoverFault, TARO};
    const MOM: &str = "U4af4980629a0b1c2d3e4f5a6b7c8d9e0";

    let d = tokio::task::spawn_blocking(Dovecot::start).await.unwrap();
    let line = FakeLine::start().await;
    let po = FakePushover::start().await;
    line.fail_next(&[LineFault::ServerError]);
    po.fail_next(&[PushoverFault::ServerError]);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let pw = secret_file(home, "alice-pw", Dovecot::password("alice"));
    let line_token = secret_file(home, "line-token", fakeline::TOKEN);
    let hanako = secret_file(home, "hanako-key", HANAKO);
    let cfg = home.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: state\nfirst_run_lookback: 1d\n\
             accounts:\n  - name: home\n    imap: {{host: localhost, port: {port}, username: alice, \
             password: {{file: {pw}}}, ca_file: {ca}, mailboxes: [INBOX]}}\n\
             escalation:\n  critical: {{sinks: [line, pushover], repeat: 1h}}\n  \
             warning: {{sinks: [line, pushover]}}\n  info: {{sinks: [line, pushover]}}\n\
             sinks:\n  console: true\n  desktop: {{enabled: false}}\n  \
             line: {{channel_access_token: {{file: {line_token}}}, to: [{MOM}], api_url: '{lu}'}}\n  \
             pushover:\n    token: {{env: BW_SECRET_PUSHOVER}}\n    users:\n      \
             - {{key: {{file: {hanako}}}, name: Hanako}}\n      \
             - {{key: {{command: \"printf '%s' '{TARO}'\"}}, name: Taro}}\n    \
             receipt_poll: 5s\n    api_url: '{pu}'\n",
            port = d.imaps_port,
            ca = d.ca_path.display(),
            lu = line.url(),
            pu = po.url(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let bw = || {
        let mut c = command(home);
        c.arg("-c")
            .arg(&cfg)
            .env("RUST_LOG", "trace")
            .env("BW_SECRET_PUSHOVER", fakepushover::TOKEN);
        c
    };
    let daemon = Daemon::spawn({
        let mut c = bw();
        c.arg("run");
        c
    });

    // A delivered alert on both sinks, each after a 500.
    d.append("alice", "INBOX", &notice(1)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while line.pushes().is_empty() || po.receipts().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not delivered: {} LINE pushes, {:?} receipts\n{}",
            line.pushes().len(),
            po.receipts(),
            daemon.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Hanako acknowledges in the Pushover app: polled, acknowledged in her name.
    let receipt = po
        .receipts()
        .into_iter()
        .find(|(_, u)| u == HANAKO)
        .unwrap()
        .0;
    po.acknowledge(&receipt, HANAKO, "iphone");
    let acked = tokio::task::block_in_place(|| {
        daemon.wait_for_line(Duration::from_secs(30), |l| l.contains("Hanako"))
    });
    assert!(acked.is_some(), "{}", daemon.output());
    // LINE's monthly limit on the next alert.
    line.fail_next(&[LineFault::MonthlyLimit]);
    d.append("alice", "INBOX", &notice(2)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while line.attempts().len() < 3 || po.receipts().len() < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second alert did not go out: {} LINE attempts, {} receipts\n{}",
            line.attempts().len(),
            po.receipts().len(),
            daemon.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    daemon.signal(15);
    let (status, mut everything) =
        tokio::task::spawn_blocking(move || daemon.wait(Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(status.code(), Some(0), "{everything}");
    for want in ["TRACE", "alert recorded"] {
        assert!(
            everything.contains(want),
            "missing `{want}` in the run's output"
        );
    }

    for sub in [&["check"][..], &["status"], &["doctor"], &["alert-test"]] {
        let out = tokio::process::Command::from({
            let mut c = bw();
            c.args(sub);
            c
        })
        .output()
        .await
        .unwrap();
        everything.push_str(&String::from_utf8_lossy(&out.stdout));
        everything.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    // What reached the phones (not the request fields that carry the secrets by design).
    for p in line.pushes() {
        everything.push_str(&p.text);
    }
    for m in po.messages() {
        for f in ["title", "message", "url", "url_title"] {
            everything.push_str(m.get(f).map(String::as_str).unwrap_or_default());
        }
    }
    let mut state = Vec::new();
    for f in ["brokerwatch.sqlite", "brokerwatch.sqlite-wal"] {
        state.extend(std::fs::read(home.join("state").join(f)).unwrap_or_default());
    }
    let state = String::from_utf8_lossy(&state);

    for (what, secret) in [
        ("LINE channel access token", fakeline::TOKEN),
        ("Pushover app token", fakepushover::TOKEN),
        ("Pushover user key (file)", HANAKO),
        ("Pushover user key (command)", TARO),
    ] {
        assert!(
            !everything.contains(secret),
            "the {what} appears in the output:\n{}",
            everything
                .lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            !state.contains(secret),
            "the {what} is in the state database"
        );
    }
    eprintln!(
        "line/pushover secrets: {} lines and {} bytes of state searched, none found",
        everything.lines().count(),
        state.len()
    );
}
