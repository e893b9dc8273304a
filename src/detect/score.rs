//! Factors into a 0–100 risk score. (Stub: the documented formula lands with the rules.)
//!
//! Invariant: the score is in 0..=100 and grows with every factor's strength and weight.

use super::config::DetectionConfig;
use super::Factor;

/// The risk score of a transaction with `factors`.
pub fn risk(_config: &DetectionConfig, factors: &[Factor]) -> u8 {
    let none_fired = factors.iter().fold(1.0, |acc, f| {
        acc * (1.0 - (f.strength * f.weight).clamp(0.0, 1.0))
    });
    (100.0 * (1.0 - none_fired)).round().clamp(0.0, 100.0) as u8
}
