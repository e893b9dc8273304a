//! The hash chain: the canonical form of an event, its hash, and verification. Pure, no I/O.
//!
//! Canonical form: a version tag, then every field in a fixed order, each as a 4-byte big-endian
//! length followed by its UTF-8 bytes (an absent optional field is the length `0xFFFFFFFF` and no
//! bytes, so "absent" and "empty" differ). `seq` is part of it, so moving an event changes its hash.
//! `hash = SHA-256(prev_hash || canonical)`; the first event's `prev_hash` is 32 zero bytes, and
//! after retention pruning the first kept event's `prev_hash` is the checkpoint's hash.
//!
//! Verification names the first event that breaks the chain: a gap in `seq` (deletion), a
//! `prev_hash` that is not the previous event's hash (reordering or deletion), a hash that does not
//! match the content (tampering), or a last event that is not the recorded chain head (deleted tail).

use sha2::{Digest, Sha256};

use super::model::{details_text, AuditEvent, NewAuditEvent};
use crate::domain::time;

pub const GENESIS: [u8; 32] = [0; 32];
const VERSION: &[u8] = b"auditpulse-audit-v1";
const ABSENT: u32 = u32::MAX;

/// The fields that are hashed, borrowed from a new or a stored event.
pub struct Fields<'a> {
    pub seq: i64,
    pub at: String,
    pub tenant: Option<String>,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub outcome: &'a str,
    pub details: &'a str,
}

impl<'a> Fields<'a> {
    pub fn of_new(seq: i64, event: &'a NewAuditEvent, details: &'a str) -> Self {
        Fields {
            seq,
            at: time::to_text(&event.at),
            tenant: event.tenant.map(|t| t.to_string()),
            actor_kind: event.actor_kind.as_str(),
            actor_id: event.actor_id.as_deref(),
            action: &event.action,
            target_type: event.target_type.as_deref(),
            target_id: event.target_id.as_deref(),
            source_ip: event.source_ip.as_deref(),
            user_agent: event.user_agent.as_deref(),
            outcome: event.outcome.as_str(),
            details,
        }
    }

    pub fn of_stored(event: &'a AuditEvent) -> Self {
        Fields {
            seq: event.seq,
            at: time::to_text(&event.at),
            tenant: event.tenant_id.map(|t| t.to_string()),
            actor_kind: event.actor_kind.as_str(),
            actor_id: event.actor_id.as_deref(),
            action: &event.action,
            target_type: event.target_type.as_deref(),
            target_id: event.target_id.as_deref(),
            source_ip: event.source_ip.as_deref(),
            user_agent: event.user_agent.as_deref(),
            outcome: event.outcome.as_str(),
            details: &event.details_json,
        }
    }

    /// `SHA-256(prev_hash || canonical form)`.
    pub fn hash(&self, prev_hash: &[u8; 32]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(prev_hash);
        h.update(VERSION);
        let seq = self.seq.to_string();
        for field in [
            Some(seq.as_str()),
            Some(self.at.as_str()),
            self.tenant.as_deref(),
            Some(self.actor_kind),
            self.actor_id,
            Some(self.action),
            self.target_type,
            self.target_id,
            self.source_ip,
            self.user_agent,
            Some(self.outcome),
            Some(self.details),
        ] {
            match field {
                Some(text) => {
                    h.update(
                        u32::try_from(text.len())
                            .unwrap_or(ABSENT - 1)
                            .to_be_bytes(),
                    );
                    h.update(text.as_bytes());
                }
                None => h.update(ABSENT.to_be_bytes()),
            }
        }
        h.finalize().into()
    }
}

/// A new event placed in the chain: its seq, the previous hash and its own hash.
pub struct Linked<'a> {
    pub seq: i64,
    pub event: &'a NewAuditEvent,
    pub details: String,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// Links `events` after the head `(seq, hash)`; returns them and the new head.
pub fn link<'a>(
    head: (i64, [u8; 32]),
    events: &'a [NewAuditEvent],
) -> (Vec<Linked<'a>>, (i64, [u8; 32])) {
    let (mut seq, mut prev) = head;
    let mut linked = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let details = details_text(&event.details);
        let hash = Fields::of_new(seq, event, &details).hash(&prev);
        linked.push(Linked {
            seq,
            event,
            details,
            prev_hash: prev,
            hash,
        });
        prev = hash;
    }
    (linked, (seq, prev))
}

/// Why the chain is broken at an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// Events are missing before this one (expected `expected`).
    Gap { expected: i64 },
    /// This event does not follow the previous one: reordered, or something before it was removed.
    Link,
    /// This event's content does not match its hash.
    Content,
    /// The chain ends before the recorded head: later events were deleted.
    Truncated { head: i64 },
    /// This event lies beyond the recorded head: it was added outside the audit writer.
    Unrecorded { head: i64 },
}

/// The first event that breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub why: Break,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seq = self.seq;
        match &self.why {
            Break::Gap { expected } => write!(
                f,
                "event {expected} is missing (next present is {seq}): events were deleted"
            ),
            Break::Link => write!(
                f,
                "event {seq} does not follow the event before it: events were reordered or deleted"
            ),
            Break::Content => write!(
                f,
                "event {seq} does not match its hash: its content was changed"
            ),
            Break::Truncated { head } => write!(
                f,
                "event {seq} is missing (the chain head is {head}): events at the end were deleted"
            ),
            Break::Unrecorded { head } => write!(
                f,
                "event {seq} lies beyond the chain head {head}: it was added outside the audit writer"
            ),
        }
    }
}

/// Walks a chain page by page. Start it at genesis or at a verified checkpoint.
#[derive(Debug, Clone)]
pub struct Verifier {
    next_seq: i64,
    prev_hash: [u8; 32],
    checked: u64,
}

impl Verifier {
    pub fn from_genesis() -> Self {
        Self::after(0, GENESIS)
    }

    /// Continues after event `seq` whose hash is `hash` (a checkpoint).
    pub fn after(seq: i64, hash: [u8; 32]) -> Self {
        Self {
            next_seq: seq + 1,
            prev_hash: hash,
            checked: 0,
        }
    }

    /// Checks the next event in seq order.
    pub fn check(&mut self, event: &AuditEvent) -> Result<(), Broken> {
        if event.seq != self.next_seq {
            let why = if event.seq > self.next_seq {
                Break::Gap {
                    expected: self.next_seq,
                }
            } else {
                Break::Link
            };
            return Err(Broken {
                seq: event.seq,
                why,
            });
        }
        if event.prev_hash != self.prev_hash {
            return Err(Broken {
                seq: event.seq,
                why: Break::Link,
            });
        }
        if Fields::of_stored(event).hash(&event.prev_hash) != event.hash {
            return Err(Broken {
                seq: event.seq,
                why: Break::Content,
            });
        }
        self.next_seq += 1;
        self.prev_hash = event.hash;
        self.checked += 1;
        Ok(())
    }

    /// After the last event: the chain must end at the recorded head.
    pub fn finish(&self, head: (i64, [u8; 32])) -> Result<u64, Broken> {
        let last = self.next_seq - 1;
        if head.0 > last {
            return Err(Broken {
                seq: self.next_seq,
                why: Break::Truncated { head: head.0 },
            });
        }
        if head.0 < last {
            return Err(Broken {
                seq: head.0 + 1,
                why: Break::Unrecorded { head: head.0 },
            });
        }
        if head.1 != self.prev_hash {
            return Err(Broken {
                seq: last,
                why: Break::Content,
            });
        }
        Ok(self.checked)
    }

    /// The last verified seq.
    pub fn last_seq(&self) -> i64 {
        self.next_seq - 1
    }
}

#[cfg(test)]
mod tests;
