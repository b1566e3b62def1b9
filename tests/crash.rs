//! Crash safety of `brokerwatch run` as a process: SIGKILL at random moments while notices arrive
//! over IMAP and Telegram is up. Afterwards every notice has exactly one alert row and at least
//! one accepted sendMessage, and re-sent messages number at most one per kill.
//!
//! `BW_CRASH_KILLS` (default 20), `BW_CRASH_NOTICES` (default 1,000) and `BW_CRASH_SEED` scale
//! or replay a run; the seed is printed either way. `BW_CRASH_SPREAD_MS` (default 30) is how
//! long the delivery takes per notice; `BW_CRASH_AT_ONCE=1` delivers every notice at once.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::util::dovecot::Dovecot;
use crate::util::fakebot::{FakeBot, TOKEN};

const CHAT: i64 = 5150;
const USER: &str = "alice";
/// Notices go out in batches of this many, one IMAP connection each.
const BATCH: usize = 20;
/// The whole delivery of notices is spread over about this long per notice.
const PER_NOTICE: Duration = Duration::from_millis(30);

/// xorshift64*: reproducible from the printed seed, no crate needed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi` milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo + 1))
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// One notice as appended: what identifies it and what its alert must show.
struct Notice {
    message_id: String,
    amount: String,
}

/// A genuine SBI withdrawal (fixture 004) made unique: its own Message-ID, amount and a fresh Date.
fn notice(template: &str, i: usize, run: u64) -> (Notice, Vec<u8>) {
    let n = 1_000_000 + i;
    let amount = format!("{},{:03},{:03}", n / 1_000_000, n / 1000 % 1000, n % 1000);
    let message_id = format!("crash-{run}-{i}@sbisec.co.jp");
    let mut out = String::with_capacity(template.len() + 64);
    for line in template.split_inclusive('\n') {
        let eol = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
        if line.starts_with("Message-ID:") {
            out.push_str(&format!("Message-ID: <{message_id}>{eol}"));
        } else if line.starts_with("Date:") {
            out.push_str(&format!("Date: {}{eol}", rfc2822_now()));
        } else {
            out.push_str(&line.replace("=EF=BC=9A30,000=E5", &format!("=EF=BC=9A{amount}=E5")));
        }
    }
    assert!(out.contains(&amount), "the fixture's amount line moved");
    (Notice { message_id, amount }, out.into_bytes())
}

/// `Tue, 24 Nov 2026 23:40:09 +0000` for now.
fn rfc2822_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    format!(
        "{}, {day:02} {} {year} {h:02}:{m:02}:{s:02} +0000",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize]
    )
}

/// The daemon's config: one IMAP account, Telegram (plain text) to the fake, nothing else;
/// critical alerts repeat only after a day, so no reminder is counted.
fn write_config(dir: &Path, dovecot: &Dovecot, bot: &FakeBot) -> PathBuf {
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).expect("token file");
    let password = dovecot.password_file("crash", Dovecot::password(USER));
    let yaml = format!(
        "authserv_ids: [mx.brokerwatch.test]\n\
         state_dir: {state}\n\
         accounts:\n\
         \x20 - name: {USER}\n\
         \x20   imap:\n\
         \x20     host: localhost\n\
         \x20     port: {port}\n\
         \x20     username: {USER}\n\
         \x20     password: {{file: {password}}}\n\
         \x20     ca_file: {ca}\n\
         escalation:\n\
         \x20 critical: {{sinks: [telegram], repeat: 24h}}\n\
         \x20 warning: {{sinks: [telegram]}}\n\
         sinks:\n\
         \x20 console: false\n\
         \x20 desktop: {{enabled: false}}\n\
         \x20 telegram:\n\
         \x20   token: {{file: {token}}}\n\
         \x20   chat_ids: [{CHAT}]\n\
         \x20   api_url: {url}\n\
         \x20   format: plain\n",
        state = dir.join("state").display(),
        port = dovecot.imaps_port,
        password = password.display(),
        ca = dovecot.ca_path.display(),
        token = token.display(),
        url = bot.url(),
    );
    let path = dir.join("config.yaml");
    std::fs::write(&path, yaml).expect("config file");
    path
}

/// Starts `brokerwatch run`, its stderr appended to `log`.
fn spawn(config: &Path, log: &Path) -> Child {
    let err = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    Command::new(env!("CARGO_BIN_EXE_brokerwatch"))
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("LC_ALL", "C.UTF-8")
        .env_remove("BROKERWATCH_CONFIG")
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn brokerwatch run")
}

/// The last lines of the daemon's log, for failure messages.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn open_ro(db: &Path) -> Option<Connection> {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()
}

/// Telegram messages the fake accepted, by the alert id in their "ack:<id>" button.
fn delivered_by_alert(bot: &FakeBot) -> (BTreeMap<i64, Vec<String>>, usize) {
    let mut by_alert: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut other = 0;
    for r in bot.delivered() {
        let id = r.reply_markup.as_ref().and_then(|m| {
            m["inline_keyboard"]
                .as_array()?
                .iter()
                .flat_map(|row| row.as_array().cloned().unwrap_or_default())
                .find_map(|b| {
                    b["callback_data"]
                        .as_str()?
                        .strip_prefix("ack:")?
                        .parse()
                        .ok()
                })
        });
        match id {
            Some(id) => by_alert
                .entry(id)
                .or_default()
                .push(r.text.unwrap_or_default()),
            None => other += 1,
        }
    }
    (by_alert, other)
}

/// (messages recorded, deliveries pending), or None while the database cannot be read.
fn progress(db: &Path) -> Option<(i64, i64)> {
    let c = open_ro(db)?;
    let messages = c
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .ok()?;
    let pending = c
        .query_row(
            "SELECT COUNT(*) FROM deliveries WHERE state='pending'",
            [],
            |r| r.get(0),
        )
        .ok()?;
    Some((messages, pending))
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_random_moments_loses_no_notice_and_duplicates_at_most_one_per_kill() {
    let kills = env_number("BW_CRASH_KILLS", 20) as usize;
    let count = env_number("BW_CRASH_NOTICES", 1000) as usize;
    let seed = env_number(
        "BW_CRASH_SEED",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    );
    eprintln!(
        "crash: seed {seed} (replay with BW_CRASH_SEED={seed}), {kills} kills, {count} notices"
    );
    let mut rng = Rng::new(seed);

    let (dovecot, bot, dir) = (
        Dovecot::start(),
        FakeBot::start().await,
        TempDir::new().expect("tempdir"),
    );
    let config = write_config(dir.path(), &dovecot, &bot);
    let log = dir.path().join("daemon.log");
    let db = dir.path().join("state").join("brokerwatch.sqlite");

    let template = std::fs::read_to_string(
        crate::util::fixtures().join("mail/004-sbi-withdrawal-other-account-qp.eml"),
    )
    .expect("fixture 004");
    let mut notices = Vec::with_capacity(count);
    let mut mails = Vec::with_capacity(count);
    for i in 0..count {
        let (n, bytes) = notice(&template, i, seed);
        notices.push(n);
        mails.push(bytes);
    }

    let started = Instant::now();
    let mut daemon = spawn(&config, &log);
    // The appender spreads the notices over `span`; the kills fall anywhere within it.
    // BW_CRASH_SPREAD_MS sets its pace per notice (APPEND itself takes ≈ 5 ms a notice here).
    // BW_CRASH_AT_ONCE=1 delivers them all at once instead: the daemon catches up one backlog of
    // every notice (judged on a thread of its own) while the kills land over the same span.
    let at_once = env_number("BW_CRASH_AT_ONCE", 0) == 1;
    let per_notice = Duration::from_millis(env_number(
        "BW_CRASH_SPREAD_MS",
        PER_NOTICE.as_millis() as u64,
    ));
    let span = per_notice * count as u32;
    let pause = span / count.div_ceil(BATCH).max(1) as u32;
    let appended = AtomicUsize::new(0);
    let appender = {
        let appended = &appended;
        let batches: Vec<Vec<Vec<u8>>> = mails.chunks(BATCH).map(<[_]>::to_vec).collect();
        let dovecot = &dovecot;
        async move {
            if at_once && let Some((first, rest)) = batches.split_first() {
                // The first batch over IMAP (Dovecot creates the Maildir as its own user), the
                // rest straight into it, as a delivery agent does: one backlog of them all.
                dovecot.append_many(USER, "INBOX", first).await;
                for m in rest.iter().flatten() {
                    dovecot.deliver_offline(USER, "INBOX", m);
                }
                appended.store(count, Ordering::SeqCst);
                return;
            }
            for b in batches {
                dovecot.append_many(USER, "INBOX", &b).await;
                appended.fetch_add(b.len(), Ordering::SeqCst);
                tokio::time::sleep(pause).await;
            }
        }
    };
    let killer = async {
        let mean_gap = span.as_millis() as u64 / kills.max(1) as u64;
        let (mut done, mut behind, mut delivering) = (0, 0, 0);
        for _ in 0..kills {
            tokio::time::sleep(rng.millis(20, (2 * mean_gap).max(40))).await;
            let still_running = daemon.try_wait().expect("try_wait").is_none();
            assert!(
                still_running,
                "brokerwatch exited on its own before kill {}:\n{}",
                done + 1,
                log_tail(&log)
            );
            // Where the kill lands: mail not yet recorded, deliveries not yet sent.
            if let Some((recorded, pending)) = progress(&db) {
                behind += usize::from(appended.load(Ordering::SeqCst) > recorded as usize);
                delivering += usize::from(pending > 0);
            }
            daemon.start_kill().expect("SIGKILL");
            daemon.wait().await.expect("reap");
            done += 1;
            daemon = spawn(&config, &log);
        }
        (done, behind, delivering)
    };
    let (_, (killed, kills_behind, kills_delivering)) = tokio::join!(appender, killer);
    let appended_at = started.elapsed();

    // Let the last daemon catch up and drain the outbox.
    let drain_started = Instant::now();
    let deadline = drain_started + Duration::from_secs(180);
    loop {
        let (by_alert, _) = delivered_by_alert(&bot);
        let drained = progress(&db).is_some_and(|(m, pending)| m >= count as i64 && pending == 0)
            && by_alert.len() >= count;
        if drained || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let drain = drain_started.elapsed();
    assert!(
        daemon.try_wait().expect("try_wait").is_none(),
        "brokerwatch exited on its own:\n{}",
        log_tail(&log)
    );
    let pid = daemon.id().expect("pid").to_string();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let status = tokio::time::timeout(Duration::from_secs(20), daemon.wait())
        .await
        .expect("brokerwatch stops within 20 s of SIGTERM")
        .expect("wait");
    assert!(status.success(), "exit {status}:\n{}", log_tail(&log));

    // The state, read-only.
    let c = open_ro(&db).expect("open the state database read-only");
    let mut alerts_of: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    let mut rows_per_message: HashMap<String, usize> = HashMap::new();
    {
        let mut st = c
            .prepare(
                "SELECT m.message_id, a.id, a.kind FROM messages m LEFT JOIN alerts a ON a.message = m.id",
            )
            .expect("query");
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .expect("rows");
        for row in rows {
            let (mid, alert, kind) = row.expect("row");
            let mid = mid.unwrap_or_default().trim_matches(['<', '>']).to_string();
            *rows_per_message.entry(mid.clone()).or_default() += 1;
            if let (Some(a), Some(k)) = (alert, kind) {
                alerts_of.entry(mid).or_default().push((a, k));
            }
        }
    }
    let kinds: Vec<(String, i64)> = {
        let mut st = c
            .prepare("SELECT kind, COUNT(*) FROM alerts GROUP BY kind ORDER BY kind")
            .expect("query");
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("kinds")
    };
    let last_uid: i64 = c
        .query_row(
            "SELECT last_uid FROM checkpoints WHERE account=?1 AND mailbox='INBOX'",
            [USER],
            |r| r.get(0),
        )
        .expect("checkpoint");
    let pending: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM deliveries WHERE state='pending'",
            [],
            |r| r.get(0),
        )
        .expect("pending");

    let (by_alert, unmatched) = delivered_by_alert(&bot);
    let mut problems = Vec::new();
    let (mut deliveries, mut duplicates, mut worst) = (0, 0, 0);
    for n in &notices {
        let rows = rows_per_message.get(&n.message_id).copied().unwrap_or(0);
        let alerts = alerts_of.get(&n.message_id).cloned().unwrap_or_default();
        if rows != 1 || alerts.len() != 1 || alerts[0].1 != "unexpected" {
            problems.push(format!(
                "{}: {rows} message row(s), alerts {alerts:?}",
                n.message_id
            ));
            continue;
        }
        let sent = by_alert.get(&alerts[0].0).cloned().unwrap_or_default();
        if sent.is_empty() {
            problems.push(format!(
                "{} (alert {}): never reached Telegram",
                n.message_id, alerts[0].0
            ));
        }
        if let Some(t) = sent.iter().find(|t| !t.contains(&n.amount)) {
            problems.push(format!(
                "alert {} was sent without its amount {}: {t}",
                alerts[0].0, n.amount
            ));
        }
        deliveries += sent.len();
        duplicates += sent.len().saturating_sub(1);
        worst = worst.max(sent.len());
    }
    let takeover_ids: Vec<i64> = {
        let mut st = c
            .prepare("SELECT id FROM alerts WHERE kind='takeover'")
            .expect("query");
        st.query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("ids")
    };
    let takeover_sends: usize = takeover_ids
        .iter()
        .map(|id| by_alert.get(id).map_or(0, Vec::len))
        .sum();
    let elapsed = started.elapsed();
    eprintln!(
        "crash summary: seed={seed} kills={killed} notices={count} message_rows={} alert_rows={} \
         alerts_by_kind={kinds:?} telegram_deliveries={deliveries} duplicates={duplicates} \
         (most sends of one alert: {worst}) takeover_alerts={} (their messages: {takeover_sends}) \
         other_messages={unmatched} pending={pending} checkpoint_uid={last_uid} \
         kills_with_mail_unrecorded={kills_behind} kills_with_deliveries_pending={kills_delivering} \
         appended_in={:.1}s drained_in={:.1}s elapsed={:.1}s",
        rows_per_message.values().sum::<usize>(),
        alerts_of.values().map(Vec::len).sum::<usize>(),
        takeover_ids.len(),
        appended_at.as_secs_f64(),
        drain.as_secs_f64(),
        elapsed.as_secs_f64(),
    );
    // What the daemons complained about (restarts are expected to cause some), for the record.
    let daemon_log = std::fs::read_to_string(&log).unwrap_or_default();
    let mut complaints: BTreeMap<String, usize> = BTreeMap::new();
    for line in daemon_log.lines() {
        if let Some(at) = line.find("WARN ").or_else(|| line.find("ERROR ")) {
            // Counted by their wording, without the ids and numbers that vary.
            let text: String = line[at..]
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .take(160)
                .collect();
            *complaints.entry(text).or_default() += 1;
        }
    }
    for (text, n) in &complaints {
        eprintln!("crash: daemon log {n}×{text}");
    }
    assert_eq!(killed, kills);
    assert!(
        problems.is_empty(),
        "{} problem(s), first ones:\n{}\n--- daemon log ---\n{}",
        problems.len(),
        problems[..problems.len().min(20)].join("\n"),
        log_tail(&log)
    );
    assert_eq!(
        rows_per_message.len(),
        count,
        "message rows for mail that was never appended"
    );
    assert_eq!(
        last_uid, count as i64,
        "the checkpoint reached the last UID"
    );
    assert_eq!(pending, 0, "the outbox drained");
    for (kind, _) in &kinds {
        assert!(
            kind == "unexpected" || kind == "takeover",
            "unexpected alert kind `{kind}`: {kinds:?}"
        );
    }
    assert!(
        duplicates <= killed,
        "{duplicates} duplicate Telegram messages for {killed} kills"
    );
}
