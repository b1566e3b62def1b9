//! OAuth2 sign-in against a real Dovecot whose `oauth2` passdb checks each bearer token by
//! introspection at the fake authorization server: XOAUTH2 and OAUTHBEARER logins, a refresh
//! after the server refuses a token, a token that expires while IDLE, a refused refresh (one
//! "sign in again" alert), rotation kept on disk with mode 0600, and `brokerwatch login` with
//! the device code flow (pending, then slow_down, then tokens).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use brokerwatch::config::oauth2::{Mechanism, Provider, TokenStore};
use brokerwatch::config::{AccountSource, ImapAccount, ImapAuth, OAuth2Config, TlsMode};
use brokerwatch::source::imap::oauth2::store::{self, Stored};
use brokerwatch::source::imap::{self, Timeouts};
use tempfile::TempDir;

use crate::daemon::{CHAT, Running, config, sbi_withdrawal, sent_to, wait_until};
use crate::util::dovecot::Dovecot;
use crate::util::dovecot_oauth;
use crate::util::fakeauth::{CLIENT_ID, DeviceStep, FakeAuth};
use crate::util::fakebot::FakeBot;
use crate::util::proc::command;

const T: Timeouts = Timeouts {
    connect: Duration::from_secs(10),
    command: Duration::from_secs(20),
};

fn oauth2(fake: &FakeAuth, account: &str, tokens: &Path, mechanism: Mechanism) -> OAuth2Config {
    OAuth2Config {
        account: account.into(),
        provider: Provider::Custom,
        client_id: CLIENT_ID.into(),
        client_secret: None,
        scopes: vec!["imap".into()],
        auth_url: format!("{}/authorize", fake.url()),
        token_url: format!("{}/token", fake.url()),
        device_url: Some(format!("{}/devicecode", fake.url())),
        mechanism,
        store: TokenStore::File(tokens.to_path_buf()),
    }
}

/// Stores what a `brokerwatch login` would have: the fake's fresh grant.
fn signed_in(fake: &FakeAuth, tokens: &Path) -> Stored {
    let g = fake.grant();
    let now = brokerwatch::store::now();
    let s = Stored {
        refresh_token: g["refresh_token"].as_str().unwrap().into(),
        access_token: Some(g["access_token"].as_str().unwrap().into()),
        obtained_at: Some(now),
        expires_at: Some(now + g["expires_in"].as_i64().unwrap()),
        scope: None,
    };
    store::save(&TokenStore::File(tokens.to_path_buf()), "alice", &s).unwrap();
    s
}

fn account(d: &Dovecot, o: OAuth2Config) -> ImapAccount {
    let mut a = d.account("alice", TlsMode::Implicit);
    a.auth = ImapAuth::OAuth2(Box::new(o));
    a
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

struct Setup {
    dir: TempDir,
    fake: FakeAuth,
    dovecot: Dovecot,
}

async fn setup(lifetime: Duration) -> Setup {
    let dir = TempDir::new().unwrap();
    let fake = FakeAuth::start("alice", lifetime).await;
    let dovecot = dovecot_oauth::start(dir.path(), &format!("{}/introspect", fake.url()));
    Setup { dir, fake, dovecot }
}

#[tokio::test(flavor = "multi_thread")]
async fn xoauth2_and_oauthbearer_log_in_and_a_refused_token_is_refreshed_once() {
    let s = setup(Duration::from_secs(3600)).await;
    for mech in [Mechanism::XOAuth2, Mechanism::OAuthBearer] {
        let tokens = s.dir.path().join(format!("{}.json", mech.as_str()));
        signed_in(&s.fake, &tokens);
        let before = s.fake.introspections();
        let p = imap::probe(
            &account(&s.dovecot, oauth2(&s.fake, "alice", &tokens, mech)),
            &T,
        )
        .await
        .unwrap_or_else(|e| panic!("{} login: {e}\n{}", mech.as_str(), s.dovecot.log()));
        assert!(p.mailboxes[0].1.is_ok(), "{:?}", p.mailboxes);
        assert!(
            s.fake.introspections() > before,
            "Dovecot asked the fake about the token"
        );
    }
    assert!(
        !s.fake.grants().iter().any(|g| g == "refresh_token"),
        "a fresh access token needs no refresh: {:?}",
        s.fake.grants()
    );
    // The provider revokes the access token before its expiry: AUTHENTICATE says NO once, the
    // token is refreshed (and the rotated refresh token saved) and the second try gets in.
    let tokens = s.dir.path().join("XOAUTH2.json");
    let old = store::load(&TokenStore::File(tokens.clone()), "alice")
        .unwrap()
        .unwrap();
    s.fake.revoke_access_tokens();
    let cfg = account(
        &s.dovecot,
        oauth2(&s.fake, "alice", &tokens, Mechanism::XOAuth2),
    );
    imap::probe(&cfg, &T)
        .await
        .expect("login after one refresh");
    let grants = s.fake.grants();
    assert_eq!(
        grants.iter().filter(|g| *g == "refresh_token").count(),
        1,
        "{grants:?}"
    );
    let now = store::load(&TokenStore::File(tokens.clone()), "alice")
        .unwrap()
        .unwrap();
    assert_ne!(
        now.refresh_token, old.refresh_token,
        "the rotated refresh token is on disk"
    );
    assert!(s.fake.refresh_tokens().contains(&now.refresh_token));
    assert_eq!(mode(&tokens), 0o600);
    assert_eq!(s.fake.secrets_sent(), 0, "a public client sends no secret");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_expiring_during_idle_is_refreshed_and_no_notice_is_missed() {
    let s = setup(Duration::from_secs(4)).await;
    let bot = FakeBot::start().await;
    let mut cfg = config(&s.dir, &s.dovecot, &bot, "alice", false);
    let tokens = cfg.state_dir.join("oauth2/alice.json");
    signed_in(&s.fake, &tokens);
    if let AccountSource::Imap(a) = &mut cfg.accounts[0].source {
        a.auth = ImapAuth::OAuth2(Box::new(oauth2(
            &s.fake,
            "alice",
            &tokens,
            Mechanism::XOAuth2,
        )));
    }
    let daemon = Running::start(cfg, brokerwatch::rules::load(true, &[]).unwrap());
    let first = store::load(&TokenStore::File(tokens.clone()), "alice")
        .unwrap()
        .unwrap();
    // Logged in and IDLE; then the token expires (4 s) and the session is dropped, as
    // Microsoft drops sessions whose token expired. Mail arrives meanwhile.
    tokio::time::sleep(Duration::from_secs(6)).await;
    // The open session outlives its token: a notice now still arrives over IDLE.
    s.dovecot
        .append("alice", "INBOX", &sbi_withdrawal("610,000", "4321"))
        .await;
    wait_until(
        "the notice over the expired session",
        Duration::from_secs(15),
        || sent_to(&bot, CHAT).iter().any(|t| t.contains("610,000")),
    )
    .await;
    s.dovecot.stop();
    s.dovecot
        .deliver_offline("alice", "INBOX", &sbi_withdrawal("730,000", "4321"));
    s.dovecot.start_again();
    wait_until(
        "the notice after the refresh",
        Duration::from_secs(30),
        || sent_to(&bot, CHAT).iter().any(|t| t.contains("730,000")),
    )
    .await;
    let grants = s.fake.grants();
    assert!(grants.iter().any(|g| g == "refresh_token"), "{grants:?}");
    assert!(s.fake.refusals().is_empty(), "{:?}", s.fake.refusals());
    let now = store::load(&TokenStore::File(tokens.clone()), "alice")
        .unwrap()
        .unwrap();
    assert_ne!(
        now.refresh_token, first.refresh_token,
        "rotated token saved"
    );
    assert_eq!(mode(&tokens), 0o600);
    let cannot: Vec<String> = sent_to(&bot, CHAT)
        .into_iter()
        .filter(|t| t.contains("cannot watch"))
        .collect();
    assert!(cannot.is_empty(), "{cannot:?}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_refresh_raises_one_sign_in_alert_and_keeps_the_tokens() {
    let s = setup(Duration::from_secs(3600)).await;
    let bot = FakeBot::start().await;
    let mut cfg = config(&s.dir, &s.dovecot, &bot, "alice", false);
    let tokens = cfg.state_dir.join("oauth2/alice.json");
    let mut stored = signed_in(&s.fake, &tokens);
    // The access token is used up and the refresh token revoked at the provider.
    stored.access_token = None;
    store::save(&TokenStore::File(tokens.clone()), "alice", &stored).unwrap();
    s.fake.revoke_refresh_tokens();
    if let AccountSource::Imap(a) = &mut cfg.accounts[0].source {
        a.auth = ImapAuth::OAuth2(Box::new(oauth2(
            &s.fake,
            "alice",
            &tokens,
            Mechanism::XOAuth2,
        )));
        a.mailboxes = vec!["INBOX".into(), "Junk".into()];
    }
    let daemon = Running::start(cfg, brokerwatch::rules::load(true, &[]).unwrap());
    let alert = |t: &String| t.contains("sign in again with `brokerwatch login alice`");
    wait_until("the sign-in alert", Duration::from_secs(20), || {
        sent_to(&bot, CHAT).iter().any(alert)
    })
    .await;
    // Retries go on (backoff) but say nothing more, for either mailbox.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let alerts: Vec<String> = sent_to(&bot, CHAT).into_iter().filter(alert).collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("invalid_grant"), "{}", alerts[0]);
    let kept = store::load(&TokenStore::File(tokens.clone()), "alice")
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.refresh_token, stored.refresh_token,
        "the tokens file is kept for diagnosis"
    );
    let refused = s
        .fake
        .refusals()
        .iter()
        .filter(|(g, _)| g == "refresh_token")
        .count();
    assert_eq!(
        refused,
        1,
        "a refused refresh token is not sent again: {:?}",
        s.fake.refusals()
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_with_the_device_code_waits_through_pending_and_slow_down() {
    let s = setup(Duration::from_secs(3600)).await;
    s.fake
        .script_device(&[DeviceStep::Pending, DeviceStep::SlowDown]);
    let home = s.dir.path().join("home");
    let cfg = s.dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: {state}\naccounts:\n  - name: outlook\n    imap: {{host: localhost, port: {port}, \
             username: alice, ca_file: {ca}, auth: {auth}}}\nsinks: {{console: true, desktop: {{enabled: false}}}}\n",
            state = s.dir.path().join("state").display(),
            port = s.dovecot.imaps_port,
            ca = s.dovecot.ca_path.display(),
            auth = s.fake.yaml("oauthbearer"),
        ),
    )
    .unwrap();
    let check = command(&home)
        .arg("-c")
        .arg(&cfg)
        .arg("check")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{said}");
    assert!(
        said.contains("`outlook` is not signed in yet: run `brokerwatch login outlook`"),
        "{said}"
    );
    let t0 = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        command(&home)
            .arg("-c")
            .arg(&cfg)
            .args(["login", "outlook"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("https://microsoft.com/devicelogin") && stdout.contains("FAKE-CODE"),
        "{stdout}"
    );
    assert!(stdout.contains("コード FAKE-CODE を入力"), "{stdout}");
    let polls = s.fake.polls();
    assert_eq!(polls.len(), 3, "pending, slow_down, tokens");
    // RFC 8628: after slow_down the interval (1 s) grows by 5 s.
    assert!(
        polls[2] - polls[1] >= Duration::from_secs(6),
        "{:?}",
        polls[2] - polls[1]
    );
    assert!(t0.elapsed() >= Duration::from_secs(7));
    let tokens = s.dir.path().join("state/oauth2/outlook.json");
    assert_eq!(mode(&tokens), 0o600);
    let saved = store::load(&TokenStore::File(tokens.clone()), "outlook")
        .unwrap()
        .unwrap();
    assert!(s.fake.refresh_tokens().contains(&saved.refresh_token));
    assert!(!stdout.contains(&saved.refresh_token) && !stderr.contains(&saved.refresh_token));
    // The saved tokens log in (OAUTHBEARER, as configured).
    let o = oauth2(&s.fake, "outlook", &tokens, Mechanism::OAuthBearer);
    imap::probe(&account(&s.dovecot, o), &T)
        .await
        .expect("login with the new tokens");
}

/// Google's way on a headless server: the browser runs elsewhere, and the address it was sent
/// back to is pasted into `login`; the code is exchanged with the PKCE verifier.
#[tokio::test(flavor = "multi_thread")]
async fn login_with_a_pasted_redirect_exchanges_the_code_with_pkce() {
    use std::io::{BufRead as _, Write as _};
    let s = setup(Duration::from_secs(3600)).await;
    let u = s.fake.url();
    let cfg = s.dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: {state}\naccounts:\n  - name: gmail\n    imap: {{host: localhost, port: {port}, \
             username: alice, ca_file: {ca}, auth: {{oauth2: {{provider: custom, client_id: {CLIENT_ID}, \
             scopes: [imap], token_url: '{u}/token', auth_url: '{u}/authorize'}}}}}}\n\
             sinks: {{console: true, desktop: {{enabled: false}}}}\n",
            state = s.dir.path().join("state").display(),
            port = s.dovecot.imaps_port,
            ca = s.dovecot.ca_path.display(),
        ),
    )
    .unwrap();
    let mut child = command(&s.dir.path().join("home"))
        .arg("-c")
        .arg(&cfg)
        .args(["login", "gmail"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let auth_url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "no address printed"
            );
            if line.starts_with("http") && line.contains("/authorize?") {
                return (line.trim().to_string(), stdout);
            }
        }
    })
    .await
    .unwrap();
    let (auth_url, mut stdout) = auth_url;
    assert!(auth_url.contains("code_challenge_method=S256") && auth_url.contains("state="));
    // The "browser": the user consents, the provider redirects to 127.0.0.1.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(&auth_url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let back = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with("http://127.0.0.1:"), "{back}");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{back}").unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(stdout.get_mut(), &mut rest);
        (child.wait().unwrap(), rest)
    })
    .await
    .unwrap();
    assert!(status.0.success(), "{}", status.1);
    assert!(status.1.contains("サインインしました"), "{}", status.1);
    assert!(s.fake.grants().contains(&"authorization_code".to_string()));
    assert!(
        s.fake.refusals().is_empty(),
        "PKCE verifier matched: {:?}",
        s.fake.refusals()
    );
    let tokens = s.dir.path().join("state/oauth2/gmail.json");
    assert_eq!(mode(&tokens), 0o600);
    let saved = store::load(&TokenStore::File(tokens.clone()), "gmail")
        .unwrap()
        .unwrap();
    assert!(s.fake.refresh_tokens().contains(&saved.refresh_token));
}

/// A token endpoint that does not answer is an outage (backoff), not a sign-in failure.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_token_endpoint_is_an_outage() {
    let s = setup(Duration::from_secs(3600)).await;
    let tokens = s.dir.path().join("down.json");
    let mut stored = signed_in(&s.fake, &tokens);
    stored.access_token = None;
    store::save(&TokenStore::File(tokens.clone()), "alice", &stored).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut o = oauth2(&s.fake, "alice", &tokens, Mechanism::XOAuth2);
    o.token_url = format!("http://127.0.0.1:{port}/token");
    let err = imap::probe(&account(&s.dovecot, o), &T).await.unwrap_err();
    assert!(!err.is_login_failure(), "{err}");
    assert!(
        err.to_string().contains("cannot refresh the OAuth2 token"),
        "{err}"
    );
    assert!(!err.to_string().contains("sign in again"), "{err}");
    let kept = store::load(&TokenStore::File(tokens), "alice")
        .unwrap()
        .unwrap();
    assert_eq!(kept.refresh_token, stored.refresh_token);
}
