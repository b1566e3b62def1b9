//! `brokerwatch expect BROKER EVENT [--for 24h] [--note TEXT]`: declare a notice as expected.

use std::path::Path;
use std::time::Duration;

use super::Outcome;
use crate::alert::Response;
use crate::daemon::respond::Responder;
use crate::event::EventKind;
use crate::store::Store;

pub fn run(
    cfg_path: Option<&Path>,
    broker: &str,
    event: &str,
    for_: Option<Duration>,
    note: Option<&str>,
) -> anyhow::Result<Outcome> {
    let Some((cfg, rules)) = super::load(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    // `SBI`, `Withdrawal`, `email-change` mean what they say.
    let broker = broker.to_lowercase();
    let event = event.to_lowercase().replace('-', "_");
    let brokers: Vec<&str> = rules.packs.iter().map(|p| p.id.as_str()).collect();
    let events = EventKind::ALL.map(|e| e.as_str());
    let mut wrong = Vec::new();
    if rules.pack(&broker).is_none() {
        wrong.push(unknown("BROKER", &broker, &brokers));
    }
    if event.parse::<EventKind>().is_err() {
        wrong.push(unknown("EVENT", &event, &events));
    }
    if !wrong.is_empty() {
        for w in wrong {
            eprintln!("brokerwatch: expect: {w}");
        }
        return Ok(Outcome::Usage);
    }
    let db = cfg.db_path();
    if !db.exists() {
        eprintln!(
            "brokerwatch: note: no state database at {} yet: created for this expectation; \
             the daemon reads it when it runs with this config",
            db.display()
        );
    }
    let store = Store::open(&db)?;
    let by = match note {
        Some(n) => format!("{} ({n})", super::user()),
        None => super::user(),
    };
    let responder = Responder {
        store,
        live: crate::config::live::Live::new(cfg.into(), rules.into()),
    };
    let reply = responder.handle(&Response::Expect {
        broker,
        event,
        for_,
        by,
    })?;
    println!("{reply}");
    Ok(Outcome::Ok)
}

/// `unknown EVENT `withdrawl`: did you mean `withdrawal`? (one of: …)`.
fn unknown(what: &str, got: &str, known: &[&str]) -> String {
    let closest = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(got, k), *k))
        .min()
        .filter(|(d, k)| *d <= 2.max(k.len() / 3));
    let hint = closest
        .map(|(_, k)| format!(" did you mean `{k}`?"))
        .unwrap_or_default();
    format!(
        "unknown {what} `{got}`:{hint} (one of: {})",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::unknown;

    #[test]
    fn a_typo_gets_the_closest_name_and_nonsense_gets_none() {
        let events = ["withdrawal", "email_change", "login"];
        assert_eq!(
            unknown("EVENT", "withdrawl", &events),
            "unknown EVENT `withdrawl`: did you mean `withdrawal`? (one of: withdrawal, email_change, login)"
        );
        assert!(unknown("EVENT", "emailchange", &events).contains("`email_change`?"));
        assert!(!unknown("EVENT", "xyzzy", &events).contains("did you mean"));
        assert!(unknown("BROKER", "sbl", &["sbi", "monex"]).contains("did you mean `sbi`?"));
    }
}
