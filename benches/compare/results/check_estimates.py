#!/usr/bin/env python3
"""Independent check of `spotcheck results` (SPEC §9.3), written from the spec's text.

Reads the manifests, the scored file, history and sample each manifest names, the results table
(CSV, English headers, result codes or names from data/result-categories.csv) and the estimates
spotcheck wrote (CSV, --lang en), recomputes every figure of §9.3 with SciPy's t and Beta
quantiles, and compares them (relative 1e-9). The frame (π > 0 per domain, π = 0 not covered)
is re-derived with the §4 eligibility and π of tests/vectors/check.py.

    python3 benches/compare/results/check_estimates.py M.manifest.json… RESULTS.csv ESTIMATES.csv
"""
import csv
import json
import math
import os
import sys
from collections import defaultdict

from scipy import special, stats

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "vectors"))
import check as s4  # noqa: E402  (SPEC §4 in plain Python)

CLASSES = "ABCD"
TIERS = ["innovative", "specialized", "little_giant", "none"]


def read_csv(path):
    with open(path, encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def locate(p, manifest):
    if os.path.exists(p) or os.path.isabs(p):
        return p
    return os.path.join(os.path.dirname(manifest), p)


def categories():
    kinds = {}
    for r in read_csv(os.path.join(ROOT, "data", "result-categories.csv")):
        for k in (r["code"], r["name_zh"], r["name_en"]):
            kinds[k] = r["kind"]
    return kinds


def estimate(r, member):
    """r: list of (y, pi, stratum). Returns dict of §9.3 figures for the domain."""
    n = sum(1 for i in range(len(r)) if member(i))
    out = {"n": n, "viol": sum(r[i][0] for i in range(len(r)) if member(i))}
    if n == 0:
        return out
    nhat = sum(1 / r[i][1] for i in range(len(r)) if member(i))
    p = sum(r[i][0] / r[i][1] for i in range(len(r)) if member(i)) / nhat
    out.update(rate=p, hit=out["viol"] / n, ht=sum(r[i][0] / r[i][1] for i in range(len(r)) if member(i)))
    size = defaultdict(int)
    for _, _, s in r:
        size[s] += 1
    pooled = [s if size[s] >= 2 else "<pooled>" for _, _, s in r]
    groups = defaultdict(list)
    for i, (y, pi, _) in enumerate(r):
        z = (y - p) / nhat if member(i) else 0.0
        groups[pooled[i]].append((z / pi, pi, member(i)))
    v = 0.0
    for g in groups.values():
        if len(g) < 2:
            continue
        m = sum(x for x, _, _ in g) / len(g)
        v += len(g) / (len(g) - 1) * sum((1 - pi) * (x - m) ** 2 for x, pi, _ in g)
    out["se"] = math.sqrt(v)
    h = sum(1 for g in groups.values() if any(mm for _, _, mm in g))
    df = n - h
    if n >= 2 and df >= 1:
        if v == 0:
            neff = n
        else:
            neff = p * (1 - p) / v * (stats.t.ppf(0.025, n - 1) / stats.t.ppf(0.025, df)) ** 2
        lo = 0.0 if p == 0 else special.betaincinv(neff * p, neff * (1 - p) + 1, 0.025)
        hi = 1.0 if p == 1 else special.betaincinv(neff * p + 1, neff * (1 - p), 0.975)
        out["ci"] = (float(lo), float(hi))
    return out


def main():
    *manifests, results_path, estimates_path = sys.argv[1:]
    kinds = categories()
    results = {}
    for r in read_csv(results_path):
        results[(r["month"], r["department"], r["uscc"])] = kinds[r["result"]]
    expected = {}
    for mp in manifests:
        m = json.load(open(mp, encoding="utf-8"))
        month, strata = m["month"], m["strata"]
        inp = {i["role"]: locate(i["path"], mp) for i in m["inputs"]}
        frame = read_csv(inp["scored"])
        history = defaultdict(list)
        if "history" in inp:
            for h in read_csv(inp["history"]):
                if h["mode"] == "onsite":
                    history[(h["uscc"], h["department"])].append(h["date"])
        sample = read_csv(locate(m["output"]["path"], mp))
        deps = ["market", "ecology"] if m["department"] == "joint" else [m["department"]]
        for dep in deps:
            rc, mc = ("market_ratio", "market_max_per_year") if dep == "market" else ("eco_ratio", "eco_max_per_year")
            eligible = [u for u in frame if s4.eligibility(float(u[rc]), int(u[mc]), history.get((u["uscc"], dep), []), month, m["sampling"]["cooldown_months"]) is None]
            cap = (m["capacity"] or {}).get(dep)
            keys = {u["uscc"]: s4.order_key(m["seed"], dep, month, u["uscc"]) for u in eligible}
            pi = s4.probabilities([(u["uscc"], float(u[rc])) for u in eligible], cap, keys.get)
            frame_units = defaultdict(int)
            for u in frame:
                if pi.get(u["uscc"], 0.0) > 0:
                    for d in domains(u):
                        frame_units[d] += 1
            not_covered = sum(1 for u in frame if pi.get(u["uscc"], 0.0) <= 0)
            units = []
            for row in sample:
                col = "pi_" + dep if "pi_" + dep in row else "pi"
                if dep not in row["departments"].split("+") or not row.get(col):
                    continue
                kind = results.get((month, dep, row["uscc"]), "pending")
                units.append((row, float(row[col]), kind))
            r = [(1 if k == "violation" else 0, p, stratum(row, strata)) for row, p, k in units if k in ("compliant", "violation")]
            rrows = [row for row, p, k in units if k in ("compliant", "violation")]
            doms = set(frame_units) | {d for row, _, _ in units for d in domains(row)}
            allest = estimate(r, lambda i: True)
            for d in doms:
                e = allest if d == ("all", "all") else estimate(r, lambda i: d in domains(rrows[i]))
                inn = [k for row, _, k in units if d in domains(row)]
                rec = {
                    "frame_units": frame_units.get(d, 0), "drawn": len(inn), "inspected": e["n"],
                    "pending": inn.count("pending"), "out_of_scope": inn.count("out_of_scope"),
                    "violations": e["viol"], "hit_rate": e.get("hit"), "rate": e.get("rate"),
                    "se": e.get("se"), "ci_low": e.get("ci", (None, None))[0], "ci_high": e.get("ci", (None, None))[1],
                    "est_violators": e["rate"] * frame_units.get(d, 0) if "rate" in e else None,
                    "lift": e["hit"] / allest["rate"] if "hit" in e and allest.get("rate") else None,
                    "caught_share": None, "not_covered": None,
                }
                if d == ("all", "all"):
                    rec["caught_share"] = e["viol"] / e["ht"] if e.get("viol") else None
                    rec["not_covered"] = not_covered
                expected[(month, dep) + d] = rec
    got = {(r["month"], r["department"], r["domain_kind"], r["domain"]): r for r in read_csv(estimates_path)}
    bad = []
    if set(got) != set(expected):
        bad.append(f"rows differ: only spotcheck {sorted(set(got) - set(expected))}, only here {sorted(set(expected) - set(got))}")
    for k in sorted(set(got) & set(expected)):
        for col, want in expected[k].items():
            cell = got[k][col]
            if want is None:
                if cell != "":
                    bad.append(f"{k} {col}: spotcheck {cell}, expected empty")
            elif cell == "" or abs(float(cell) - want) > 1e-9 * max(1.0, abs(want)):
                bad.append(f"{k} {col}: spotcheck {cell!r}, expected {want!r}")
    if bad:
        print("\n".join(bad[:40]))
        sys.exit(1)
    print(f"ok: {len(got)} estimate rows, {len(got) * len(next(iter(expected.values())))} figures match SPEC §9.3 re-derived independently")


def domains(u):
    out = [("all", "all"), ("district", u["district"]), ("tier", u["tier"])]
    if u.get("credit_class"):
        out.append(("credit_class", u["credit_class"]))
    return out


def stratum(row, strata):
    return {"district": row["district"], "tier": row["tier"]}.get(strata, "")


if __name__ == "__main__":
    main()
