"""Quality bar of issue 4: spotcheck's credit scorecard vs scorecardpy and optbinning on the German
credit data.

Both tools get the same train/test splits (70/30, stratified on the target, sklearn seeds 0..N-1)
of scorecardpy's bundled `germancredit` table (1000 rows, 20 features, 300 bad), and each fits its
standard pipeline on the train part only:
  - scorecardpy 0.1.9.7: var_filter (on train) → woebin → woebin_ply → sklearn
    LogisticRegression(penalty='l1', C=0.9, solver='saga'), as in scorecardpy's README;
  - spotcheck: `train` with default parameters (auto features, monotonic auto, min bin 5%,
    min IV 0.02), then `evaluate` on the test part.
The holdout AUC of each is printed per split, with the mean. Split 0 is "the" split of the report.

Run (needs `pip install scorecardpy optbinning scikit-learn "pandas==2.2.3"`: scorecardpy 0.1.9.7 fails
on pandas 3; not part of CI):
    python3 benches/compare/credit/compare.py [N_SPLITS]
"""
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import scorecardpy as sc
from optbinning import BinningProcess
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10
Y = "creditability"
repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

dt = sc.germancredit()
for c in dt.columns:
    if str(dt[c].dtype) == "category":
        dt[c] = dt[c].astype(str)

work = tempfile.mkdtemp(prefix="credit-compare-")
py_auc = []
ob_auc = []
for k in range(N):
    train, test = train_test_split(dt, test_size=0.3, stratify=dt[Y], random_state=k)
    train.to_csv(os.path.join(work, f"train_{k}.csv"), index=False)
    test.to_csv(os.path.join(work, f"test_{k}.csv"), index=False)
    # scorecardpy wants the target as 0/1 (1 = bad).
    train01 = train.copy()
    train01[Y] = (train01[Y] == "bad").astype(int)
    test01 = test.copy()
    test01[Y] = (test01[Y] == "bad").astype(int)
    tr = sc.var_filter(train01, y=Y)
    bins = sc.woebin(tr, y=Y, print_info=False)
    tr_woe = sc.woebin_ply(tr, bins, print_info=False)
    te_woe = sc.woebin_ply(test01[tr.columns], bins, print_info=False)
    y_tr = tr[Y].values
    y_te = test01[Y].values
    cols = [c for c in tr_woe.columns if c != Y]
    lr = LogisticRegression(penalty="l1", C=0.9, solver="saga", max_iter=5000)
    lr.fit(tr_woe[cols], y_tr)
    py_auc.append(roc_auc_score(y_te, lr.predict_proba(te_woe[cols])[:, 1]))

    names = [c for c in dt.columns if c != Y]
    cats = [c for c in names if dt[c].dtype == object]
    bp = BinningProcess(names, categorical_variables=cats,
                        selection_criteria={"iv": {"min": 0.02}})
    bp.fit(train[names], y_tr01 := (train[Y] == "bad").astype(int).values)
    lr2 = LogisticRegression(max_iter=5000)
    lr2.fit(bp.transform(train[names], metric="woe"), y_tr01)
    ob_auc.append(roc_auc_score(y_te, lr2.predict_proba(bp.transform(test[names], metric="woe"))[:, 1]))

out = subprocess.run(
    ["cargo", "run", "-q", "--example", "credit_compare", "--", work, Y],
    cwd=repo, check=True, capture_output=True, text=True,
).stdout.split("\n")
rs_auc = [float(line.split()[1]) for line in out if line.strip()]
rs_nfeat = [int(line.split()[2]) for line in out if line.strip()]

print(f"{'split':>5} {'scorecardpy':>12} {'optbinning':>11} {'spotcheck':>10} {'features':>8}")
for k in range(N):
    print(f"{k:>5} {py_auc[k]:>12.4f} {ob_auc[k]:>11.4f} {rs_auc[k]:>10.4f} {rs_nfeat[k]:>8}")
print(f"{'mean':>5} {np.mean(py_auc):>12.4f} {np.mean(ob_auc):>11.4f} {np.mean(rs_auc):>10.4f}")
print(f"mean difference spotcheck - scorecardpy: {np.mean(rs_auc) - np.mean(py_auc):+.4f}")
print(f"mean difference spotcheck - optbinning:  {np.mean(rs_auc) - np.mean(ob_auc):+.4f}")
print(f"splits and spotcheck's split-0 model in {work}")
