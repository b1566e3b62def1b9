//! Values the config's parts share once written: paths relative to the file, secrets by
//! reference, and which hosts are this machine.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::raw::RawSecret;
use super::secret::SecretSource;
use crate::yaml::{At, Collector};

/// A path as written, relative to the config file's folder; `~/` is the home folder.
pub fn resolve_path(base: &Path, p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = directories::BaseDirs::new()
    {
        return home.home_dir().join(rest);
    }
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

/// Where a secret comes from: exactly one of a file, a variable or a command.
pub fn secret(c: &mut Collector, s: &At<RawSecret>, base: &Path) -> Option<SecretSource> {
    let v = &s.value;
    match (&v.file, &v.env, &v.command) {
        (Some(f), None, None) => Some(SecretSource::File(resolve_path(base, f))),
        (None, Some(e), None) => Some(SecretSource::Env(e.clone())),
        (None, None, Some(cmd)) => Some(SecretSource::Command(cmd.clone())),
        _ => {
            c.error(
                s.loc,
                "a secret needs exactly one of `file`, `env` or `command` (a literal value is not accepted: config files get shared)",
            );
            None
        }
    }
}

/// True for `localhost`, 127.0.0.0/8 and ::1 (bracketed or not): the only hosts plaintext IMAP
/// and http endpoints may go to.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}
