//! Why a verdict is what it is, as typed facts: each reason carries the domains, header ids and
//! words it speaks of, and is worded only where a person or the `--json` output reads it
//! (`reason/render.rs`). English is the wording of the CLI / JSON contract.

mod render;

use serde::{Serialize, Serializer};

use crate::alert::language::Language;
use crate::event::EventKind;
use crate::links::Mismatch;
use crate::profile::Departure;
use crate::rules::Claim;
use crate::rules::lookalike::LookAlike;

/// Which result of our server vouched for the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vouch {
    Dkim(String),
    Dmarc(String),
}

/// One reason, in the order assess found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The mail could not be read.
    Unparseable(String),
    /// A forwarded or quoted notice, by this sender (None: unknown).
    Forwarded(Option<String>),
    /// How the mail ties itself to the broker.
    Claim(Claim),
    /// The sender's domain is not one of the broker's.
    ForeignSender {
        domain: String,
        broker: String,
        domains: Vec<String>,
    },
    /// A link to a look-alike of the claimed broker's own domain.
    Imitation {
        host: String,
        broker: String,
        look: LookAlike,
    },
    /// A link to a login or personal-details page (`matched` is the words that said so).
    LoginLink { host: String, matched: String },
    /// The sender's domain imitates some broker.
    SenderLookAlike(LookAlike),
    /// A link imitates another broker.
    LinkLookAlike(LookAlike),
    /// A link shows one domain and goes to another.
    LinkMismatch(Mismatch),
    /// No `authserv_ids` in the config.
    NoAuthservIds,
    /// An Authentication-Results naming our server below its own Received line.
    Forged,
    /// Our server wrote no Authentication-Results.
    NoAuthResults,
    /// Our server (`id`) vouched for the sender.
    Authentic { id: String, vouch: Vouch },
    /// Our server did not vouch for a domain of `broker`; `said` is its `method=result` list.
    NotAuthentic {
        id: String,
        broker: String,
        said: Vec<String>,
    },
    /// Recognised by a generic rule, not the broker's own.
    Generic { rule: String, broker: String },
    /// A trade outside the trading profile.
    OffProfile(Departure),
    /// A declared expectation covers it.
    Declared {
        event: EventKind,
        broker: String,
        id: i64,
        note: Option<String>,
    },
    /// A standing allowance covers it.
    Allowance {
        event: EventKind,
        max_amount: Option<u64>,
        account_suffix: Option<String>,
    },
    /// A login outside the usual hours (minutes of the day).
    OffHours { at: i64, from: u32, to: u32 },
    /// The conclusion of a phishing verdict.
    Phishing,
    /// A broker's own notice no rule recognised, with its security words.
    Unrecognised {
        broker: Option<String>,
        words: Vec<String>,
    },
}

impl Reason {
    /// The reason in `lang`, as a person reads it.
    pub fn text(&self, lang: Language) -> String {
        render::render(self, lang)
    }

    pub fn is_unparseable(&self) -> bool {
        matches!(self, Reason::Unparseable(_))
    }
}

/// English, as `brokerwatch test` prints it.
impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Language::En))
    }
}

/// The `reasons` of the `--json` output: English strings.
impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text(Language::En))
    }
}
