//! Properties the forest must keep: scikit-learn's constants, determinism, an outlier above the
//! threshold and inliers below, the strength mapping, and a byte format that round-trips and
//! refuses what it did not write.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::detect::features::WIDTH;

/// `n` rows around the origin (normal-ish: sums of uniforms), one column constant.
fn cluster(n: usize, seed: u64) -> Vec<Row> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut row = [0.0; WIDTH];
            for x in row.iter_mut().take(WIDTH - 1) {
                *x = (0..4).map(|_| rng.gen_range(-1.0..1.0)).sum::<f64>();
            }
            row[WIDTH - 1] = 7.0;
            row
        })
        .collect()
}

fn trained() -> (Vec<Row>, Forest) {
    let rows = cluster(1_000, 1);
    let forest = Forest::train(&rows, ForestParams::default());
    (rows, forest)
}

#[test]
fn average_path_length_is_scikit_learns() {
    assert_eq!(average_path_length(0), 0.0);
    assert_eq!(average_path_length(1), 0.0);
    assert_eq!(average_path_length(2), 1.0);
    // 2(ln 255 + γ) − 2·255/256, as sklearn.ensemble._iforest._average_path_length([256]).
    assert!((average_path_length(256) - 10.244_770_920_119_917).abs() < 1e-12);
    assert_eq!(depth_limit(256), 8);
    assert_eq!(depth_limit(200), 8);
    assert_eq!(depth_limit(2), 1);
    assert_eq!(depth_limit(1), 0);
}

#[test]
fn quantile_interpolates_as_numpy() {
    assert_eq!(quantile(&mut [4.0, 1.0, 3.0, 2.0], 0.5), 2.5);
    let mut hundred: Vec<f64> = (0..=100).rev().map(f64::from).collect();
    assert!((quantile(&mut hundred, 0.95) - 95.0).abs() < 1e-9);
    assert!((quantile(&mut [0.0, 10.0], 0.95) - 9.5).abs() < 1e-12);
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let rows = cluster(600, 2);
    let params = ForestParams::default();
    let a = Forest::train(&rows, params);
    let b = Forest::train(&rows, params);
    assert_eq!(a.to_bytes(), b.to_bytes());
    let c = Forest::train(&rows, ForestParams { seed: 9, ..params });
    assert_ne!(a.to_bytes(), c.to_bytes());
    assert_eq!(a.trees(), 100);
    assert_eq!(a.max_samples(), 256);
}

#[test]
fn an_obvious_outlier_scores_above_the_threshold_and_inliers_below() {
    let (rows, forest) = trained();
    let far = [20.0, -20.0, 20.0, -20.0, 20.0, -20.0, 7.0];
    let centre = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0];
    let (s_far, s_centre) = (forest.score(&far), forest.score(&centre));
    assert!(
        s_far > forest.threshold(),
        "{s_far} vs {}",
        forest.threshold()
    );
    assert!(s_centre < forest.threshold(), "{s_centre}");
    let scores = forest.score_all(&rows);
    assert!(scores.iter().all(|&s| s > 0.0 && s <= 1.0));
    // Further out than any training row; the centre more ordinary than most.
    assert!(scores.iter().all(|&s| s < s_far), "{s_far}");
    let below = scores.iter().filter(|&&s| s < s_centre).count();
    assert!(
        below < scores.len() / 4,
        "{below} rows score below the centre"
    );
    for (row, s) in rows.iter().zip(&scores).take(50) {
        assert_eq!(forest.score(row), *s);
    }
    // The threshold leaves the contamination share (5 % of 1,000) of the training rows above.
    let above = scores.iter().filter(|&&s| s > forest.threshold()).count();
    assert!((49..=51).contains(&above), "{above}");
}

#[test]
fn strength_is_fifty_at_the_threshold_and_the_explanation_has_the_numbers() {
    let (_, forest) = trained();
    let t = forest.threshold();
    assert_eq!(finding(&forest, t - 1e-9), None);
    let at = finding(&forest, t).unwrap();
    assert_eq!(at.strength, 0.5);
    assert_eq!(finding(&forest, 1.0).unwrap().strength, 1.0);
    let midway = finding(&forest, (t + 1.0) / 2.0).unwrap();
    assert!((midway.strength - 0.75).abs() < 1e-12);
    let text = finding(&forest, 0.9).unwrap().explanation;
    assert_eq!(
        text,
        format!(
            "anomaly score 0.90 is above this tenant's threshold of {t:.2}, \
             the top 5 % of 1,000 training payments"
        )
    );
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(percent(0.025), "2.5");
}

#[test]
fn too_little_history_gives_a_forest_that_never_fires() {
    for rows in [vec![], cluster(1, 3)] {
        let forest = Forest::train(&rows, ForestParams::default());
        assert_eq!(forest.score(&cluster(1, 4)[0]), 0.5);
        assert_eq!(finding(&forest, forest.score(&cluster(1, 4)[0])), None);
        let back = Forest::from_bytes(&forest.to_bytes()).unwrap();
        assert_eq!(back, forest);
    }
}

#[test]
fn stored_bytes_score_identically() {
    let (rows, forest) = trained();
    let bytes = forest.to_bytes();
    let back = Forest::from_bytes(&bytes).unwrap();
    assert_eq!(back, forest);
    let probe = cluster(200, 5);
    for row in rows.iter().chain(&probe) {
        assert_eq!(back.score(row).to_bits(), forest.score(row).to_bits());
    }
    assert!(bytes.len() < 100 * 511 * 10 + 64, "{} bytes", bytes.len());
}

#[test]
fn corrupt_or_truncated_bytes_are_refused() {
    let (_, forest) = trained();
    let bytes = forest.to_bytes();
    for len in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
        assert!(Forest::from_bytes(&bytes[..len]).is_err(), "prefix {len}");
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(Forest::from_bytes(&trailing).is_err());
    let corrupt = |at: usize, value: u8| {
        let mut b = bytes.clone();
        b[at] = value;
        Forest::from_bytes(&b)
    };
    assert!(corrupt(0, b'X').is_err(), "magic");
    assert!(corrupt(4, 2).is_err(), "version");
    assert!(corrupt(5, WIDTH as u8 + 1).is_err(), "width");
    assert!(corrupt(6, bytes[6] ^ 1).is_err(), "feature names");
    assert!(corrupt(17, 0x7f).is_err(), "too many trees");
    // The threshold's top byte: 0xff makes it NaN or negative.
    assert!(corrupt(45, 0xff).is_err(), "threshold");
    // First node of the first tree: an unknown kind.
    assert!(corrupt(46, 9).is_err(), "node kind");
    // Whatever single byte is changed, decoding returns rather than panics.
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for _ in 0..2_000 {
        let at = rng.gen_range(0..bytes.len());
        let _ = corrupt(at, rng.gen());
    }
}

/// `trees` copies of a 16-level chain under `forest`'s header, claiming 65,536 samples: each
/// split sends `x0 > 0` right, its left child a leaf of path 1, the last leaf's path 16; about
/// 300 bytes a tree.
fn deep_chains(forest: &Forest, trees: u32) -> Vec<u8> {
    let mut bytes = forest.to_bytes()[..46].to_vec();
    bytes[14..18].copy_from_slice(&trees.to_le_bytes());
    bytes[18..22].copy_from_slice(&65_536u32.to_le_bytes());
    let leaf = |out: &mut Vec<u8>, path: f64| {
        out.push(0);
        out.extend_from_slice(&path.to_le_bytes());
    };
    for _ in 0..trees {
        for _ in 0..16 {
            bytes.extend_from_slice(&[1, 0]);
            bytes.extend_from_slice(&0.0f64.to_le_bytes());
            leaf(&mut bytes, 1.0);
        }
        leaf(&mut bytes, 16.0);
    }
    bytes
}

#[test]
fn a_small_forest_of_deep_trees_that_would_take_gigabytes_laid_out_is_refused() {
    let (_, forest) = trained();
    let one = Forest::from_bytes(&deep_chains(&forest, 1)).unwrap();
    let c = average_path_length(65_536);
    let deep = one.score(&[1.0; WIDTH]);
    assert!((deep - (-16.0 / c).exp2()).abs() < 1e-12, "{deep}");
    assert_eq!(one.score_all(&[[-1.0; WIDTH]]), [(-1.0 / c).exp2()]);
    let many = deep_chains(&forest, 1_000);
    assert!(many.len() < 400_000, "{} bytes", many.len());
    let refused = Forest::from_bytes(&many).unwrap_err();
    assert!(refused.contains("slots"), "{refused}");
}
