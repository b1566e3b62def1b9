//! The vocabulary every stage shares: what kind of notice a mail is, and how loud it should be.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of notice a rule recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Withdrawal,
    EmailChange,
    PayoutAccountChange,
    Login,
    PasswordChange,
    MfaChange,
    /// Registered personal details (postal address, phone number, name) changed.
    ProfileChange,
    Deposit,
    Trade,
    Statement,
    Dividend,
    Marketing,
}

impl EventKind {
    /// Every kind, security events first.
    pub const ALL: [EventKind; 12] = [
        EventKind::Withdrawal,
        EventKind::EmailChange,
        EventKind::PayoutAccountChange,
        EventKind::Login,
        EventKind::PasswordChange,
        EventKind::MfaChange,
        EventKind::ProfileChange,
        EventKind::Deposit,
        EventKind::Trade,
        EventKind::Statement,
        EventKind::Dividend,
        EventKind::Marketing,
    ];

    /// Security events move money or account control; they are the ones that escalate.
    pub fn is_security(self) -> bool {
        matches!(
            self,
            EventKind::Withdrawal
                | EventKind::EmailChange
                | EventKind::PayoutAccountChange
                | EventKind::Login
                | EventKind::PasswordChange
                | EventKind::MfaChange
                | EventKind::ProfileChange
        )
    }

    /// The identifier used in YAML, JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Withdrawal => "withdrawal",
            EventKind::EmailChange => "email_change",
            EventKind::PayoutAccountChange => "payout_account_change",
            EventKind::Login => "login",
            EventKind::PasswordChange => "password_change",
            EventKind::MfaChange => "mfa_change",
            EventKind::ProfileChange => "profile_change",
            EventKind::Deposit => "deposit",
            EventKind::Trade => "trade",
            EventKind::Statement => "statement",
            EventKind::Dividend => "dividend",
            EventKind::Marketing => "marketing",
        }
    }

    /// A short English phrase for alert texts.
    pub fn describe(self) -> &'static str {
        match self {
            EventKind::Withdrawal => "withdrawal",
            EventKind::EmailChange => "e-mail address change",
            EventKind::PayoutAccountChange => "payout bank account change",
            EventKind::Login => "login",
            EventKind::PasswordChange => "password change",
            EventKind::MfaChange => "two-factor authentication change",
            EventKind::ProfileChange => "registered details change",
            EventKind::Deposit => "deposit",
            EventKind::Trade => "trade",
            EventKind::Statement => "statement",
            EventKind::Dividend => "dividend",
            EventKind::Marketing => "newsletter",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown event name; it lists the valid ones.
#[derive(Debug, thiserror::Error)]
#[error("unknown event `{0}` (expected one of: {list})", list = EventKind::ALL.map(|e| e.as_str()).join(", "))]
pub struct UnknownEvent(pub String);

impl FromStr for EventKind {
    type Err = UnknownEvent;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| UnknownEvent(s.to_string()))
    }
}

/// How loud a verdict is. Ordered: `None < Info < Warning < Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    None,
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::None,
        Severity::Info,
        Severity::Warning,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown severity name.
#[derive(Debug, thiserror::Error)]
#[error("unknown severity `{0}` (expected one of: none, info, warning, critical)")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownSeverity(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in EventKind::ALL {
            assert_eq!(e.as_str().parse::<EventKind>().unwrap(), e);
        }
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
        }
        assert!("withdraw".parse::<EventKind>().is_err());
    }

    #[test]
    fn only_money_and_control_events_are_security() {
        let security: Vec<_> = EventKind::ALL
            .into_iter()
            .filter(|e| e.is_security())
            .collect();
        assert_eq!(security.len(), 7);
        assert!(EventKind::ProfileChange.is_security());
        assert!(!EventKind::Deposit.is_security());
    }
}
