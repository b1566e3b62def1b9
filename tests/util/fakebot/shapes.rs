//! The JSON shapes of the real Bot API: the envelope, chats, users, the bot itself.

use super::*;

pub(super) fn ok(result: Value) -> (StatusCode, Value) {
    (StatusCode::OK, json!({"ok": true, "result": result}))
}

pub(super) fn error(status: StatusCode, description: &str) -> (StatusCode, Value) {
    let body = json!({"ok": false, "error_code": status.as_u16(), "description": description});
    (status, body)
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(super) fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(super) fn chat_json(chat: i64) -> Value {
    if chat < 0 {
        json!({"id": chat, "type": "group", "title": "Family"})
    } else {
        json!({"id": chat, "type": "private", "first_name": "Alice", "username": format!("user{chat}")})
    }
}

pub(super) fn user_json(chat: i64) -> Value {
    let id = chat.unsigned_abs();
    json!({"id": id, "is_bot": false, "first_name": "Alice", "username": format!("user{id}")})
}

pub(super) fn bot_user_json(token: &str) -> Value {
    let id: u64 = token
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    json!({"id": id, "is_bot": true, "first_name": "brokerwatch test", "username": BOT_USERNAME})
}

/// getMe adds the bot-only fields to the User.
pub(super) fn get_me_json(token: &str) -> Value {
    let mut me = bot_user_json(token);
    for (k, v) in [
        ("can_join_groups", true),
        ("can_read_all_group_messages", false),
        ("supports_inline_queries", false),
        ("can_connect_to_business", false),
        ("has_main_web_app", false),
    ] {
        me[k] = json!(v);
    }
    me
}
