//! The chat commands and button callbacks a person can send, parsed into [`Response`]s.
//!
//! Pure functions: the network side (who may send them, answering) lives in `poll`.

use std::time::Duration;

use crate::alert::Response;
use crate::event::EventKind;

/// The commands registered with setMyCommands, and the usage text for a bad one.
pub const COMMANDS: [(&str, &str); 4] = [
    ("ack", "Acknowledge an alert: /ack ID"),
    ("status", "Show open alerts and expectations"),
    (
        "expect",
        "Declare an expected notice: /expect BROKER EVENT [30m|24h|7d]",
    ),
    ("mute", "Mute repeats for a while: /mute 2h"),
];

/// How long "Snooze 1h" snoozes.
pub const SNOOZE: Duration = Duration::from_secs(3600);

/// The longest duration accepted in a command (a typo like `/mute 9999d` is refused).
const MAX_DURATION: Duration = Duration::from_secs(90 * 24 * 3600);

/// The short help sent back for an unknown command or bad arguments.
pub fn usage() -> String {
    let mut s = String::from("brokerwatch commands:\n");
    for (name, help) in COMMANDS {
        s.push_str(&format!("/{name} — {help}\n"));
    }
    s
}

/// What a text message from an allowed chat asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A well-formed command.
    Command(Response),
    /// A command we do not know or with bad arguments: answer with this (usage appended).
    Usage(String),
    /// Not a command, or addressed to another bot: ignore.
    Ignore,
}

/// Parses a chat message. `me` is our bot username (without `@`), if known: `/ack@other 5` is
/// then left to the other bot.
pub fn parse_command(text: &str, me: Option<&str>, by: &str) -> Parsed {
    let Some(rest) = text.trim().strip_prefix('/') else {
        return Parsed::Ignore;
    };
    let mut words = rest.split_whitespace();
    let head = words.next().unwrap_or("");
    let (name, target) = head.split_once('@').unwrap_or((head, ""));
    if let Some(me) = me
        && !target.is_empty()
        && !target.eq_ignore_ascii_case(me)
    {
        return Parsed::Ignore;
    }
    let args: Vec<&str> = words.collect();
    let by = by.to_string();
    let result = match name.to_ascii_lowercase().as_str() {
        "ack" => parse_ack(&args, by),
        "status" => Ok(Response::Status { by }),
        "expect" => parse_expect(&args, by),
        "mute" => parse_mute(&args, by),
        "start" | "help" => Err(String::new()),
        other => Err(format!("Unknown command /{other}.")),
    };
    match result {
        Ok(r) => Parsed::Command(r),
        Err(why) if why.is_empty() => Parsed::Usage(usage()),
        Err(why) => Parsed::Usage(format!("{why}\n\n{}", usage())),
    }
}

fn parse_ack(args: &[&str], by: String) -> Result<Response, String> {
    match args {
        [id] => parse_id(id).map(|alert_id| Response::Ack { alert_id, by }),
        _ => Err("Usage: /ack ID (the number shown in the alert).".into()),
    }
}

fn parse_id(s: &str) -> Result<i64, String> {
    s.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("`{s}` is not an alert id."))
}

fn parse_expect(args: &[&str], by: String) -> Result<Response, String> {
    let (broker, event, dur) = match args {
        [b, e] => (b, e, None),
        [b, e, d] => (b, e, Some(parse_duration(d)?)),
        _ => {
            return Err(
                "Usage: /expect BROKER EVENT [DURATION], e.g. /expect sbi withdrawal 24h".into(),
            );
        }
    };
    let event = event.to_ascii_lowercase();
    event.parse::<EventKind>().map_err(|e| e.to_string())?;
    Ok(Response::Expect {
        broker: broker.to_ascii_lowercase(),
        event,
        for_: dur,
        by,
    })
}

fn parse_mute(args: &[&str], by: String) -> Result<Response, String> {
    match args {
        [d] => parse_duration(d).map(|for_| Response::Mute { for_, by }),
        _ => Err("Usage: /mute DURATION, e.g. /mute 2h".into()),
    }
}

/// Parses `90s`, `30m`, `2H`, `10min`, `7d` (as `units::parse_duration`, any case, `min` for `m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = |_| format!("`{s}` is not a duration (use e.g. 30m, 24h, 7d).");
    let d =
        crate::units::parse_duration(&s.to_ascii_lowercase().replace("min", "m")).map_err(bad)?;
    if d.is_zero() || d > MAX_DURATION {
        return Err(format!("`{s}` is out of range (1s to 90d)."));
    }
    Ok(d)
}

/// The callback data of each button: `ack:<id>`, `notme:<id>`, `snooze:<id>`.
pub fn callback_data(action: &str, alert_id: i64) -> String {
    format!("{action}:{alert_id}")
}

/// Parses a button's callback data, with the text to show in the answer toast.
pub fn parse_callback(data: &str, by: &str) -> Option<(Response, &'static str)> {
    let (action, id) = data.split_once(':')?;
    let alert_id = parse_id(id).ok()?;
    let by = by.to_string();
    match action {
        "ack" => Some((Response::Ack { alert_id, by }, "Acknowledged. Thank you.")),
        "notme" => Some((
            Response::NotMe { alert_id, by },
            "Marked NOT YOU: the steps to lock the account follow.",
        )),
        "snooze" => Some((
            Response::Snooze {
                alert_id,
                by,
                for_: SNOOZE,
            },
            "Snoozed for 1 hour.",
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(text: &str) -> Parsed {
        parse_command(text, Some("bw_bot"), "telegram:alice")
    }

    #[test]
    fn parses_ack_status_expect_mute() {
        let by = "telegram:alice".to_string();
        assert_eq!(
            cmd("/ack 42"),
            Parsed::Command(Response::Ack {
                alert_id: 42,
                by: by.clone()
            })
        );
        assert_eq!(
            cmd("/ack@BW_bot 42"),
            Parsed::Command(Response::Ack {
                alert_id: 42,
                by: by.clone()
            })
        );
        assert_eq!(
            cmd("/status"),
            Parsed::Command(Response::Status { by: by.clone() })
        );
        assert_eq!(
            cmd("/expect SBI withdrawal 24h"),
            Parsed::Command(Response::Expect {
                broker: "sbi".into(),
                event: "withdrawal".into(),
                for_: Some(Duration::from_secs(86400)),
                by: by.clone(),
            })
        );
        assert_eq!(
            cmd("/mute 30m"),
            Parsed::Command(Response::Mute {
                for_: Duration::from_secs(1800),
                by
            })
        );
    }

    #[test]
    fn bad_commands_get_usage_and_others_are_ignored() {
        for bad in [
            "/ack",
            "/ack x",
            "/ack 0",
            "/frobnicate",
            "/expect sbi teleport",
            "/mute 5y",
            "/mute 0m",
            "/help",
        ] {
            assert!(
                matches!(cmd(bad), Parsed::Usage(u) if u.contains("/ack")),
                "{bad}"
            );
        }
        assert_eq!(cmd("/ack@other_bot 5"), Parsed::Ignore);
        assert_eq!(cmd("hello"), Parsed::Ignore);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(parse_duration("91d").is_err());
    }

    #[test]
    fn callbacks_round_trip() {
        let (r, _) = parse_callback(&callback_data("notme", 9), "x").unwrap();
        assert_eq!(
            r,
            Response::NotMe {
                alert_id: 9,
                by: "x".into()
            }
        );
        let (r, _) = parse_callback("snooze:9", "x").unwrap();
        assert!(matches!(r, Response::Snooze { for_, .. } if for_ == SNOOZE));
        assert!(parse_callback("rm:9", "x").is_none());
        assert!(parse_callback("ack:-1", "x").is_none());
    }
}
