//! Verification of the stored chain: from genesis, or from the newest checkpoint once its
//! signature checks under a configured master key. Streams the chain in pages, so memory stays
//! flat however long it is, and follows appends that land while it runs.

use super::chain::{Broken, Verifier};
use crate::config::MasterKeys;
use crate::error::Result;
use crate::store::Store;

/// Events read per query.
const PAGE: u32 = 10_000;

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        /// Events checked.
        events: u64,
        /// The checkpoint verification started after, if any.
        checkpoint: Option<i64>,
        /// The last event (the chain head).
        last: i64,
    },
    /// The first event that breaks the chain, and why.
    Broken { seq: i64, reason: String },
}

/// Walks the whole stored chain. `keys` verify checkpoint signatures; without keys, a pruned
/// chain is reported broken (its checkpoint cannot be trusted).
pub async fn verify(store: &dyn Store, keys: Option<&MasterKeys>) -> Result<Verdict> {
    let checkpoint = store.latest_audit_checkpoint().await?;
    let mut verifier = match &checkpoint {
        None => Verifier::from_genesis(),
        Some(cp) => {
            let trusted = match keys {
                Some(keys) => cp.verify(keys),
                None => Err(format!(
                    "checkpoint after event {} cannot be checked without the master keys",
                    cp.seq
                )),
            };
            if let Err(reason) = trusted {
                return Ok(Verdict::Broken {
                    seq: cp.seq + 1,
                    reason,
                });
            }
            Verifier::after(cp.seq, cp.hash)
        }
    };
    loop {
        let page = store.audit_chain_page(verifier.last_seq(), PAGE).await?;
        if page.is_empty() {
            let head = store.audit_head().await?;
            if head.0 > verifier.last_seq() && has_more(store, verifier.last_seq()).await? {
                continue; // appended while we read
            }
            return Ok(match verifier.finish(head) {
                Ok(events) => Verdict::Intact {
                    events,
                    checkpoint: checkpoint.map(|c| c.seq),
                    last: head.0,
                },
                Err(broken) => broken_verdict(broken),
            });
        }
        for event in &page {
            if let Err(broken) = verifier.check(event) {
                return Ok(broken_verdict(broken));
            }
        }
    }
}

async fn has_more(store: &dyn Store, after: i64) -> Result<bool> {
    Ok(!store.audit_chain_page(after, 1).await?.is_empty())
}

fn broken_verdict(broken: Broken) -> Verdict {
    Verdict::Broken {
        seq: broken.seq,
        reason: broken.to_string(),
    }
}
