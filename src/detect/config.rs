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
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self {
            alert_threshold: 50,
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
