//! Mailbox names on the wire: IMAP's modified UTF-7 (RFC 3501 5.1.3).
//!
//! Users write folder names as they see them (`Überweisungen-出金`, `[Gmail]/迷惑メール`); the
//! server expects and sends them encoded. Printable ASCII except `&` stands for itself, `&` is
//! `&-`, and everything else is UTF-16BE in base64 (with `,` for `/`, no padding) between `&`
//! and `-`.
//!
//! NOTE: written here rather than taken from a crate: the codec is ~80 lines, and the crates
//! found (utf7-imap) could not be checked from this machine for `&` and surrogate-pair handling.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Encodes a mailbox name for the wire.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut out, &mut pending);
    out
}

/// Writes the pending UTF-16 units as one `&…-` run.
fn flush(out: &mut String, pending: &mut Vec<u16>) {
    if pending.is_empty() {
        return;
    }
    let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
    out.push('&');
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out.push('-');
    pending.clear();
}

/// Why a name from the server is not valid modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid modified UTF-7 mailbox name")]
pub struct DecodeError(pub String);

/// Decodes a mailbox name as the server sent it.
pub fn decode(wire: &str) -> Result<String, DecodeError> {
    let bad = || DecodeError(wire.to_string());
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find('-').ok_or_else(bad)?;
        let run = &after[..end];
        if run.is_empty() {
            out.push('&');
        } else {
            out.push_str(&decode_run(run).ok_or_else(bad)?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn decode_run(run: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut bytes = Vec::new();
    for c in run.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3501_examples() {
        // RFC 3501 5.1.3's own example.
        assert_eq!(
            encode("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(
            decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(),
            "~peter/mail/台北/日本語"
        );
    }

    #[test]
    fn ampersand_and_ascii() {
        assert_eq!(encode("INBOX"), "INBOX");
        assert_eq!(encode("Tom & Jerry"), "Tom &- Jerry");
        assert_eq!(decode("Tom &- Jerry").unwrap(), "Tom & Jerry");
        assert_eq!(encode("[Gmail]/Spam"), "[Gmail]/Spam");
    }

    #[test]
    fn round_trips_japanese_german_and_emoji() {
        for name in [
            "Überweisungen-出金",
            "[Gmail]/迷惑メール",
            "出金&入金",
            "a😀b",
            "&&",
            "ü",
            "",
        ] {
            let wire = encode(name);
            assert!(wire.is_ascii(), "{wire}");
            assert_eq!(decode(&wire).unwrap(), name, "{wire}");
        }
        // Gmail's Japanese spam folder as Gmail sends it.
        assert_eq!(encode("[Gmail]/迷惑メール"), "[Gmail]/&j,dg0TDhMPww6w-");
    }

    #[test]
    fn rejects_broken_names() {
        assert!(decode("&Jjo").is_err());
        assert!(decode("&*-").is_err());
        assert!(decode("&2D0-").is_err()); // a lone surrogate half
    }
}
