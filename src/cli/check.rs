//! `brokerwatch check`: validate config and rule packs without touching the network; also that
//! the secrets and Maildir folders the config names are there (see `local`).

use std::path::Path;

use super::Outcome;

pub fn run(cfg_path: Option<&Path>) -> anyhow::Result<Outcome> {
    let Some((cfg, rules)) = super::load_here(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    let source = cfg
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "built-in defaults (no config file)".into());
    println!(
        "ok: {source}: {} account(s), {} broker pack(s), {} rule(s), {} allowance(s)",
        cfg.accounts.len(),
        rules.packs.len(),
        rules.rule_count(),
        cfg.allowances.len()
    );
    for a in &cfg.accounts {
        if let crate::config::AccountSource::Imap(i) = &a.source
            && let crate::config::ImapAuth::OAuth2(o) = &i.auth
            && let crate::config::oauth2::TokenStore::File(f) = &o.store
            && !f.exists()
        {
            println!(
                "note: account `{}` is not signed in yet: run `brokerwatch login {}` \
                 (アカウント `{}` は未サインインです: `brokerwatch login {}` を実行してください)",
                a.name, a.name, a.name, a.name
            );
        }
    }
    if cfg.authserv_auto {
        println!(
            "note: `authserv_ids: auto`: the daemon learns your server's authserv-id from recent mail \
             (`brokerwatch doctor` shows what it finds)"
        );
    } else if cfg.authserv_ids.is_empty() {
        println!(
            "note: no `authserv_ids` configured: brokerwatch cannot tell genuine notices from spoofed ones \
             (set it to your receiving server's authserv-id, e.g. mx.google.com for Gmail, or to `auto`)"
        );
    }
    Ok(Outcome::Ok)
}
