"""spotcheck score against its floor and its peers, on the same files (SPEC §8: no slower than
pyarrow reading the inputs and writing the same output; >= 3x faster than polars, >= 2x faster
than DuckDB).

Runs `spotcheck score ENTERPRISES --emissions EMISSIONS --no-model`, the pyarrow floor
(floor_pyarrow.py, on spotcheck's output; its own clock, which leaves out starting Python and
loading the output table), score_polars.py and score_duckdb.py, RUNS rounds of one run each, in
turn (this machine's speed drifts by 20 % within minutes, so the tools take turns rather than one
tool's runs coming all together); prints every run, the ratios of each round (runs minutes apart
from each other, the fairest pairs) and those of the best runs; then checks that polars
and DuckDB agree with spotcheck on every row (pe_air, pe_water, pe_total, env_tax_cny to 1e-9
relative, emission band, level, market_ratio, eco_ratio, positive_list, risk_score and the
reasons) so the comparison is fair. A benchmark, not part of CI.

Usage: python3 benches/compare/compare_score.py ENTERPRISES.parquet EMISSIONS.parquet
       [--bin target/release/spotcheck] [--runs 2] [--out DIR] [--only spotcheck,floor,polars,duckdb]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import re

import polars as pl

HERE = Path(__file__).resolve().parent


def timed_once(cmd, label, r, own_clock=None):
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    t = time.perf_counter() - start
    if own_clock:
        t = float(re.search(own_clock, done.stdout).group(1))
    print(f"   {label} run {r + 1}: {t:.2f} s (load {load:.2f})")
    return t


def agree(ours: Path, theirs: Path, sample_rows: int, who: str) -> bool:
    cols = ["uscc", "pe_air", "pe_water", "pe_total", "env_tax_cny", "emission_band", "env_risk_level",
            "market_ratio", "eco_ratio", "positive_list", "risk_score", "reasons"]
    a = pl.read_parquet(ours, columns=cols).with_columns(pl.col("reasons").fill_null(""))
    b = pl.read_parquet(theirs, columns=cols).with_columns(pl.col("reasons").fill_null(""))
    if a.height != b.height:
        print(f"   rows differ: spotcheck {a.height}, {who} {b.height}")
        return False
    j = a.join(b, on="uscc", how="inner", suffix="_pl")
    ok = j.height == a.height
    if not ok:
        print(f"   codes differ: {a.height - j.height} codes of spotcheck missing in {who}")
    for c in ["pe_air", "pe_water", "pe_total", "env_tax_cny", "market_ratio", "eco_ratio", "risk_score"]:
        # The tax is rounded to the cent (SPEC §3, half to even) after a sum whose f64 order
        # differs between tools: a tax that is exactly a half cent in decimals lands just above
        # or just below it in f64 depending on that order, and rounds to either neighbour.
        tol = 0.010000001 if c == "env_tax_cny" else 0.0
        bad = j.filter(((pl.col(c) - pl.col(f"{c}_pl")).abs() > pl.max_horizontal(1e-9 * pl.max_horizontal(pl.col(c).abs(), pl.lit(1.0)), pl.lit(tol))))
        if c == "env_tax_cny":
            cent = j.filter((pl.col(c) - pl.col(f"{c}_pl")).abs() > 1e-9 * pl.max_horizontal(pl.col(c).abs(), pl.lit(1.0))).height
            print(f"   env_tax_cny: {cent} rows one cent apart (a half cent rounded either way)")
        if bad.height:
            ok = False
            print(f"   {c}: {bad.height} rows differ, e.g. {bad.select('uscc', c, f'{c}_pl').head(3).rows()}")
    for c in ["emission_band", "env_risk_level", "positive_list", "reasons"]:
        bad = j.filter(pl.col(c).ne_missing(pl.col(f"{c}_pl")))
        if bad.height:
            ok = False
            print(f"   {c}: {bad.height} rows differ, e.g. {bad.select('uscc', c, f'{c}_pl').head(3).rows()}")
    shown = j.sample(min(sample_rows, j.height), seed=7).select("uscc", "pe_total", "env_tax_cny", "market_ratio", "eco_ratio", "positive_list")
    print(f"   {who}: {j.height} rows compared on {len(cols) - 1} columns: {'all agree' if ok else 'DIFFERENCES'}; a sample:")
    print(shown)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("enterprises")
    ap.add_argument("emissions")
    ap.add_argument("--bin", default="target/release/spotcheck")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--out", default="target/compare")
    ap.add_argument("--only", default="spotcheck,floor,polars,duckdb")
    a = ap.parse_args()
    only = a.only.split(",")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ours = out / "scored-spotcheck.parquet"
    import duckdb
    print(f"== {a.enterprises} + {a.emissions} (polars {pl.__version__}, duckdb {duckdb.__version__}, {os.cpu_count()} cores)")
    peers = {"polars": "score_polars.py", "duckdb": "score_duckdb.py"}
    cmds = {}
    if "spotcheck" in only or not ours.exists():
        cmds["spotcheck"] = ([a.bin, "score", a.enterprises, "--emissions", a.emissions, "--no-model", "-q", "-o", str(ours)], "spotcheck", None)
    if "floor" in only:
        cmds["floor"] = ([sys.executable, str(HERE / "floor_pyarrow.py"), a.enterprises, a.emissions, str(ours), str(out / "floor.parquet")], "pyarrow floor", r"floor: ([0-9.]+) s")
    for who, script in peers.items():
        if who in only:
            cmds[who] = ([sys.executable, str(HERE / script), a.enterprises, a.emissions, str(out / f"scored-{who}.parquet")], who, None)
    runs = {k: [] for k in cmds}
    for r in range(a.runs):
        for k, (cmd, label, clock) in cmds.items():
            runs[k].append(timed_once(cmd, label, r, clock))
        if "spotcheck" in runs:
            line = ", ".join(f"{who} / spotcheck = {runs[who][r] / runs['spotcheck'][r]:.2f}" for who in ["floor", "polars", "duckdb"] if who in runs)
            if line:
                print(f"   round {r + 1}: {line}")
    t = {k: min(v) for k, v in runs.items()}
    if "spotcheck" in t:
        for who in ["floor", "polars", "duckdb"]:
            if who in t:
                print(f"   best runs: spotcheck {t['spotcheck']:.2f} s, {who} {t[who]:.2f} s: {who} / spotcheck = {t[who] / t['spotcheck']:.2f}")
    ok = all(agree(ours, out / f"scored-{who}.parquet", 5, who) for who in peers if who in only)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
