//! Factors into a 0–100 risk score.
//!
//! The formula: each factor contributes `c = min(1, weight × strength)`, and the score is
//! `round(100 × (1 − Π(1 − c)))` over the transaction's factors (the rules' and the isolation
//! forest's). Read `c` as the chance that the factor alone points at a real problem; the score is
//! the chance that at least one does. With the default weights of 1.0, one large-amount factor of
//! 0.75 scores 75, a payment exactly at the limit (0.5) scores 50, the default alert threshold,
//! and a new vendor (0.3) paid a round figure (0.3) scores round(100 × (1 − 0.7 × 0.7)) = 51.
//!
//! Invariant: the score is in 0..=100, is 0 without factors, and never falls when a factor is
//! added or a strength or weight grows; a factor with weight × strength ≥ 1 alone scores 100.

use super::config::DetectionConfig;
use super::{Factor, Finding, RuleId};

/// The risk score of a transaction with `factors` (their weights are those of the configuration
/// they were evaluated with).
pub fn risk(_config: &DetectionConfig, factors: &[Factor]) -> u8 {
    let none_fired = factors.iter().fold(1.0, |acc, f| {
        let contribution = (f.strength * f.weight).clamp(0.0, 1.0);
        acc * (1.0 - contribution)
    });
    // In [0, 100] by the clamps, so the cast neither wraps nor truncates.
    (100.0 * (1.0 - none_fired)).round().clamp(0.0, 100.0) as u8
}

/// Whether a score makes the transaction an anomaly under `config`.
pub fn alerts(config: &DetectionConfig, score: u8) -> bool {
    score >= config.alert_threshold
}

/// The isolation forest's finding as a factor, weighted as `config` says, unless the forest is
/// disabled.
pub fn forest_factor(config: &DetectionConfig, finding: Finding) -> Option<Factor> {
    config.forest.enabled.then(|| Factor {
        rule: RuleId::Forest,
        strength: finding.strength.clamp(0.0, 1.0),
        weight: config.forest.weight,
        explanation: finding.explanation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(rule: RuleId, strength: f64, weight: f64) -> Factor {
        Factor {
            rule,
            strength,
            weight,
            explanation: String::new(),
        }
    }

    #[test]
    fn one_factor_scores_its_strength_times_its_weight() {
        let config = DetectionConfig::default();
        let large = |s| risk(&config, &[factor(RuleId::LargeAmount, s, 1.0)]);
        assert_eq!(large(0.75), 75);
        assert_eq!(large(0.5), 50);
        assert!(alerts(&config, large(0.5)) && !alerts(&config, large(0.49)));
        assert_eq!(risk(&config, &[]), 0);
        assert_eq!(risk(&config, &[factor(RuleId::Duplicate, 0.8, 0.5)]), 40);
        assert_eq!(risk(&config, &[factor(RuleId::Duplicate, 0.8, 2.0)]), 100);
    }

    #[test]
    fn factors_combine_as_independent_chances() {
        let config = DetectionConfig::default();
        let new_and_round = [
            factor(RuleId::NewVendor, 0.3, 1.0),
            factor(RuleId::RoundAmount, 0.3, 1.0),
        ];
        assert_eq!(risk(&config, &new_and_round), 51);
        let mut more = new_and_round.to_vec();
        more.push(factor(RuleId::Forest, 0.4, 1.0));
        assert_eq!(risk(&config, &more), 71);
        assert!(risk(&config, &more) >= risk(&config, &new_and_round));
    }

    #[test]
    fn the_forest_factor_follows_its_settings() {
        let mut config = DetectionConfig::default();
        config.forest.weight = 0.5;
        let finding = || Finding {
            strength: 0.8,
            explanation: "anomaly score 0.71".to_owned(),
        };
        let factor = forest_factor(&config, finding()).unwrap();
        assert_eq!((factor.rule, factor.weight), (RuleId::Forest, 0.5));
        assert_eq!(risk(&config, &[factor]), 40);
        config.forest.enabled = false;
        assert!(forest_factor(&config, finding()).is_none());
    }
}
