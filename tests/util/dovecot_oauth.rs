//! The test Dovecot with its `oauth2` passdb: XOAUTH2 and OAUTHBEARER next to PLAIN/LOGIN,
//! bearer tokens validated by RFC 7662 introspection (`introspection_mode = post`) against the
//! fake authorization server ([`super::fakeauth`]). The AUTHENTICATE exchange is Dovecot's own.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use super::dovecot::{Dovecot, Options, Scale};

/// A Dovecot that takes OAuth2 bearer tokens checked at `introspection_url`. `dir` (kept by the
/// caller) holds the passdb's settings file.
pub fn start(dir: &Path, introspection_url: &str) -> Dovecot {
    let file = oauth2_settings(dir, introspection_url);
    let extra = format!(
        "auth_mechanisms = plain login xoauth2 oauthbearer\n\
         passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {}\n}}\n",
        file.display()
    );
    Dovecot::start_extra(Options::default(), Scale::default(), &extra)
}

fn oauth2_settings(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("dovecot-oauth2.conf.ext");
    std::fs::write(
        &path,
        format!(
            "introspection_mode = post\n\
             introspection_url = {url}\n\
             force_introspection = yes\n\
             username_attribute = username\n\
             active_attribute = active\n\
             active_value = true\n"
        ),
    )
    .expect("write oauth2 passdb settings");
    // The auth process does not run as root.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    path
}
