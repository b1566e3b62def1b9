//! Turning Bot API failures into [`DeliveryError`]s the outbox understands, without leaking the
//! token.
//!
//! NOTE: a `reqwest::Error` displays the request URL, and the Bot API URL contains the token
//! (`/bot<TOKEN>/sendMessage`). Network errors are therefore described from their kind and their
//! *source* chain only, and every text is passed through [`Redactor`] as a second line of defence.

use teloxide::{ApiError, RequestError};

use crate::alert::DeliveryError;

/// Removes the token from any text that might end up in a log or an error.
#[derive(Clone)]
pub struct Redactor {
    token: String,
}

impl Redactor {
    pub fn new(token: &str) -> Self {
        Redactor {
            token: token.to_string(),
        }
    }

    /// `text` with every occurrence of the token replaced.
    pub fn clean(&self, text: &str) -> String {
        if self.token.is_empty() {
            return text.to_string();
        }
        text.replace(&self.token, "<redacted>")
    }
}

/// Was this the API refusing our MarkdownV2/HTML (HTTP 400 "can't parse entities")?
pub fn is_parse_error(e: &RequestError) -> bool {
    match e {
        RequestError::Api(ApiError::CantParseEntities(_)) => true,
        RequestError::Api(ApiError::Unknown(d)) => d.contains("can't parse entities"),
        _ => false,
    }
}

/// Was this 409 Conflict: another getUpdates consumer for the same token?
pub fn is_conflict(e: &RequestError) -> bool {
    match e {
        RequestError::Api(ApiError::TerminatedByOtherGetUpdates) => true,
        RequestError::Api(ApiError::Unknown(d)) => d.starts_with("Conflict"),
        _ => false,
    }
}

/// Classifies a failed request. `chat` names the chat for "chat not found" style errors.
pub fn classify(e: &RequestError, chat: Option<i64>, r: &Redactor) -> DeliveryError {
    let retry = |reason: String| DeliveryError::Retry {
        reason: r.clean(&reason),
        after: None,
    };
    match e {
        RequestError::RetryAfter(s) => DeliveryError::Retry {
            reason: format!("Telegram flood control: retry after {}s", s.seconds()),
            after: Some(s.duration()),
        },
        RequestError::Network(n) => retry(network_reason(n.as_ref())),
        RequestError::InvalidJson { .. } => {
            retry("the Bot API answered with something that is not Bot API JSON".into())
        }
        RequestError::Io(io) => retry(format!("I/O error: {io}")),
        RequestError::MigrateToChatId(to) => DeliveryError::Config(format!(
            "chat {} was upgraded to a supergroup: replace it by {} in telegram.chat_ids",
            chat.map_or_else(|| "?".into(), |c| c.to_string()),
            to.0
        )),
        RequestError::Api(api) => classify_api(api, chat, r),
    }
}

fn classify_api(api: &ApiError, chat: Option<i64>, r: &Redactor) -> DeliveryError {
    let chat = chat.map_or_else(|| "?".into(), |c| c.to_string());
    match api {
        ApiError::InvalidToken => {
            DeliveryError::Config("the bot token was rejected (401 Unauthorized)".into())
        }
        ApiError::ChatNotFound => DeliveryError::Config(format!(
            "chat {chat} not found: check telegram.chat_ids and that the person has sent /start to the bot"
        )),
        ApiError::BotBlocked
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::CantTalkWithBots => {
            DeliveryError::Config(format!("chat {chat} refuses the bot (403): {api}"))
        }
        ApiError::TerminatedByOtherGetUpdates => DeliveryError::Retry {
            reason: "409 Conflict: another program is polling getUpdates with this bot token"
                .into(),
            after: None,
        },
        // NOTE: teloxide drops the HTTP status; a 5xx arrives as an unknown description such as
        // "Internal Server Error" or "Bad Gateway". Only client errors are permanent.
        ApiError::Unknown(desc) => {
            let desc = r.clean(desc);
            if ["Bad Request", "Forbidden", "Unauthorized", "Not Found"]
                .iter()
                .any(|p| desc.starts_with(p))
            {
                DeliveryError::Config(format!("chat {chat}: {desc}"))
            } else {
                DeliveryError::Retry {
                    reason: format!("Bot API error: {desc}"),
                    after: None,
                }
            }
        }
        other => DeliveryError::Config(r.clean(&format!("chat {chat}: {other}"))),
    }
}

/// A description of a transport failure that never includes the URL.
fn network_reason(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    let detail = parts.join(": ");
    if detail.is_empty() {
        "network error talking to the Bot API".into()
    } else {
        format!("network error talking to the Bot API: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_hides_the_token() {
        let r = Redactor::new("123:ABC");
        assert_eq!(r.clean("url /bot123:ABC/send"), "url /bot<redacted>/send");
    }

    #[test]
    fn api_errors_map_to_config_or_retry() {
        let r = Redactor::new("123:ABCdef");
        assert!(matches!(
            classify(&RequestError::Api(ApiError::InvalidToken), Some(1), &r),
            DeliveryError::Config(_)
        ));
        assert!(matches!(
            classify(&RequestError::Api(ApiError::ChatNotFound), Some(1), &r),
            DeliveryError::Config(m) if m.contains("chat 1")
        ));
        assert!(matches!(
            classify(
                &RequestError::Api(ApiError::Unknown("Internal Server Error".into())),
                None,
                &r
            ),
            DeliveryError::Retry { after: None, .. }
        ));
        assert!(matches!(
            classify(
                &RequestError::Api(ApiError::Unknown("Bad Request: nope".into())),
                None,
                &r
            ),
            DeliveryError::Config(_)
        ));
    }
}
