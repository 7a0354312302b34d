"""Reference values for src/credit/metrics.rs (test `auc_and_ks_match_independent_libraries`).

Run once with scikit-learn and SciPy installed (pip install scikit-learn scipy):
    python3 benches/compare/credit/metrics_reference.py
and copy the printed numbers into the test. Not part of CI.
"""
import numpy as np
import sklearn
import scipy
from sklearn.metrics import roc_auc_score
from scipy.stats import ks_2samp

risk = np.array([0.12, 0.35, 0.35, 0.8, 0.05, 0.6, 0.6, 0.22, 0.91, 0.47, 0.33, 0.7, 0.15,
                 0.88, 0.52, 0.29, 0.64, 0.41, 0.99, 0.08])
bad = np.array([0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0], dtype=bool)

print("scikit-learn", sklearn.__version__, "scipy", scipy.__version__)
print("roc_auc_score", repr(roc_auc_score(bad, risk)))
print("ks_2samp statistic", repr(ks_2samp(risk[bad], risk[~bad]).statistic))

# PSI over fixed bin counts, with NumPy (the textbook formula, written independently of the Rust).
expected = np.array([120, 340, 280, 160, 100], dtype=float)
actual = np.array([90, 300, 310, 200, 150], dtype=float)
pe, pa = expected / expected.sum(), actual / actual.sum()
print("psi", repr(float(np.sum((pa - pe) * np.log(pa / pe)))))
