//! `brokerwatch ack ID`: acknowledge an alert; its repeats stop.

use std::path::Path;

use super::Outcome;
use crate::store::Store;

pub fn run(cfg_path: Option<&Path>, id: i64) -> anyhow::Result<Outcome> {
    let Some((cfg, _)) = super::load(cfg_path) else {
        return Ok(Outcome::Usage);
    };
    let store = Store::open(&cfg.db_path())?;
    let by = format!("cli:{}", super::user());
    if crate::alert::recipients::acknowledge(&store, &cfg, id, &by, None)? {
        println!("alert #{id} acknowledged");
        Ok(Outcome::Ok)
    } else {
        match store.alert(id)? {
            Some(a) => anyhow::bail!(
                "alert #{id} was already acknowledged by {}",
                a.acked_by.unwrap_or_default()
            ),
            None => anyhow::bail!("no alert #{id}"),
        }
    }
}
