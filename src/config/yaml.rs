//! (in progress)
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Problem(pub String);
#[derive(Debug, thiserror::Error)]
#[error("config errors")]
pub struct ConfigError(pub Vec<Problem>);
