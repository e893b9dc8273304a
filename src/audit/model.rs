//! The audit event: who did what to which target, from where, with what outcome. Pure values.
//!
//! Invariant: `details` is structured JSON and never holds a secret; callers name credentials by
//! their public id only. Time is UTC with microsecond precision (`domain::time`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{time::Timestamp, TenantId};

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A signed-in user (`actor_id` is the user id).
    User,
    /// An API key (`actor_id` is its public id).
    ApiKey,
    /// An authenticated principal whose kind the emitter did not say (security events name
    /// principals by id only).
    Principal,
    /// AuditPulse itself (retention, key rotation, start-up).
    System,
    /// An unauthenticated client (`source_ip` says which).
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiKey => "api_key",
            ActorKind::Principal => "principal",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ActorKind::User,
            ActorKind::ApiKey,
            ActorKind::Principal,
            ActorKind::System,
            ActorKind::Anonymous,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Attempted and failed (wrong password, invalid token).
    Failure,
    /// Refused by policy (permission, rate limit, lockout).
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Outcome::Success, Outcome::Failure, Outcome::Denied]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// An event to append. The writer assigns its sequence number and hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub at: Timestamp,
    pub tenant: Option<TenantId>,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    /// Dotted verb, e.g. `auth.login`, `rate_limit.block`, `audit.export`.
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: Outcome,
    /// Structured, never secrets. Stored as the exact JSON text that was hashed.
    pub details: serde_json::Value,
}

impl NewAuditEvent {
    /// An event by `actor` doing `action`, now, successful, with no target or details yet.
    pub fn new(actor_kind: ActorKind, actor_id: Option<String>, action: impl Into<String>) -> Self {
        Self {
            at: crate::domain::time::now(),
            tenant: None,
            actor_kind,
            actor_id,
            action: action.into(),
            target_type: None,
            target_id: None,
            source_ip: None,
            user_agent: None,
            outcome: Outcome::Success,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn tenant(mut self, tenant: Option<TenantId>) -> Self {
        self.tenant = tenant;
        self
    }

    pub fn target(mut self, kind: impl Into<String>, id: Option<String>) -> Self {
        self.target_type = Some(kind.into());
        self.target_id = id;
        self
    }

    pub fn source(mut self, ip: Option<String>, user_agent: Option<String>) -> Self {
        self.source_ip = ip;
        self.user_agent = user_agent;
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored event: the new event's fields plus its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub tenant_id: Option<TenantId>,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: Outcome,
    /// The JSON text as stored and hashed.
    #[serde(skip)]
    pub details_json: String,
    /// Parsed `details_json`, for API output.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Hex SHA-256 of the previous event (all zeros for the first).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String)]
    pub prev_hash: [u8; 32],
    /// Hex SHA-256 over `prev_hash` and this event's canonical form.
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String)]
    pub hash: [u8; 32],
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}

/// The text form of `details` that is stored and hashed: compact JSON with object keys sorted at
/// every level, whatever map order serde_json was built with.
pub fn details_text(details: &serde_json::Value) -> String {
    let mut out = String::new();
    write_sorted(details, &mut out);
    out
}

fn write_sorted(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_sorted(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_text_sorts_keys_at_every_level() {
        let details = serde_json::json!({"b": 1, "a": {"z": [ {"y": 1, "x": 2} ], "c": "é\""}});
        assert_eq!(
            details_text(&details),
            r#"{"a":{"c":"é\"","z":[{"x":2,"y":1}]},"b":1}"#
        );
    }

    #[test]
    fn kinds_and_outcomes_round_trip_as_text() {
        for kind in [ActorKind::User, ActorKind::ApiKey, ActorKind::System] {
            assert_eq!(ActorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Outcome::parse("denied"), Some(Outcome::Denied));
        assert_eq!(Outcome::parse("nope"), None);
    }
}
