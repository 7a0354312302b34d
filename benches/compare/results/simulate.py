#!/usr/bin/env python3
"""Simulated inspection results for a spotcheck sample (SPEC §9.1), for trying `spotcheck results`.

Reads the sample or its public list (CSV, English or Chinese headers, as `spotcheck sample` writes
them).

For every unit and department of the sample: with probability `--pending` no row (still pending);
else out of scope with probability 0.05, else a violation with a probability that grows with the
credit class (A 0.05, B 0.12, C 0.30, D 0.55; no class 0.15), else compliant. Deterministic for a
given --seed. Dates fall in the draw month.

    python3 benches/compare/results/simulate.py sample.csv --month 2026-12 --seed 1 -o results.csv
"""
import argparse
import csv
import random

VIOLATE = {"A": 0.05, "B": 0.12, "C": 0.30, "D": 0.55}
VIOLATIONS = ["problem_pending", "problem_corrected", "disclosure_missing", "other_violation"]
GONE = ["closed", "deregistered", "moved_out", "activity_not_found"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sample")
    ap.add_argument("--month", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pending", type=float, default=0.1)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with open(a.sample, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    def cell(r, *names):
        for n in names:
            if n in r:
                return r[n]
        return ""

    deps_of = {"market": "market", "ecology": "ecology", "市场监管": "market", "生态环境": "ecology"}
    with open(a.output, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["uscc", "month", "department", "inspected_on", "result", "violations", "penalty_cny", "note"])
        for r in rows:
            deps = [deps_of[d] for d in cell(r, "departments", "检查部门").split("+")]
            uscc = cell(r, "uscc", "统一社会信用代码")
            klass = cell(r, "credit_class", "信用风险分类")[:1]
            for d in deps:
                if rng.random() < a.pending:
                    continue
                day = "%s-%02d" % (a.month, rng.randint(1, 28))
                if rng.random() < 0.05:
                    w.writerow([uscc, a.month, d, day, rng.choice(GONE), "", "", ""])
                elif rng.random() < VIOLATE.get(klass, 0.15):
                    n = rng.randint(1, 3)
                    w.writerow([uscc, a.month, d, day, rng.choice(VIOLATIONS), n, 5000 * n, ""])
                else:
                    w.writerow([uscc, a.month, d, day, "no_problem", 0, 0, ""])


if __name__ == "__main__":
    main()
