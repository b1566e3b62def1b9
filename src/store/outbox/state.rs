//! The state of one delivery, and reading a column stored as a name into its type.

use std::str::FromStr;

use rusqlite::Row;
use rusqlite::types::Type;

/// State of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Sent,
    /// The sink cannot work here (no session bus): not retried.
    Unavailable,
    /// The alert was acknowledged before this repeat went out.
    Cancelled,
    /// Waiting for the end of quiet hours, to go out in that target's summary.
    Held,
    /// The sink's budget or rate limit was spent: the alert went to the next sink instead.
    Rerouted,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 6] = [
        DeliveryState::Pending,
        DeliveryState::Sent,
        DeliveryState::Unavailable,
        DeliveryState::Cancelled,
        DeliveryState::Held,
        DeliveryState::Rerouted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Unavailable => "unavailable",
            DeliveryState::Cancelled => "cancelled",
            DeliveryState::Held => "held",
            DeliveryState::Rerouted => "rerouted",
        }
    }
}

/// The error for an unknown delivery state.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown delivery state `{0}` (expected one of: pending, sent, unavailable, cancelled, held, rerouted)"
)]
pub struct UnknownDeliveryState(pub String);

impl FromStr for DeliveryState {
    type Err = UnknownDeliveryState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeliveryState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownDeliveryState(s.to_string()))
    }
}

/// Reads a column stored as a name (kind, severity, sink, state) into its type. A value that
/// does not parse is an error naming it, never a guess: a guessed severity or kind would change
/// what a person is told.
pub(in crate::store) fn parsed<T>(r: &Row, i: usize) -> rusqlite::Result<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = r.get(i)?;
    text.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}
