//! Liveness of the watch itself: a mailbox that keeps failing (login refused, server
//! unreachable) raises "cannot watch" through the sinks that still work, once per outage, and
//! a quiet note when it works again. A silent watcher is worse than none.

use crate::alert::language::Language;
use crate::alert::raise::Draft;
use crate::alert::wording;
use crate::config::Config;
use crate::event::Severity;
use crate::source::{MailboxId, SourceEvent};
use crate::store::{Store, StoreError, now};
use crate::units::format_duration;

fn failing_key(mb: &MailboxId) -> String {
    format!("failing_since:{mb}")
}

fn alerted_key(mb: &MailboxId) -> String {
    format!("cannot_watch_alerted:{mb}")
}

/// What an outage is caused by: it decides the wording and how soon to tell.
#[derive(Clone, Copy)]
enum Cause {
    Login,
    Network,
    Secret,
    Folder,
    /// The server refuses the mailbox (SELECT/EXAMINE NO).
    Mailbox,
    /// OAuth2: the user must sign in again (told once per account, not per mailbox).
    SignIn,
}

/// Set while an account's "sign in again" alert is out: its other mailboxes say nothing more.
fn sign_in_key(mb: &MailboxId) -> String {
    format!("sign_in_alerted:{}", mb.account)
}

/// What an event has to tell, worded per language by [`Told::draft`].
#[derive(Clone)]
pub struct Told {
    mb: MailboxId,
    /// None: the mailbox works again after a reported outage.
    outage: Option<(String, Cause, i64)>,
}

impl Told {
    /// The alert in `lang`; the server's error is quoted as it came.
    pub fn draft(&self, lang: Language) -> Draft {
        let mb = &self.mb;
        match (&self.outage, lang) {
            (None, lang) => recovered_draft(lang, mb),
            (Some((error, cause, secs)), Language::Ja) => cannot_watch_ja(mb, error, *cause, *secs),
            (Some((error, cause, secs)), Language::En) => cannot_watch_en(mb, error, *cause, *secs),
        }
    }
}

/// Records a source event; returns an alert to write when an outage crosses the threshold or
/// ends after having been reported, in the config's language.
pub fn on_event(
    store: &Store,
    config: &Config,
    mb: &MailboxId,
    event: &SourceEvent,
) -> Result<Option<Draft>, StoreError> {
    Ok(told(store, config, mb, event)?.map(|t| t.draft(config.language)))
}

/// Records a source event; returns what to tell when an outage crosses the threshold or ends
/// after having been reported.
pub fn told(
    store: &Store,
    config: &Config,
    mb: &MailboxId,
    event: &SourceEvent,
) -> Result<Option<Told>, StoreError> {
    let (error, cause) = match event {
        SourceEvent::Ok => return recovered(store, mb),
        SourceEvent::LoginFailed(e) => (e, Cause::Login),
        SourceEvent::Unreachable(e) => (e, Cause::Network),
        SourceEvent::SecretUnreadable(e) => (e, Cause::Secret),
        SourceEvent::Folder(e) => (e, Cause::Folder),
        SourceEvent::MailboxRefused(e) => (e, Cause::Mailbox),
        SourceEvent::SignInNeeded(e) => (e, Cause::SignIn),
    };
    let Some(failing_secs) = outage_to_tell(store, config, mb, cause)? else {
        return Ok(None);
    };
    Ok(Some(Told {
        mb: mb.clone(),
        outage: Some((error.clone(), cause, failing_secs)),
    }))
}

/// The mailbox works: forget the outage, and say so if it had been reported.
fn recovered(store: &Store, mb: &MailboxId) -> Result<Option<Told>, StoreError> {
    store.kv_delete(&failing_key(mb))?;
    store.kv_delete(&sign_in_key(mb))?;
    if !store.kv_delete(&alerted_key(mb))? {
        return Ok(None);
    }
    Ok(Some(Told {
        mb: mb.clone(),
        outage: None,
    }))
}

fn recovered_draft(lang: Language, mb: &MailboxId) -> Draft {
    match lang {
        Language::Ja => Draft::health(
            Severity::Info,
            format!("brokerwatch: {mb} の監視を再開しました"),
            format!(
                "{mb} を再び読めるようになりました。停止中に届いた通知を、これから確認します。"
            ),
        ),
        Language::En => Draft::health(
            Severity::Info,
            format!("brokerwatch: watching {mb} again"),
            format!(
                "{mb} can be read again; notices that arrived meanwhile are being processed now."
            ),
        ),
    }
}

/// Records the failure; returns how long the mailbox has been failing when this is the moment
/// to tell (past the threshold of its cause, not told yet), or None.
fn outage_to_tell(
    store: &Store,
    config: &Config,
    mb: &MailboxId,
    cause: Cause,
) -> Result<Option<i64>, StoreError> {
    let t = now();
    let since = match store
        .kv_get(&failing_key(mb))?
        .and_then(|v| v.parse::<i64>().ok())
    {
        Some(s) => s,
        None => {
            store.kv_set(&failing_key(mb), &t.to_string())?;
            t
        }
    };
    // A refused or unreadable password, a missing folder do not fix themselves: tell at once.
    // A network outage may pass.
    let threshold = match cause {
        Cause::Network => config.cannot_watch_after.as_secs() as i64,
        Cause::Login | Cause::Secret | Cause::Folder | Cause::Mailbox | Cause::SignIn => 0,
    };
    if t - since < threshold || store.kv_get(&alerted_key(mb))?.is_some() {
        return Ok(None);
    }
    store.kv_set(&alerted_key(mb), &t.to_string())?;
    if matches!(cause, Cause::SignIn) {
        if store.kv_get(&sign_in_key(mb))?.is_some() {
            return Ok(None);
        }
        store.kv_set(&sign_in_key(mb), &t.to_string())?;
    }
    Ok(Some(t - since))
}

/// The "cannot watch" alert in English; the server's error is quoted as it came.
fn cannot_watch_en(mb: &MailboxId, error: &str, cause: Cause, failing_secs: i64) -> Draft {
    let title = match cause {
        Cause::Login => format!("brokerwatch cannot watch {mb}: the server refuses the login"),
        Cause::Network => format!("brokerwatch cannot watch {mb}: the server cannot be reached"),
        Cause::Secret => format!("brokerwatch cannot watch {mb}: its password cannot be read here"),
        // The error names the folder: `PATH: no such folder`.
        Cause::Folder => format!("brokerwatch cannot watch {error}"),
        // The server's own words: "Mailbox doesn't exist: Junk", "not valid mUTF-7", ….
        Cause::Mailbox => format!("brokerwatch cannot watch {mb}: {error}"),
        Cause::SignIn => format!(
            "brokerwatch cannot watch {account}: sign in again with `brokerwatch login {account}`",
            account = mb.account
        ),
    };
    let hint = match cause {
        Cause::Login => {
            "\nCheck the password (an app password for Gmail/Outlook) and run `brokerwatch doctor`."
        }
        Cause::Secret => {
            "\nThe `password:` source in the config (file, variable or command) gives nothing on this machine; `brokerwatch check` says which."
        }
        Cause::Folder => {
            "\nCheck the `maildir:` path in the config; `brokerwatch check` says whether it exists."
        }
        Cause::Mailbox => {
            "\nCheck the mailbox name in the config; `brokerwatch doctor` lists the server's mailboxes."
        }
        Cause::SignIn => {
            "\nThe OAuth2 sign-in ended (revoked, expired, or a Google client left in \"Testing\"). The old tokens file is kept for diagnosis."
        }
        Cause::Network => "",
    };
    Draft::health(
        Severity::Warning,
        title,
        format!(
            "Failing for {}: {error}\nUntil this is fixed, broker notices in {mb} are NOT being watched. \
             brokerwatch keeps retrying and catches up on everything once it can read the mailbox again.{hint}",
            format_duration(std::time::Duration::from_secs(failing_secs as u64)),
        ),
    )
}

/// The "cannot watch" alert in Japanese; the server's error is quoted as it came.
fn cannot_watch_ja(mb: &MailboxId, error: &str, cause: Cause, failing_secs: i64) -> Draft {
    let title = match cause {
        Cause::Login => format!("brokerwatch: {mb} を監視できません（ログインが拒否されました）"),
        Cause::Network => format!("brokerwatch: {mb} を監視できません（サーバーに接続できません）"),
        Cause::Secret => {
            format!("brokerwatch: {mb} を監視できません（パスワードを読み取れません）")
        }
        Cause::Folder => format!("brokerwatch: 監視できません（{error}）"),
        Cause::Mailbox => format!("brokerwatch: {mb} を監視できません（{error}）"),
        Cause::SignIn => format!(
            "brokerwatch: {account} を監視できません。`brokerwatch login {account}` でもう一度サインインしてください",
            account = mb.account
        ),
    };
    let hint = match cause {
        Cause::Login => {
            "\nパスワード（Gmail や Outlook ではアプリ パスワード）を確認し、`brokerwatch doctor` を実行してください。"
        }
        Cause::Secret => {
            "\n設定ファイルの `password:`（ファイル、環境変数、コマンド）から、このマシンでは値が得られません。`brokerwatch check` で原因を確認できます。"
        }
        Cause::Folder => {
            "\n設定ファイルの `maildir:` のパスを確認してください。`brokerwatch check` で存在するかどうかを確認できます。"
        }
        Cause::Mailbox => {
            "\n設定ファイルのメールボックス名を確認してください。`brokerwatch doctor` でサーバー上のメールボックス一覧を確認できます。"
        }
        Cause::SignIn => {
            "\nOAuth2 のサインインが終了しました（取り消し、有効期限切れ、または Google のクライアントが「テスト」のまま）。診断のため、以前のトークン ファイルは残してあります。"
        }
        Cause::Network => "",
    };
    let failing = if failing_secs < 60 {
        format!("エラー: {error}")
    } else {
        let d = std::time::Duration::from_secs(failing_secs as u64);
        format!(
            "{}前から失敗が続いています: {error}",
            wording::duration(Language::Ja, d)
        )
    };
    let body = format!(
        "{failing}\n復旧するまで、{mb} に届く証券会社の通知は監視されていません。brokerwatch は再試行を続け、読めるようになった時点で、それまでに届いた通知をすべて確認します。{hint}"
    );
    Draft::health(Severity::Warning, title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(name: &str) -> MailboxId {
        MailboxId {
            account: name.into(),
            mailbox: "INBOX".into(),
        }
    }

    /// Issue #18 item 4: an unreadable local password was "the server refuses the login", a
    /// missing Maildir "the server cannot be reached".
    #[test]
    fn local_causes_are_named_as_local_and_told_once() {
        let store = Store::open_memory().unwrap();
        let cfg =
            crate::config::load_str("cannot_watch_after: 1h\n", "t", std::path::Path::new("/"))
                .unwrap();
        let title =
            |m: &MailboxId, e: SourceEvent| on_event(&store, &cfg, m, &e).unwrap().map(|a| a.title);
        let secret = SourceEvent::SecretUnreadable("cannot read the IMAP password: …".into());
        assert_eq!(
            title(&mb("a"), secret.clone()).as_deref(),
            Some("brokerwatch cannot watch a/INBOX: its password cannot be read here")
        );
        assert_eq!(title(&mb("a"), secret), None, "told twice");
        let folder = SourceEvent::Folder("/home/u/Maildir: no such folder".into());
        assert_eq!(
            title(&mb("b"), folder).as_deref(),
            Some("brokerwatch cannot watch /home/u/Maildir: no such folder")
        );
        // A network outage still waits for `cannot_watch_after`.
        assert_eq!(
            title(&mb("c"), SourceEvent::Unreachable("refused".into())),
            None
        );
    }

    /// Each person reads an outage and its end in their own language, from one record of it.
    #[test]
    fn an_outage_and_its_end_are_told_in_each_language() {
        let store = Store::open_memory().unwrap();
        let cfg =
            crate::config::load_str("language: ja\n", "t", std::path::Path::new("/")).unwrap();
        let refused = SourceEvent::LoginFailed("[AUTHENTICATIONFAILED] no".into());
        let t = told(&store, &cfg, &mb("a"), &refused)
            .unwrap()
            .expect("told");
        assert!(
            t.draft(Language::Ja).title.contains("監視できません"),
            "{}",
            t.draft(Language::Ja).title
        );
        assert!(t.draft(Language::En).title.contains("cannot watch a/INBOX"));
        let back = told(&store, &cfg, &mb("a"), &SourceEvent::Ok)
            .unwrap()
            .expect("told");
        assert!(
            back.draft(Language::Ja)
                .title
                .contains("監視を再開しました")
        );
        assert!(
            back.draft(Language::En)
                .title
                .contains("watching a/INBOX again")
        );
    }
}
