//! Loading what the program judges by: the configuration file and the rule packs it names,
//! checked against each other, every problem collected with its `file:line:col`. The CLI and
//! the daemon's reload read them the same way.

use std::path::Path;

use super::{Config, Problem, Problems};
use crate::rules::{self, RuleSet};

/// Config + rules + the cross-checks between them, all problems collected.
pub fn load_checked(cfg_path: Option<&Path>) -> Result<(Config, RuleSet), Problems> {
    let (cfg, mut problems) = match super::locate(cfg_path) {
        Some(p) if p.exists() || cfg_path.is_some() => super::load_partial(&p),
        _ => (super::builtin(), Vec::new()),
    };
    let set = match rules::load(cfg.shipped_rules, &cfg.rules_dirs) {
        Ok(set) => Some(set),
        Err(p) => {
            problems.extend(p.0);
            None
        }
    };
    let label = cfg
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "config".into());
    if let Some(set) = &set {
        for a in cfg
            .allowances
            .iter()
            .filter(|a| set.pack(&a.broker).is_none())
        {
            problems.push(Problem {
                file: label.clone(),
                loc: a.loc,
                message: format!(
                    "unknown broker `{}` (known: {})",
                    a.broker,
                    set.packs
                        .iter()
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    match set {
        Some(set) if problems.is_empty() => Ok((cfg, set)),
        _ => {
            problems.sort_by(|a, b| (&a.file, a.loc).cmp(&(&b.file, b.loc)));
            Err(Problems(problems))
        }
    }
}
