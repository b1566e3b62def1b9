//! `brokerwatch status`: accounts and their last successful check, unacknowledged alerts,
//! pending deliveries, active expectations.

use std::path::Path;

use super::Outcome;
use crate::alert::language::Language;
use crate::store::Store;

pub fn run(cfg_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let Some((cfg, _)) = super::load(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    // Read-only: a status never creates the state it reports on.
    let db = cfg.db_path();
    let mut learned = None;
    match Store::open_existing(&db)? {
        Some(store) => {
            print!("{}", crate::watch::status::report(&cfg, &store)?);
            learned = crate::daemon::authserv::stored(&store);
        }
        None => {
            match cfg.language {
                Language::Ja => println!(
                    "状態データベース {} はまだありません。この設定ではデーモンがまだ動いていません。",
                    db.display()
                ),
                Language::En => println!(
                    "No state database at {} yet: the daemon has not run with this config.",
                    db.display()
                ),
            }
            print!(
                "{}",
                crate::watch::status::report(&cfg, &Store::open_memory()?)?
            );
        }
    }
    if cfg.authserv_auto {
        match learned {
            Some(l) => println!(
                "Sender checks: trusting {} (authserv_ids: auto, learned from {} of {} recent mails)",
                l.id, l.seen, l.of
            ),
            None => println!(
                "Sender checks: authenticity unknown: `authserv_ids: auto` has not learned your \
                 server's authserv-id yet (the daemon learns it from recent mail); no sender is verified"
            ),
        }
    } else if cfg.authserv_ids.is_empty() {
        println!(
            "{}",
            cfg.language.pick(
                "送信元の確認: 真正性は不明です（`authserv_ids` が未設定のため、どの送信元も確認できません）。\
                 `brokerwatch doctor` で、お使いのサーバーの authserv-id を提案します",
                "Sender checks: authenticity unknown (no `authserv_ids`): no sender is verified; \
                 `brokerwatch doctor` proposes your server's authserv-id"
            )
        );
    }
    Ok(Outcome::Ok)
}
