//! The configuration's tests: defaults, JSON round trips, refusals, presets.

use super::*;

#[test]
fn an_empty_object_is_the_medium_preset_and_json_round_trips() {
    let config: DetectionConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(config, DetectionConfig::default());
    assert_eq!(config.alert_threshold, 50);
    assert_eq!(config.large_amount.limit, Amount::major(10_000));
    assert_eq!(config.round_amount.figure, Amount::major(1_000));
    assert_eq!(config.vendor_outlier.z, 3.5);
    assert_eq!(config.duplicate.window_days, 7);
    assert!(!config.timing.enabled);
    assert_eq!(
        (
            config.forest.enabled,
            config.forest.weight,
            config.forest.min_history
        ),
        (true, 1.0, 200)
    );
    assert_eq!(config.benford_min_payments, 100);
    for sensitivity in [Sensitivity::Low, Sensitivity::Medium, Sensitivity::High] {
        let preset = DetectionConfig::preset(sensitivity);
        assert_eq!(preset.validate(), Ok(()));
        let json = serde_json::to_string(&preset).unwrap();
        assert_eq!(
            serde_json::from_str::<DetectionConfig>(&json).unwrap(),
            preset
        );
    }
    let json = serde_json::to_value(DetectionConfig::default()).unwrap();
    assert_eq!(json["large_amount"]["limit"], "10000.00");
}

#[test]
fn partial_objects_keep_the_other_defaults() {
    let config: DetectionConfig = serde_json::from_str(
        r#"{"large_amount": {"limit": "2500.50"}, "timing": {"enabled": true}}"#,
    )
    .unwrap();
    assert_eq!(config.large_amount.limit, Amount::parse("2500.50").unwrap());
    assert!(config.large_amount.enabled && config.timing.enabled);
    assert_eq!(config.timing.business_hours, BusinessHours::default());
    assert_eq!(config.velocity, DetectionConfig::default().velocity);
}

#[test]
fn unknown_fields_and_malformed_amounts_are_refused() {
    let refused = |json: &str| serde_json::from_str::<DetectionConfig>(json).is_err();
    assert!(refused(r#"{"alert_treshold": 40}"#));
    assert!(refused(r#"{"large_amount": {"limt": "1.00"}}"#));
    assert!(refused(r#"{"large_amount": {"limit": 10000}}"#));
    assert!(refused(r#"{"large_amount": {"limit": "1e4"}}"#));
    assert!(refused(
        r#"{"timing": {"business_hours": {"start": "8am"}}}"#
    ));
}

#[test]
fn validation_names_the_field_it_refuses() {
    let refusal = |edit: fn(&mut DetectionConfig)| {
        let mut config = DetectionConfig::default();
        edit(&mut config);
        config.validate().unwrap_err()
    };
    assert!(refusal(|c| c.alert_threshold = 101).contains("alert_threshold"));
    assert!(refusal(|c| c.large_amount.limit = Amount::major(0)).contains("large_amount.limit"));
    assert!(refusal(|c| c.vendor_outlier.z = f64::NAN).contains("vendor_outlier.z"));
    assert!(refusal(|c| c.duplicate.weight = -1.0).contains("duplicate.weight"));
    assert!(refusal(|c| c.velocity.max_count = 0).contains("velocity.max_count"));
    assert!(
        refusal(|c| c.timing.business_hours.end = ClockTime::hm(7, 0))
            .contains("timing.business_hours")
    );
}

#[test]
fn presets_order_thresholds_from_least_to_most_sensitive() {
    let [low, medium, high] =
        [Sensitivity::Low, Sensitivity::Medium, Sensitivity::High].map(DetectionConfig::preset);
    assert!(low.large_amount.limit > medium.large_amount.limit);
    assert!(medium.large_amount.limit > high.large_amount.limit);
    assert!(low.vendor_outlier.z > medium.vendor_outlier.z);
    assert!(medium.vendor_outlier.z > high.vendor_outlier.z);
    assert!(low.velocity.max_count > high.velocity.max_count);
    assert!(low.alert_threshold > high.alert_threshold);
}
