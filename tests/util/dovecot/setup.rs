//! The server's files: dovecot.conf, the passwd-file users and the test CA with its server
//! certificate.

use super::*;

pub(super) fn config(root: &Path, imap_port: u16, imaps_port: u16, opts: Options) -> String {
    let r = root.display();
    let caps = if opts.idle {
        String::new()
    } else {
        // Dovecot's default list minus IDLE.
        "  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ SORT \
         THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED \
         I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH \
         LIST-STATUS BINARY MOVE\n"
            .to_string()
    };
    format!(
        r#"base_dir = {r}/base
state_dir = {r}/state
log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{r}/server.pem
ssl_key = <{r}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 1 secs
mail_location = maildir:{r}/mail/%u
mail_uid = {MAIL_UID}
mail_gid = {MAIL_UID}
first_valid_uid = 1000
# `/` as separator so `[Gmail]/迷惑メール`-style names nest; Junk carries SPECIAL-USE (RFC 6154).
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Junk {{
    special_use = \Junk
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_UID} home={r}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
# No growing penalty for repeated failed logins (the login-failure test retries quickly).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 200
{caps}}}
"#
    )
}

/// Settings appended to the configuration for [`Scale`] (none by default).
pub(super) fn scale_config(scale: Scale) -> String {
    let mut out = String::new();
    if scale.extra_users > 0 {
        // NOTE: with TLS every connection holds one imap-login (proxy) and one imap process;
        // Dovecot's default_process_limit of 100 would refuse the 101st login.
        let limit = 2 * (scale.extra_users + USERS.len()) + 100;
        out += &format!(
            "default_process_limit = {limit}\ndefault_client_limit = {}\n",
            4 * limit
        );
    }
    if let Some(every) = scale.idle_notify {
        out += &format!(
            "imap_idle_notify_interval = {} secs\n",
            every.as_secs().max(1)
        );
    }
    out
}

/// `user001`… with passwords unique to this server instance.
pub(super) fn generated_users(n: usize) -> Vec<(String, String)> {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let salt = h.finish();
    (1..=n)
        .map(|i| (format!("user{i:03}"), format!("pw-{salt:016x}-{i}")))
        .collect()
}

pub(super) fn write_users(root: &Path, extra: &[(String, String)]) {
    let passwd: String = USERS
        .iter()
        .map(|(u, p)| (*u, *p))
        .chain(extra.iter().map(|(u, p)| (u.as_str(), p.as_str())))
        .map(|(u, p)| format!("{u}:{{PLAIN}}{p}\n"))
        .collect();
    std::fs::write(root.join("passwd"), passwd).expect("write passwd");
    chmod(&root.join("passwd"), 0o644);
    for sub in ["mail", "home"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
        chown(&root.join(sub));
    }
}

/// A test CA, a server certificate it signs (localhost, 127.0.0.1), and an unrelated CA.
pub(super) fn make_certs(root: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for (name, cn) in [
        ("ca", "brokerwatch test CA"),
        ("other-ca", "untrusted test CA"),
    ] {
        let subj = format!("/CN={cn}");
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let mut args = vec![
            "req", "-x509", "-days", "2", "-subj", &subj, "-keyout", &key, "-out", &pem,
        ];
        args.extend(ec);
        args.extend([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(root, &args);
    }
    let mut args = vec![
        "req",
        "-new",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ];
    args.extend(ec);
    openssl(root, &args);
    std::fs::write(
        root.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext");
    openssl(
        root,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "server.ext",
        ],
    );
}

pub(super) fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
