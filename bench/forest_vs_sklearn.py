#!/usr/bin/env python3
"""scikit-learn's IsolationForest beside AuditPulse's (src/detect/forest).

Two uses:

  forest_vs_sklearn.py bench FEATURES.csv
      Reads the features and labels `cargo bench --bench detect_forest` wrote (DETECT_FOREST_CSV),
      fits IsolationForest(n_estimators=100, max_samples=256, contamination=0.05,
      random_state=0, n_jobs=1) and scores the same rows; prints the times and the ROC-AUC
      (label = any injected anomaly). Last line: `sklearn train_s=... score_s=... auc=...`.

  forest_vs_sklearn.py reference OUT_DIR
      Writes the reference the Rust unit test compares with (src/detect/forest/sklearn_tests.rs):
      OUT_DIR/forest_breast_cancer.csv, scikit-learn's breast-cancer data (the CSV its wheel
      ships) reduced to the forest's 7 columns, with `malignant` as the anomaly label and
      scikit-learn's score (-score_samples) averaged over random_state 0..4; and
      OUT_DIR/forest_breast_cancer.txt, its ROC-AUC per seed and averaged.
      Regenerate with: bench/forest_vs_sklearn.py reference tests/data

Needs numpy and scikit-learn (bench/detect_forest.sh makes the venv).
"""

import sys
import time

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

# The forest takes 7 columns (features::WIDTH): the first seven "mean" measurements.
COLUMNS = 7
SEEDS = range(5)


def forest(seed):
    return IsolationForest(
        n_estimators=100,
        max_samples=256,
        contamination=0.05,
        random_state=seed,
        n_jobs=1,
    )


def bench(path):
    started = time.perf_counter()
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    features, labels = data[:, :-1], data[:, -1].astype(bool)
    print(f"read {len(data)} rows of {features.shape[1]} features in "
          f"{time.perf_counter() - started:.1f} s (scikit-learn {sklearn.__version__})")
    model = forest(0)
    started = time.perf_counter()
    model.fit(features)
    train = time.perf_counter() - started
    started = time.perf_counter()
    scores = -model.score_samples(features)
    score = time.perf_counter() - started
    auc = roc_auc_score(labels, scores)
    print(f"threshold {-model.offset_:.4f}; {int((scores >= -model.offset_).sum())} rows at or above it")
    print(f"sklearn train_s={train:.3f} score_s={score:.3f} auc={auc:.4f}")


def reference(out_dir):
    data = load_breast_cancer()
    features = data.data[:, :COLUMNS]
    # scikit-learn's target: 0 = malignant, 1 = benign.
    malignant = data.target == 0
    scores, aucs = [], []
    for seed in SEEDS:
        s = -forest(seed).fit(features).score_samples(features)
        scores.append(s)
        aucs.append(roc_auc_score(malignant, s))
    mean = np.mean(scores, axis=0)
    names = [n.replace(" ", "_") for n in data.feature_names[:COLUMNS]]
    with open(f"{out_dir}/forest_breast_cancer.csv", "w") as out:
        out.write(",".join(names + ["malignant", "sklearn_score"]) + "\n")
        for row, label, s in zip(features, malignant, mean):
            out.write(",".join(repr(float(x)) for x in row) + f",{int(label)},{float(s)!r}\n")
    with open(f"{out_dir}/forest_breast_cancer.txt", "w") as out:
        out.write(f"# scikit-learn {sklearn.__version__}, IsolationForest(n_estimators=100, "
                  f"max_samples=256), columns {names}\n")
        out.write(f"# written by bench/forest_vs_sklearn.py reference {out_dir}\n")
        for seed, auc in zip(SEEDS, aucs):
            out.write(f"auc_seed_{seed}={auc:.6f}\n")
        out.write(f"auc_mean={np.mean(aucs):.6f}\n")
        out.write(f"auc_of_mean_score={roc_auc_score(malignant, mean):.6f}\n")
    print(f"scikit-learn ROC-AUC per seed {[round(a, 4) for a in aucs]}, mean {np.mean(aucs):.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("bench", "reference"):
        sys.exit(__doc__)
    {"bench": bench, "reference": reference}[sys.argv[1]](sys.argv[2])
