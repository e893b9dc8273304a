//! Verification of the stored chain: from genesis, or from the newest checkpoint once its
//! signature checks under a configured master key. Streams the chain in pages, so memory stays
//! flat however long it is, hashes one page while the next is read, and follows appends that land
//! while it runs.

use super::chain::{Broken, Verifier};
use crate::audit::AuditStore;
use crate::config::MasterKeys;
use crate::error::Result;

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
pub async fn verify(store: &dyn AuditStore, keys: Option<&MasterKeys>) -> Result<Verdict> {
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
    let mut page = store.audit_chain_page(verifier.last_seq(), PAGE).await?;
    loop {
        if page.is_empty() {
            let head = store.audit_head().await?;
            if head.0 > verifier.last_seq() {
                // Appended while we read, or a deleted tail: look once more before judging.
                page = store.audit_chain_page(verifier.last_seq(), PAGE).await?;
                if !page.is_empty() {
                    continue;
                }
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
        // Hash these events while the database reads the next two pages on two connections. The
        // second page is a guess (seq is contiguous in an intact chain) and is used only when the
        // first ends exactly where the guess began; the verifier checks every seq either way.
        let after = page.last().map_or(0, |e| e.seq);
        let guess = after + i64::from(PAGE);
        let check = async {
            for event in &page {
                verifier.check(event)?;
            }
            Ok::<(), Broken>(())
        };
        let (next, ahead, checked) = tokio::join!(
            store.audit_chain_page(after, PAGE),
            store.audit_chain_page(guess, PAGE),
            check
        );
        if let Err(broken) = checked {
            return Ok(broken_verdict(broken));
        }
        page = next?;
        if page.last().is_some_and(|e| e.seq == guess) {
            page.extend(ahead?);
        }
    }
}

fn broken_verdict(broken: Broken) -> Verdict {
    Verdict::Broken {
        seq: broken.seq,
        reason: broken.to_string(),
    }
}
