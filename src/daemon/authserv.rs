//! `authserv_ids: auto`: the daemon learns its user's receiving server's authserv-id from the
//! recent mail of the configured mailboxes at each start (the way `doctor` proposes it, see
//! [`crate::assess::authserv`]), says what it learned, uses it, and keeps it in the state database so
//! that the next start trusts it at once while it learns again. Until an id is learned,
//! authenticity is unknown, and the log says so.

use std::path::Path;
use std::time::Duration;

use crate::assess::authserv::{self, Learned};
use crate::config::live::Live;
use crate::config::{AccountSource, Config};
use crate::source::imap::{self, Timeouts};
use crate::store::Store;

/// State key of the last learned id: `ID SEEN OF`.
pub const KEY: &str = "authserv_id_learned";

/// Mail files per Maildir whose headers are read (IMAP reads its newest 30 per mailbox).
const RECENT_FILES: usize = 30;

const TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(30),
    command: Duration::from_secs(60),
};

/// The trace headers of recent mail in every configured mailbox, and why some could not be read.
pub async fn recent_headers(cfg: &Config) -> (Vec<Vec<u8>>, Vec<String>) {
    let (mut headers, mut problems) = (Vec::new(), Vec::new());
    for a in &cfg.accounts {
        match &a.source {
            AccountSource::Imap(i) => match imap::probe(i, &TIMEOUTS).await {
                Ok(p) => headers.extend(p.recent_headers),
                Err(e) => problems.push(format!("{}: {e}", a.name)),
            },
            AccountSource::Maildir(m) => match maildir_headers(&m.path) {
                Ok(h) => headers.extend(h),
                Err(e) => problems.push(format!("{}: {e}", a.name)),
            },
        }
    }
    (headers, problems)
}

/// What the recent mail says, or why nothing could be learned.
pub async fn learn(cfg: &Config) -> Result<Learned, String> {
    let (headers, problems) = recent_headers(cfg).await;
    match authserv::learn(headers.iter().map(Vec::as_slice)) {
        Some(l) => Ok(l),
        None if !problems.is_empty() => Err(problems.join("; ")),
        None => Err(format!(
            "no authserv-id is written consistently above the server's own Received in {} recent mails",
            headers.len()
        )),
    }
}

/// The id learned by an earlier run, if any.
pub fn stored(store: &Store) -> Option<Learned> {
    let v = store.kv_get(KEY).ok()??;
    let mut w = v.split_whitespace();
    Some(Learned {
        id: w.next()?.to_string(),
        seen: w.next()?.parse().ok()?,
        of: w.next()?.parse().ok()?,
    })
}

/// For `auto`: trusts the id learned earlier at once, then learns again in the background.
pub fn start(live: &Live, store: &Store) -> Option<impl Future<Output = ()> + use<>> {
    let cfg = live.config();
    if !cfg.authserv_auto {
        return None;
    }
    if let Some(l) = stored(store) {
        tracing::info!(
            "authserv-id {} (learned earlier from {} of {} recent mails); checking recent mail again",
            l.id,
            l.seen,
            l.of
        );
        trust(live, &l.id);
    } else {
        tracing::warn!(
            "authenticity unknown until the authserv-id is learned from recent mail \
             (`authserv_ids: auto`): no sender is verified yet"
        );
    }
    Some(learner(live.clone(), store.clone()))
}

/// Keeps the learned id across a reload of an `auto` configuration.
pub fn keep_learned(current: &Config, next: &mut Config) {
    if next.authserv_auto && current.authserv_auto && next.authserv_ids.is_empty() {
        next.authserv_ids = current.authserv_ids.clone();
    }
}

fn trust(live: &Live, id: &str) {
    let snap = live.snapshot();
    let mut cfg = (*snap.config).clone();
    cfg.authserv_ids = vec![id.to_string()];
    live.replace(cfg, (*snap.rules).clone());
}

/// Learns until it succeeds (a server down at start, a mailbox with no mail yet), backing off
/// to hourly.
async fn learner(live: Live, store: Store) {
    let mut wait = Duration::from_secs(60);
    loop {
        let cfg = live.config();
        let learned = learn(&cfg).await;
        match learned {
            Ok(l) => {
                tracing::info!(
                    "authserv-id learned: {} from {} of {} recent mails",
                    l.id,
                    l.seen,
                    l.of
                );
                if let Err(e) = store.kv_set(KEY, &format!("{} {} {}", l.id, l.seen, l.of)) {
                    tracing::warn!("cannot keep the learned authserv-id: {e}");
                }
                trust(&live, &l.id);
                return;
            }
            Err(why) if cfg.authserv_ids.is_empty() => tracing::warn!(
                "authenticity unknown: authserv-id not learned yet ({why}); no sender is verified; trying again in {}s",
                wait.as_secs()
            ),
            Err(why) => tracing::info!(
                "authserv-id not learned again ({why}); still trusting {}; trying again in {}s",
                cfg.authserv_ids.join(", "),
                wait.as_secs()
            ),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(3600));
    }
}

/// The header blocks of the newest mail files of a Maildir (`new/` and `cur/`).
fn maildir_headers(root: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut files = Vec::new();
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(root.join(sub))?.flatten() {
            let modified = e.metadata().and_then(|m| m.modified()).ok();
            files.push((modified, e.path()));
        }
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    let mut out = Vec::new();
    for (_, path) in files.into_iter().take(RECENT_FILES) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let end = find(&bytes, b"\r\n\r\n")
            .or_else(|| find(&bytes, b"\n\n"))
            .unwrap_or(bytes.len());
        out.push(bytes[..end].to_vec());
    }
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_headers_are_the_newest_header_blocks() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let mail = "Authentication-Results: mx.example.jp; dkim=pass\r\nReceived: from a by mx.example.jp\r\nSubject: x\r\n\r\nbody Authentication-Results: evil.example\r\n";
        for i in 0..3 {
            std::fs::write(dir.path().join(format!("cur/{i}:2,S")), mail).unwrap();
        }
        let h = maildir_headers(dir.path()).unwrap();
        assert_eq!(h.len(), 3);
        assert!(!String::from_utf8_lossy(&h[0]).contains("body"));
        let l = authserv::learn(h.iter().map(Vec::as_slice)).unwrap();
        assert_eq!((l.id.as_str(), l.seen, l.of), ("mx.example.jp", 3, 3));
    }

    #[test]
    fn stored_round_trip() {
        let s = Store::open_memory().unwrap();
        assert_eq!(stored(&s), None);
        s.kv_set(KEY, "mx.example.jp 37 40").unwrap();
        assert_eq!(
            stored(&s),
            Some(Learned {
                id: "mx.example.jp".into(),
                seen: 37,
                of: 40
            })
        );
    }
}
