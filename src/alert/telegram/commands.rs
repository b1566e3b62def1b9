//! The chat commands and button callbacks a person can send, parsed into [`Response`]s.
//!
//! Pure functions: the network side (who may send them, answering) lives in `poll`.

use std::time::Duration;

use crate::alert::Response;
use crate::alert::language::Language;
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

/// The command list in `lang`, for setMyCommands and the usage text.
pub fn commands(lang: Language) -> [(&'static str, &'static str); 4] {
    COMMANDS.map(|(name, help)| {
        let ja = match name {
            "ack" => "アラートを確認済みにする: /ack 番号",
            "status" => "未確認のアラートと予定の一覧",
            "expect" => "予定している通知を登録する: /expect 証券会社 種類 [30m|24h|7d]",
            "mute" => "再通知をしばらく止める: /mute 2h",
            _ => help,
        };
        (name, lang.pick(ja, help))
    })
}

/// The short help sent back for an unknown command or bad arguments.
pub fn usage(lang: Language) -> String {
    let mut s = String::from(lang.pick("brokerwatch のコマンド:\n", "brokerwatch commands:\n"));
    for (name, help) in commands(lang) {
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
/// then left to the other bot. Usage texts are in `lang`.
pub fn parse_command(text: &str, me: Option<&str>, by: &str, lang: Language) -> Parsed {
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
        "ack" => parse_ack(&args, by, lang),
        "status" => Ok(Response::Status { by }),
        "expect" => parse_expect(&args, by, lang),
        "mute" => parse_mute(&args, by, lang),
        "start" | "help" => Err(String::new()),
        other => Err(match lang {
            Language::Ja => format!("/{other} というコマンドはありません。"),
            Language::En => format!("Unknown command /{other}."),
        }),
    };
    match result {
        Ok(r) => Parsed::Command(r),
        Err(why) if why.is_empty() => Parsed::Usage(usage(lang)),
        Err(why) => Parsed::Usage(format!("{why}\n\n{}", usage(lang))),
    }
}

fn parse_ack(args: &[&str], by: String, lang: Language) -> Result<Response, String> {
    match args {
        [id] => parse_id(id, lang).map(|alert_id| Response::Ack { alert_id, by }),
        _ => Err(lang
            .pick(
                "使い方: /ack 番号（アラートに表示されている番号）",
                "Usage: /ack ID (the number shown in the alert).",
            )
            .into()),
    }
}

fn parse_id(s: &str, lang: Language) -> Result<i64, String> {
    s.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| match lang {
            Language::Ja => format!("`{s}` はアラート番号ではありません。"),
            Language::En => format!("`{s}` is not an alert id."),
        })
}

fn parse_expect(args: &[&str], by: String, lang: Language) -> Result<Response, String> {
    let (broker, event, dur) = match args {
        [b, e] => (b, e, None),
        [b, e, d] => (b, e, Some(parse_duration(d, lang)?)),
        _ => {
            return Err(lang
                .pick(
                    "使い方: /expect 証券会社 種類 [期間]（例: /expect sbi withdrawal 24h）",
                    "Usage: /expect BROKER EVENT [DURATION], e.g. /expect sbi withdrawal 24h",
                )
                .into());
        }
    };
    let event = event.to_ascii_lowercase();
    event.parse::<EventKind>().map_err(|e| match lang {
        Language::Ja => format!(
            "`{event}` という通知の種類はありません。指定できるもの: {}",
            EventKind::ALL.map(|e| e.as_str()).join(", ")
        ),
        Language::En => e.to_string(),
    })?;
    Ok(Response::Expect {
        broker: broker.to_ascii_lowercase(),
        event,
        for_: dur,
        by,
    })
}

fn parse_mute(args: &[&str], by: String, lang: Language) -> Result<Response, String> {
    match args {
        [d] => parse_duration(d, lang).map(|for_| Response::Mute { for_, by }),
        _ => Err(lang
            .pick(
                "使い方: /mute 期間（例: /mute 2h）",
                "Usage: /mute DURATION, e.g. /mute 2h",
            )
            .into()),
    }
}

/// Parses `90s`, `30m`, `2H`, `10min`, `7d`, `1h30m` (as `units::parse_duration`, any case,
/// `min` for `m`); the error is in `lang`.
pub fn parse_duration(s: &str, lang: Language) -> Result<Duration, String> {
    let bad = |_| match lang {
        Language::Ja => format!("`{s}` は期間として読めません（例: 30m、24h、7d）。"),
        Language::En => format!("`{s}` is not a duration (use e.g. 30m, 24h, 7d)."),
    };
    let d =
        crate::units::parse_duration(&s.to_ascii_lowercase().replace("min", "m")).map_err(bad)?;
    if d.is_zero() || d > MAX_DURATION {
        return Err(match lang {
            Language::Ja => format!("`{s}` は範囲外です（1s〜90d）。"),
            Language::En => format!("`{s}` is out of range (1s to 90d)."),
        });
    }
    Ok(d)
}

/// The callback data of each button: `ack:<id>`, `notme:<id>`, `snooze:<id>`.
pub fn callback_data(action: &str, alert_id: i64) -> String {
    format!("{action}:{alert_id}")
}

/// The buttons' labels in `lang`: ack, not me, snooze.
pub fn button_labels(lang: Language) -> [&'static str; 3] {
    [
        lang.pick("✅ 確認済みにする", "✅ It was me"),
        lang.pick("🚨 身に覚えがない", "🚨 Not me"),
        lang.pick("1時間後に再通知", "Snooze 1h"),
    ]
}

/// Parses a button's callback data, with the text (in `lang`) to show in the answer toast.
pub fn parse_callback(data: &str, by: &str, lang: Language) -> Option<(Response, &'static str)> {
    let (action, id) = data.split_once(':')?;
    let alert_id = parse_id(id, lang).ok()?;
    let by = by.to_string();
    match action {
        "ack" => Some((
            Response::Ack { alert_id, by },
            lang.pick(
                "確認済みにしました。ありがとうございます。",
                "Acknowledged. Thank you.",
            ),
        )),
        "notme" => Some((
            Response::NotMe { alert_id, by },
            lang.pick(
                "「身に覚えがない」として記録しました。口座を守る手順を続けて送ります。",
                "Marked NOT YOU: the steps to lock the account follow.",
            ),
        )),
        "snooze" => Some((
            Response::Snooze {
                alert_id,
                by,
                for_: SNOOZE,
            },
            lang.pick("1時間後にもう一度お知らせします。", "Snoozed for 1 hour."),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(text: &str) -> Parsed {
        parse_command(text, Some("bw_bot"), "telegram:alice", Language::En)
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
        assert_eq!(
            parse_duration("7d", Language::En),
            Ok(Duration::from_secs(7 * 86400))
        );
        assert_eq!(
            parse_duration("90s", Language::En),
            Ok(Duration::from_secs(90))
        );
        assert!(parse_duration("h", Language::En).is_err());
        assert!(parse_duration("99999999999999999999d", Language::En).is_err());
        assert!(parse_duration("91d", Language::En).is_err());
    }

    #[test]
    fn callbacks_round_trip() {
        let (r, _) = parse_callback(&callback_data("notme", 9), "x", Language::En).unwrap();
        assert_eq!(
            r,
            Response::NotMe {
                alert_id: 9,
                by: "x".into()
            }
        );
        let (r, _) = parse_callback("snooze:9", "x", Language::En).unwrap();
        assert!(matches!(r, Response::Snooze { for_, .. } if for_ == SNOOZE));
        assert!(parse_callback("rm:9", "x", Language::En).is_none());
        assert!(parse_callback("ack:-1", "x", Language::En).is_none());
    }
}
