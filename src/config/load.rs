//! Loading what the program judges by: the configuration file and the rule packs it names,
//! checked against each other, every problem collected with its `file:line:col`. The CLI and
//! the daemon's reload read them the same way. The file I/O is here (reading, the permission
//! warnings); `compile` only reads text.

use std::path::Path;

use super::secret::SecretSource;
use super::{AccountSource, Config, Problem, Problems};
use crate::rules::{self, RuleSet};
use crate::yaml::Loc;

/// Reads and checks a config file. Relative paths in it are relative to the file's folder.
pub fn load(path: &Path) -> Result<Config, Problems> {
    let (cfg, problems) = load_partial(path);
    if problems.is_empty() {
        Ok(cfg)
    } else {
        Err(Problems(problems))
    }
}

/// Like [`load`], but also returns the best-effort config when there are problems, so that the
/// checks that need it (allowances against rule packs) can still report theirs in the same run.
pub fn load_partial(path: &Path) -> (Config, Vec<Problem>) {
    let label = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let problem = Problem {
                file: label,
                loc: Loc { line: 1, col: 1 },
                message: format!("cannot read config: {e}"),
            };
            return (super::builtin(), vec![problem]);
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let (mut cfg, problems) = super::compile::compile(&text, &label, base);
    cfg.path = Some(path.to_path_buf());
    cfg.warnings.extend(permission_warnings(path, &cfg));
    (cfg, problems)
}

/// Config + rules + the cross-checks between them, all problems collected.
pub fn load_checked(cfg_path: Option<&Path>) -> Result<(Config, RuleSet), Problems> {
    let (cfg, mut problems) = match super::locate(cfg_path) {
        Some(p) if p.exists() || cfg_path.is_some() => load_partial(&p),
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

/// Secret files (and a config that embeds a secret command) readable by others get a warning.
fn permission_warnings(path: &Path, cfg: &Config) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let readable_by_others = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o044 != 0)
            .unwrap_or(false)
    };
    let mut sources: Vec<&SecretSource> = cfg
        .accounts
        .iter()
        .filter_map(|a| match &a.source {
            AccountSource::Imap(i) => i.auth.secrets(),
            AccountSource::Maildir(_) => None,
        })
        .collect();
    if let Some(t) = &cfg.sinks.telegram {
        sources.push(&t.token);
    }
    let mut out = Vec::new();
    for s in &sources {
        if let SecretSource::File(f) = s
            && readable_by_others(f)
        {
            out.push(format!(
                "secret file {} is readable by other users: chmod 600 it",
                f.display()
            ));
        }
    }
    let embeds = sources
        .iter()
        .any(|s| matches!(s, SecretSource::Command(_)));
    if embeds && readable_by_others(path) {
        out.push(format!(
            "config {} names a secret command and is readable by other users: chmod 600 it",
            path.display()
        ));
    }
    out
}
