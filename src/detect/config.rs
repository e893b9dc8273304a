//! A tenant's detection settings: per rule enabled, thresholds and weight; the forest's weight
//! and history minimum; the alert threshold; presets.
//!
//! Invariant: a configuration that passes `validate` can be evaluated without panicking.
//! (Stub: the full configuration lands with the rules.)

use serde::{Deserialize, Serialize};

/// A tenant's detection settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DetectionConfig {
    /// A transaction scoring at or above this (0–100) becomes an anomaly.
    pub alert_threshold: u8,
    pub forest: ForestSettings,
    /// Payments a vendor or account needs before Benford's law is applied to it.
    pub benford_min_payments: usize,
}

/// The isolation forest's place in the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForestSettings {
    pub enabled: bool,
    pub weight: f64,
    /// Payments a tenant needs before a forest is trained.
    pub min_history: usize,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self {
            alert_threshold: 50,
            forest: ForestSettings {
                enabled: true,
                weight: 1.0,
                min_history: 200,
            },
            benford_min_payments: 100,
        }
    }
}

/// All thresholds at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    Low,
    Medium,
    High,
}

impl DetectionConfig {
    /// Every threshold as `sensitivity` sets it.
    pub fn preset(_sensitivity: Sensitivity) -> Self {
        Self::default()
    }

    /// Why this configuration cannot be used, if it cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.alert_threshold > 100 {
            return Err("alert_threshold must be between 0 and 100".to_owned());
        }
        Ok(())
    }
}
