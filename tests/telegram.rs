//! The Telegram sink against the fake Bot API: delivery, formatting and its fallback, splitting,
//! error classification, commands and buttons, and who may send them.

use std::time::Duration;

use brokerwatch::alert::telegram::TelegramSink;
use brokerwatch::alert::telegram::format::{MAX_MESSAGE_LEN, utf16_len};
use brokerwatch::alert::{AlertKind, AlertMessage, DeliveryError, Response};
use brokerwatch::config::secret::SecretSource;
use brokerwatch::config::{TelegramConfig, TelegramFormat};
use brokerwatch::event::Severity;

use crate::util::fakebot::{self, FakeBot, Fault, TOKEN};

const ALICE: i64 = 111_222_333;
const BOB: i64 = 444_555_666;
const STRANGER: i64 = 999_000_111;

fn config(bot: &FakeBot, chats: &[i64], format: TelegramFormat, token: &str) -> TelegramConfig {
    TelegramConfig {
        // A command source keeps the token out of the environment of parallel tests.
        token: SecretSource::Command(format!("printf '%s' '{token}'")),
        chat_ids: chats.to_vec(),
        api_url: Some(bot.url()),
        format,
        commands: true,
    }
}

fn sink(bot: &FakeBot, chats: &[i64], format: TelegramFormat) -> TelegramSink {
    TelegramSink::new(&config(bot, chats, format, TOKEN)).expect("sink")
}

fn alert(id: i64, title: &str, body: &str) -> AlertMessage {
    AlertMessage {
        id,
        kind: AlertKind::Unexpected,
        severity: Severity::Critical,
        title: title.into(),
        body: body.into(),
        actionable: true,
    }
}

fn callback_data(markup: &serde_json::Value) -> Vec<String> {
    let rows = markup["inline_keyboard"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    rows.iter()
        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn delivers_escaped_text_and_buttons_to_every_chat() {
    let bot = FakeBot::start().await;
    let s = sink(&bot, &[ALICE, BOB], TelegramFormat::MarkdownV2);
    let msg = alert(
        7,
        "SBI証券: 出金指示 ¥1,200,000 — not expected",
        "Bank: ****1234 (new).\nDo not reply!",
    );
    let d = s.deliver(&msg).await.expect("delivered");

    let got = bot.delivered();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got.iter().map(|r| r.chat_id).collect::<Vec<_>>(),
        [Some(ALICE), Some(BOB)]
    );
    for r in &got {
        assert_eq!(r.parse_mode.as_deref(), Some("MarkdownV2"));
        assert_eq!(
            r.text.as_deref(),
            Some(
                "*SBI証券: 出金指示 ¥1,200,000 — not expected*\n\nBank: \\*\\*\\*\\*1234 \\(new\\)\\.\nDo not reply\\!"
            )
        );
        let markup = r.reply_markup.as_ref().expect("keyboard");
        assert_eq!(callback_data(markup), ["ack:7", "notme:7", "snooze:7"]);
    }
    assert_eq!(d.remote_id.as_deref(), Some(&*format!("{ALICE}:1,{BOB}:2")));
}

#[tokio::test]
async fn strict_fake_accepts_every_reserved_character_escaped() {
    let bot = FakeBot::start().await;
    let nasty = "_*[]()~`>#+-=|{}.!\\ <b>&amp; a<b";
    for format in [TelegramFormat::MarkdownV2, TelegramFormat::Html] {
        let s = sink(&bot, &[ALICE], format);
        s.deliver_to(ALICE, &alert(1, nasty, nasty))
            .await
            .expect("accepted");
    }
    let got = bot.requests_for("sendMessage");
    assert_eq!(got.len(), 2, "no fallback was needed");
    assert!(
        got.iter()
            .all(|r| r.status == 200 && r.parse_mode.is_some())
    );
    // The strictness is real: the same text unescaped is refused.
    assert!(fakebot::markdown_v2_problem(nasty).is_some());
    assert!(fakebot::html_problem(nasty).is_some());
}

#[tokio::test]
async fn rejected_formatting_is_resent_once_as_plain_text() {
    let bot = FakeBot::start().await;
    bot.fail_next_on("sendMessage", 1, Fault::CantParseEntities);
    let s = sink(&bot, &[ALICE], TelegramFormat::MarkdownV2);
    s.deliver_to(
        ALICE,
        &alert(
            3,
            "Rakuten: e-mail changed",
            "New address: a***@example.com.",
        ),
    )
    .await
    .expect("delivered as plain");

    let sent = bot.requests_for("sendMessage");
    assert_eq!(sent.len(), 2);
    assert_eq!(
        (sent[0].status, sent[0].parse_mode.as_deref()),
        (400, Some("MarkdownV2"))
    );
    assert_eq!((sent[1].status, sent[1].parse_mode.as_deref()), (200, None));
    assert_eq!(
        sent[1].text.as_deref(),
        Some("Rakuten: e-mail changed\n\nNew address: a***@example.com.")
    );
    assert!(
        sent[1].reply_markup.is_some(),
        "buttons survive the fallback"
    );
    assert_eq!(bot.delivered().len(), 1);
}

#[tokio::test]
async fn a_6000_character_alert_is_split_under_4096() {
    let bot = FakeBot::start().await;
    let s = sink(&bot, &[ALICE], TelegramFormat::MarkdownV2);
    let body: String = (0..600).map(|i| format!("line {i:03}.\n")).collect();
    assert_eq!(body.chars().count(), 6000);
    let d = s
        .deliver_to(ALICE, &alert(9, "Long", &body))
        .await
        .expect("delivered");

    let got = bot.delivered();
    assert!(got.len() >= 2, "split into {} messages", got.len());
    assert_eq!(
        d.remote_id.as_deref().map(|r| r.split(',').count()),
        Some(got.len())
    );
    for r in &got {
        assert!(utf16_len(r.text.as_deref().unwrap_or("")) <= MAX_MESSAGE_LEN);
    }
    let all: String = got.iter().filter_map(|r| r.text.clone()).collect();
    assert!(
        all.contains("line 000\\.") && all.contains("line 599\\."),
        "nothing lost"
    );
    assert!(
        got[..got.len() - 1]
            .iter()
            .all(|r| r.reply_markup.is_none())
    );
    assert!(
        got[got.len() - 1].reply_markup.is_some(),
        "buttons under the last part"
    );
}

#[tokio::test]
async fn flood_429_is_retry_with_the_servers_delay() {
    let bot = FakeBot::start().await;
    bot.fail_next(1, Fault::RetryAfter(17));
    let s = sink(&bot, &[ALICE], TelegramFormat::Plain);
    let err = s.deliver_to(ALICE, &alert(1, "t", "b")).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Retry { after: Some(d), .. } if d == Duration::from_secs(17)),
        "{err:?}"
    );
    s.deliver_to(ALICE, &alert(1, "t", "b"))
        .await
        .expect("then ok");
}

#[tokio::test]
async fn server_error_500_is_retry() {
    let bot = FakeBot::start().await;
    bot.fail_next(1, Fault::ServerError);
    let s = sink(&bot, &[ALICE], TelegramFormat::Plain);
    let err = s.deliver_to(ALICE, &alert(1, "t", "b")).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Retry { after: None, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_token_401_and_unknown_chat_are_config_errors() {
    let bot = FakeBot::start().await;
    let wrong =
        TelegramSink::new(&config(&bot, &[ALICE], TelegramFormat::Plain, "1:wrong")).expect("sink");
    let err = wrong
        .deliver_to(ALICE, &alert(1, "t", "b"))
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Config(_)), "{err:?}");

    bot.forget_chat(BOB);
    let s = sink(&bot, &[ALICE, BOB], TelegramFormat::Plain);
    let err = s.deliver(&alert(1, "t", "b")).await.unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Config(m) if m.contains(&BOB.to_string())),
        "{err:?}"
    );
    assert_eq!(bot.delivered().len(), 1, "the other chat still got it");
}

#[tokio::test]
async fn server_down_and_slow_are_retry_and_never_show_the_token() {
    let bot = FakeBot::start().await;
    let s = sink(&bot, &[ALICE], TelegramFormat::Plain)
        .with_request_timeout(Duration::from_millis(800));
    bot.down().await;
    let err = s.deliver_to(ALICE, &alert(1, "t", "b")).await.unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Retry { after: None, .. }),
        "{err:?}"
    );
    assert!(!format!("{err:?} {err}").contains(TOKEN));
    assert!(!format!("{s:?}").contains(TOKEN));

    bot.up().await;
    bot.fail_next(1, Fault::Slow(Duration::from_secs(3)));
    // The answer would come, after 3 s: an error means the request timeout gave up first.
    let err = s.deliver_to(ALICE, &alert(1, "t", "b")).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Retry { .. }), "{err:?}");
    s.deliver_to(ALICE, &alert(1, "t", "b"))
        .await
        .expect("back up");
}

#[tokio::test]
async fn ack_from_an_allowed_chat_is_a_response() {
    let bot = FakeBot::start().await;
    let s = sink(&bot, &[ALICE], TelegramFormat::Plain);
    s.get_me().await.expect("getMe");
    bot.inject_message(ALICE, "/ack 42");
    bot.inject_message(ALICE, &format!("/ack@{} 43", fakebot::BOT_USERNAME));
    bot.inject_message(ALICE, "/expect sbi withdrawal 24h");
    let mut offset = 0;
    let got = s
        .poll(&mut offset, Duration::from_secs(2))
        .await
        .expect("poll");
    let by = format!("telegram:@user{ALICE}");
    assert_eq!(
        got,
        [
            Response::Ack {
                alert_id: 42,
                by: by.clone()
            },
            Response::Ack {
                alert_id: 43,
                by: by.clone()
            },
            Response::Expect {
                broker: "sbi".into(),
                event: "withdrawal".into(),
                for_: Some(Duration::from_secs(86400)),
                by,
            },
        ]
    );
    // The offset confirms them: the next poll does not see them again.
    let again = s
        .poll(&mut offset, Duration::from_secs(0))
        .await
        .expect("poll");
    assert!(again.is_empty());
}

#[tokio::test]
async fn commands_from_other_chats_are_ignored_without_an_answer() {
    let bot = FakeBot::start().await;
    let s = sink(&bot, &[ALICE], TelegramFormat::Plain);
    bot.inject_message(STRANGER, "/ack 42");
    bot.inject_message(STRANGER, "/frobnicate");
    bot.inject_callback(STRANGER, "ack:42");
    let mut offset = 0;
    let got = s
        .poll(&mut offset, Duration::from_secs(1))
        .await
        .expect("poll");
    assert!(got.is_empty(), "{got:?}");
    assert!(offset > 0, "the updates are consumed");
    assert!(
        bot.requests_for("sendMessage").is_empty(),
        "no reply to a stranger"
    );
    assert!(bot.requests_for("answerCallbackQuery").is_empty());
}

#[tokio::test]
async fn bad_commands_get_a_usage_text() {
    let bot = FakeBot::start().await;
    let s = sink(&bot, &[ALICE], TelegramFormat::MarkdownV2);
    bot.inject_message(ALICE, "/ack soon");
    let mut offset = 0;
    assert!(
        s.poll(&mut offset, Duration::from_secs(1))
            .await
            .expect("poll")
            .is_empty()
    );
    let replies = bot.delivered();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].chat_id, Some(ALICE));
    assert_eq!(replies[0].parse_mode, None, "answers are plain text");
    assert!(replies[0].text.as_deref().unwrap_or("").contains("/ack"));
}

#[tokio::test]
async fn buttons_are_responses_and_stop_the_spinner() {
    let bot = FakeBot::start().await;
    let s = sink(&bot, &[ALICE], TelegramFormat::Plain);
    bot.inject_callback(ALICE, "notme:42");
    bot.inject_callback(ALICE, "snooze:42");
    let mut offset = 0;
    let got = s
        .poll(&mut offset, Duration::from_secs(1))
        .await
        .expect("poll");
    let by = format!("telegram:@user{ALICE}");
    assert_eq!(
        got,
        [
            Response::NotMe {
                alert_id: 42,
                by: by.clone()
            },
            Response::Snooze {
                alert_id: 42,
                by,
                for_: Duration::from_secs(3600)
            },
        ]
    );
    let answers = bot.requests_for("answerCallbackQuery");
    assert_eq!(answers.len(), 2);
    assert!(
        answers
            .iter()
            .all(|a| a.status == 200 && a.params["callback_query_id"].is_string())
    );
}

#[tokio::test]
async fn a_second_concurrent_get_updates_is_a_conflict() {
    let bot = FakeBot::start().await;
    let first = sink(&bot, &[ALICE], TelegramFormat::Plain);
    let second = sink(&bot, &[ALICE], TelegramFormat::Plain);
    let (mut o1, mut o2) = (0, 0);
    let (a, b) = tokio::join!(first.poll(&mut o1, Duration::from_secs(2)), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        second.poll(&mut o2, Duration::from_secs(1)).await
    });
    assert_eq!(a, Ok(vec![]));
    assert!(matches!(b, Err(DeliveryError::Retry { .. })), "{b:?}");
    let statuses: Vec<u16> = bot
        .requests_for("getUpdates")
        .iter()
        .map(|r| r.status)
        .collect();
    assert!(statuses.contains(&409));
}

#[tokio::test]
async fn doctor_calls_get_me_and_register_commands() {
    let bot = FakeBot::start().await;
    let s = sink(&bot, &[ALICE], TelegramFormat::Plain);
    let me = s.get_me().await.expect("getMe");
    assert_eq!(me.username, fakebot::BOT_USERNAME);
    s.register_commands().await.expect("setMyCommands");
    let cmds = bot.requests_for("setMyCommands");
    let names: Vec<&str> = cmds[0].params["commands"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["command"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["ack", "status", "expect", "mute"]);
}
