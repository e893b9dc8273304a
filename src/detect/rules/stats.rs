//! The few statistics the rules need: median, median absolute deviation, mean, standard
//! deviation.
//!
//! Invariant: allocation-free; `median` and `mad` reorder (and `mad` overwrites) the caller's
//! scratch buffer, which is how a rule reuses one buffer for every transaction.

use std::cmp::Ordering;

/// The median of `values` (the mean of the two middle ones when their number is even); reorders
/// `values`. `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (lower, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if !n.is_multiple_of(2) {
        return Some(upper);
    }
    let below = lower
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(upper);
    Some((below + upper) / 2.0)
}

/// The median absolute deviation from `center`; overwrites `values` with the deviations.
pub fn mad(values: &mut [f64], center: f64) -> Option<f64> {
    for value in values.iter_mut() {
        *value = (*value - center).abs();
    }
    median(values)
}

pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The sample standard deviation (n − 1); `None` below two values.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    let mean = mean(values)?;
    if values.len() < 2 {
        return None;
    }
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    Some((squares / (values.len() - 1) as f64).sqrt())
}

/// Total order for sorting floats in tests and callers.
pub fn compare(a: &f64, b: &f64) -> Ordering {
    a.total_cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut [7.0]), Some(7.0));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn mad_is_the_median_distance_from_the_center() {
        let mut values: Vec<f64> = (0..10).map(|i| 1000.0 + 100.0 * f64::from(i)).collect();
        let center = median(&mut values).unwrap();
        assert_eq!(center, 1450.0);
        assert_eq!(mad(&mut values, center), Some(250.0));
        let mut same = [5.0; 6];
        assert_eq!(mad(&mut same, 5.0), Some(0.0));
    }

    #[test]
    fn mean_and_sample_standard_deviation() {
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&values), Some(5.0));
        let sd = std_dev(&values).unwrap();
        assert!((sd - 2.138_089_935).abs() < 1e-9, "{sd}");
        assert_eq!(std_dev(&[1.0]), None);
        assert_eq!(mean(&[]), None);
        let mut sorted = [3.0, -1.0, 2.0];
        sorted.sort_by(compare);
        assert_eq!(sorted, [-1.0, 2.0, 3.0]);
    }
}
