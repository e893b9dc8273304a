//! Review cases and what they teach: a review or an assignment changes a case and is recorded in
//! its history (the note sealed with the tenant's data key); every review with an outcome runs
//! tuning over the tenant's reviewed anomalies, and the changes it makes are saved with their
//! reasons. Saving a configuration by hand is recorded the same way.
//!
//! Invariant: a configuration reaches storage only after `validate` passed, and every change to
//! one is recorded beside it in the same transaction.

use std::collections::HashMap;

use super::config::DetectionConfig;
use super::service::Detector;
use super::store::{CaseChange, CaseEventRow, CaseUpdate, ChangeRow};
use super::tuning::{self, Change, Review};
use super::{AnomalyStatus, ReviewOutcome, RuleId};
use crate::crypto::{Keyring, ANOMALY_NOTE};
use crate::domain::time::{self, Timestamp};
use crate::domain::{AnomalyId, CaseEventId, TenantId, UserId};
use crate::error::{Error, Result};
use crate::store::Time;

/// Reviews considered by tuning (the newest).
const TUNING_WINDOW: u32 = 1000;

/// One entry of a case's history, note opened.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CaseEvent {
    /// `raised`, `review` or `assign`.
    pub action: String,
    /// Who: `detection`, or the user's id.
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<UserId>,
    /// The risk score when the case was raised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Detector {
    /// Records a review; returns the threshold changes it led to.
    #[allow(clippy::too_many_arguments)]
    pub async fn review(
        &self,
        keyring: &Keyring,
        tenant: TenantId,
        id: AnomalyId,
        actor: &str,
        status: AnomalyStatus,
        outcome: Option<ReviewOutcome>,
        note: Option<&str>,
    ) -> Result<Vec<Change>> {
        let event_id = CaseEventId::new();
        let note_ciphertext = match note {
            Some(text) => {
                let sealer = keyring.sealer(tenant).await?;
                let row = event_id.to_string();
                Some(sealer.seal(ANOMALY_NOTE.row(&row), text.as_bytes())?)
            }
            None => None,
        };
        let update = CaseUpdate {
            change: CaseChange::Review {
                status: status.as_str().to_owned(),
                outcome: outcome.map(|o| o.as_str().to_owned()),
            },
            event_id,
            actor: actor.to_owned(),
            note_ciphertext,
            at: Time(time::now()),
        };
        if !self.store.update_case(tenant, id, &update).await? {
            return Err(Error::NotFound);
        }
        if outcome.is_none() {
            return Ok(Vec::new());
        }
        self.tune(tenant).await
    }

    /// Assigns a case to `user` (or nobody).
    pub async fn assign(
        &self,
        tenant: TenantId,
        id: AnomalyId,
        actor: &str,
        user: Option<UserId>,
    ) -> Result<()> {
        let update = CaseUpdate {
            change: CaseChange::Assign(user),
            event_id: CaseEventId::new(),
            actor: actor.to_owned(),
            note_ciphertext: None,
            at: Time(time::now()),
        };
        match self.store.update_case(tenant, id, &update).await? {
            true => Ok(()),
            false => Err(Error::NotFound),
        }
    }

    /// Runs tuning over the tenant's reviewed anomalies and saves what it changes.
    pub async fn tune(&self, tenant: TenantId) -> Result<Vec<Change>> {
        let config = self.config(tenant).await?;
        let reviews: Vec<Review> = self
            .store
            .reviews(tenant, TUNING_WINDOW)
            .await?
            .into_iter()
            .filter_map(|row| {
                Some(Review {
                    rules: row.rules.split(',').filter_map(RuleId::parse).collect(),
                    outcome: ReviewOutcome::parse(&row.outcome)?,
                    reviewed_at: row.reviewed_at.0,
                })
            })
            .collect();
        let since = self.last_changes(tenant).await?;
        let (tuned, changes) = tuning::tune(&config, &reviews, &since);
        if changes.is_empty() {
            return Ok(changes);
        }
        let at = Time(time::now());
        let rows: Vec<ChangeRow> = changes
            .iter()
            .map(|c| ChangeRow {
                rule: c.rule.as_str().to_owned(),
                parameter: c.parameter.clone(),
                from_value: c.from.clone(),
                to_value: c.to.clone(),
                reason: c.reason.clone(),
                actor: "tuning".to_owned(),
                created_at: at,
            })
            .collect();
        self.save(tenant, &tuned, &rows, at).await?;
        Ok(changes)
    }

    /// When each rule's threshold last changed (by tuning, or by a person setting the whole
    /// configuration): reviews before it were of other thresholds and do not count again.
    async fn last_changes(&self, tenant: TenantId) -> Result<HashMap<RuleId, Timestamp>> {
        let mut since = HashMap::new();
        for change in self.store.detection_changes(tenant, 1000).await? {
            let rules: Vec<RuleId> = match RuleId::parse(&change.rule) {
                Some(rule) => vec![rule],
                None if change.rule == "*" => RuleId::ALL.to_vec(),
                None => continue,
            };
            for rule in rules {
                // Newest first: the first seen is the last change.
                since.entry(rule).or_insert(change.created_at.0);
            }
        }
        Ok(since)
    }

    /// Saves a configuration set by a person (`what`: the preset's name or `custom`).
    pub async fn put_config(
        &self,
        tenant: TenantId,
        config: &DetectionConfig,
        what: &str,
        actor: &str,
    ) -> Result<()> {
        let at = Time(time::now());
        let change = ChangeRow {
            rule: "*".to_owned(),
            parameter: "configuration".to_owned(),
            from_value: String::new(),
            to_value: what.to_owned(),
            reason: format!("set by {actor}"),
            actor: actor.to_owned(),
            created_at: at,
        };
        self.save(tenant, config, &[change], at).await
    }

    async fn save(
        &self,
        tenant: TenantId,
        config: &DetectionConfig,
        changes: &[ChangeRow],
        at: Time,
    ) -> Result<()> {
        config.validate().map_err(Error::BadRequest)?;
        let json = serde_json::to_string(config).map_err(|e| Error::Internal(e.into()))?;
        self.store
            .put_detection_config(tenant, &json, changes, at)
            .await
    }

    /// A case's history with its notes opened.
    pub async fn history(
        &self,
        keyring: &Keyring,
        tenant: TenantId,
        id: AnomalyId,
    ) -> Result<Vec<CaseEvent>> {
        let rows = self.store.case_events(tenant, id).await?;
        let opener = match rows.iter().any(|r| r.note_ciphertext.is_some()) {
            true => Some(keyring.opener(tenant).await?),
            false => None,
        };
        rows.into_iter()
            .map(|row: CaseEventRow| {
                let note = match (&opener, &row.note_ciphertext) {
                    (Some(opener), Some(sealed)) => {
                        let id = row.id.to_string();
                        Some(opener.open_text(ANOMALY_NOTE.row(&id), sealed)?)
                    }
                    _ => None,
                };
                Ok(CaseEvent {
                    action: row.action,
                    actor: row.actor,
                    status: row.status,
                    outcome: row.outcome,
                    assignee: row.assignee,
                    score: row.score,
                    note,
                    at: row.created_at.0,
                })
            })
            .collect()
    }
}
