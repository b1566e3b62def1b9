//! `brokerwatch expect BROKER EVENT [--for 24h] [--note TEXT]`: declare a notice as expected.

use std::path::Path;
use std::time::Duration;

use super::Outcome;
use crate::alert::Response;
use crate::respond::Responder;
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
    if rules.pack(broker).is_none() || event.parse::<crate::event::EventKind>().is_err() {
        let known: Vec<&str> = rules.packs.iter().map(|p| p.id.as_str()).collect();
        eprintln!(
            "brokerwatch: expect needs a known broker ({}) and event ({})",
            known.join(", "),
            crate::event::EventKind::ALL.map(|e| e.as_str()).join(", ")
        );
        return Ok(Outcome::Usage);
    }
    let store = Store::open(&cfg.db_path())?;
    let by = match note {
        Some(n) => format!("{} ({n})", super::user()),
        None => super::user(),
    };
    let responder = Responder {
        store,
        live: crate::live::Live::new(cfg.into(), rules.into()),
    };
    let reply = responder.handle(&Response::Expect {
        broker: broker.to_string(),
        event: event.to_string(),
        for_,
        by,
    })?;
    println!("{reply}");
    Ok(Outcome::Ok)
}
