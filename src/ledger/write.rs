//! Writing spend: sealing free text with the tenant's data key and applying a batch so that the
//! same source reference is always the same event.
//!
//! Invariant: idempotent. Re-applying a batch changes nothing that is already there: file
//! imports count a known reference as a duplicate and leave it; sources that update (Plaid)
//! rewrite it in place; an event that `replaces` a pending one takes over its row and id, so a
//! pending charge that posts stays one event. Removals mark events, never delete them.

use std::collections::HashMap;

use super::counterparty;
use super::model::{NewSpend, Source, WriteReport};
use super::store::{SpendRecord, SpendWriter};
use crate::crypto::{Field, Sealer, SPEND_COUNTERPARTY, SPEND_DESCRIPTION};
use crate::domain::time;
use crate::domain::{ImportId, SpendId, TenantId};
use crate::error::{Error, Result};
use crate::store::Time;

/// What a known reference means for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExisting {
    /// Leave the stored event; count a duplicate (bank files).
    Keep,
    /// Rewrite the stored event (sources that send modifications).
    Update,
}

/// Writes one batch (at most a few thousand events) of one source through `writer`.
pub(super) async fn write_batch(
    writer: &mut dyn SpendWriter,
    sealer: &Sealer,
    source: Source,
    batch: &[NewSpend],
    on_existing: OnExisting,
    import: Option<ImportId>,
) -> Result<WriteReport> {
    if on_existing == OnExisting::Keep && batch.iter().all(|s| s.replaces.is_none()) {
        return insert_new(writer, sealer, source, batch, import).await;
    }
    let mut refs: Vec<&str> = batch.iter().map(|s| s.source_ref.as_str()).collect();
    refs.extend(batch.iter().filter_map(|s| s.replaces.as_deref()));
    refs.sort_unstable();
    refs.dedup();
    let mut known: HashMap<String, SpendId> = HashMap::new();
    for chunk in refs.chunks(super::store::WRITE_CHUNK) {
        for found in writer.existing(source, chunk).await? {
            known.insert(found.source_ref, found.id);
        }
    }
    let now = Time(time::now());
    let mut report = WriteReport::default();
    let mut inserts = Vec::new();
    for spend in batch {
        same_source(spend, source)?;
        if let Some(&id) = known.get(&spend.source_ref) {
            match on_existing {
                OnExisting::Keep => report.duplicates += 1,
                OnExisting::Update => {
                    writer
                        .update(&seal(sealer, id, spend, import, now)?)
                        .await?;
                    report.updated += 1;
                }
            }
            continue;
        }
        let taken_over = spend.replaces.as_deref().and_then(|p| known.remove(p));
        let id = match taken_over {
            Some(id) => {
                writer
                    .update(&seal(sealer, id, spend, import, now)?)
                    .await?;
                report.updated += 1;
                id
            }
            None => {
                let id = SpendId::new();
                inserts.push(seal(sealer, id, spend, import, now)?);
                report.inserted += 1;
                id
            }
        };
        known.insert(spend.source_ref.clone(), id);
    }
    writer.insert(&inserts).await?;
    Ok(report)
}

/// Bank files: every event is inserted unless its reference is known, in one statement per
/// chunk, without reading the stored references first.
async fn insert_new(
    writer: &mut dyn SpendWriter,
    sealer: &Sealer,
    source: Source,
    batch: &[NewSpend],
    import: Option<ImportId>,
) -> Result<WriteReport> {
    let now = Time(time::now());
    let mut rows = Vec::with_capacity(batch.len());
    for spend in batch {
        rows.push(seal_new(sealer, source, spend, import, now)?);
    }
    insert_sealed(writer, &rows).await
}

/// A new event of a `source` batch as it will be inserted: free text sealed, a fresh id.
pub(super) fn seal_new(
    sealer: &Sealer,
    source: Source,
    spend: &NewSpend,
    import: Option<ImportId>,
    now: Time,
) -> Result<SpendRecord> {
    same_source(spend, source)?;
    seal(sealer, SpendId::new(), spend, import, now)
}

/// Inserts events sealed by [`seal_new`] whose reference is new; the others are duplicates.
pub(super) async fn insert_sealed(
    writer: &mut dyn SpendWriter,
    rows: &[SpendRecord],
) -> Result<WriteReport> {
    let inserted = writer.insert_new(rows).await?;
    Ok(WriteReport {
        inserted,
        duplicates: rows.len() as u64 - inserted,
        ..WriteReport::default()
    })
}

fn same_source(spend: &NewSpend, source: Source) -> Result<()> {
    if spend.source == source {
        return Ok(());
    }
    Err(Error::Internal(anyhow::anyhow!(
        "a {} event in a {} batch",
        spend.source.as_str(),
        source.as_str()
    )))
}

/// The event as stored: free text sealed for its row, the counterparty normalised.
fn seal(
    sealer: &Sealer,
    id: SpendId,
    spend: &NewSpend,
    import: Option<ImportId>,
    now: Time,
) -> Result<SpendRecord> {
    let row_id = id.to_string();
    Ok(SpendRecord {
        id,
        tenant_id: sealer.tenant(),
        source: spend.source.as_str(),
        source_ref: spend.source_ref.clone(),
        account_id: spend.account,
        occurred_at: Time(spend.occurred_at),
        booked_on: spend.booked_on,
        amount_minor: spend.amount.minor,
        currency: spend.amount.currency.as_str().to_owned(),
        status: spend.status.as_str(),
        counterparty: spend
            .counterparty
            .as_deref()
            .and_then(counterparty::normalize),
        counterparty_ciphertext: sealed(
            sealer,
            SPEND_COUNTERPARTY.row(&row_id),
            &spend.counterparty,
        )?,
        category: spend.category.clone(),
        description_ciphertext: sealed(sealer, SPEND_DESCRIPTION.row(&row_id), &spend.description)?,
        import_id: import,
        now,
    })
}

/// Free text sealed for its field; blank text is not stored at all.
fn sealed(sealer: &Sealer, field: Field<'_>, text: &Option<String>) -> Result<Option<Vec<u8>>> {
    text.as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| sealer.seal(field, t.as_bytes()))
        .transpose()
}

/// Checks what every event must hold before it is written.
pub(super) fn check(spend: &NewSpend, tenant: TenantId) -> Result<()> {
    let bad = |what: &str| {
        Err(Error::Internal(anyhow::anyhow!(
            "refusing a spend event for tenant {tenant}: {what}"
        )))
    };
    if spend.source_ref.is_empty() || spend.source_ref.len() > 512 {
        return bad("its source reference is empty or longer than 512 bytes");
    }
    if spend.amount.currency.exponent().is_none()
        && !matches!(spend.source, Source::Gateway | Source::Otlp)
    {
        return bad("its currency is not an ISO 4217 currency");
    }
    Ok(())
}
