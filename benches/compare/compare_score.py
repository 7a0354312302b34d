"""spotcheck score against the same scoring in polars (SPEC §8: >= 10x faster), on the same files.

Runs `spotcheck score ENTERPRISES --emissions EMISSIONS --no-model` and score_polars.py, each
RUNS times (best run counts), prints both times and the ratio, then checks that the two agree on
every row (pe_air, pe_water, pe_total, env_tax_cny to 1e-9 relative, emission band, level,
market_ratio, eco_ratio, positive_list, risk_score and the reasons) so the comparison is fair.
A benchmark, not part of CI.

Usage: python3 benches/compare/compare_score.py ENTERPRISES.parquet EMISSIONS.parquet
       [--bin target/release/spotcheck] [--runs 2] [--out DIR]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent


def timed(cmd, runs):
    best = None
    for r in range(runs):
        load = os.getloadavg()[0]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.perf_counter() - start
        print(f"   {Path(cmd[0]).name if cmd[0] != sys.executable else 'polars'} run {r + 1}: {t:.2f} s (load {load:.2f})")
        best = t if best is None else min(best, t)
    return best


def agree(ours: Path, theirs: Path, sample_rows: int) -> bool:
    cols = ["uscc", "pe_air", "pe_water", "pe_total", "env_tax_cny", "emission_band", "env_risk_level",
            "market_ratio", "eco_ratio", "positive_list", "risk_score", "reasons"]
    a = pl.read_parquet(ours, columns=cols)
    b = pl.read_parquet(theirs, columns=cols)
    if a.height != b.height:
        print(f"   rows differ: spotcheck {a.height}, polars {b.height}")
        return False
    j = a.join(b, on="uscc", how="inner", suffix="_pl")
    ok = j.height == a.height
    if not ok:
        print(f"   codes differ: {a.height - j.height} codes of spotcheck missing in polars")
    for c in ["pe_air", "pe_water", "pe_total", "env_tax_cny", "market_ratio", "eco_ratio", "risk_score"]:
        bad = j.filter(((pl.col(c) - pl.col(f"{c}_pl")).abs() > 1e-9 * pl.max_horizontal(pl.col(c).abs(), pl.lit(1.0))))
        if bad.height:
            ok = False
            print(f"   {c}: {bad.height} rows differ, e.g. {bad.select('uscc', c, f'{c}_pl').head(3).rows()}")
    for c in ["emission_band", "env_risk_level", "positive_list", "reasons"]:
        bad = j.filter(pl.col(c) != pl.col(f"{c}_pl"))
        if bad.height:
            ok = False
            print(f"   {c}: {bad.height} rows differ, e.g. {bad.select('uscc', c, f'{c}_pl').head(3).rows()}")
    shown = j.sample(min(sample_rows, j.height), seed=7).select("uscc", "pe_total", "env_tax_cny", "market_ratio", "eco_ratio", "positive_list")
    print(f"   {j.height} rows compared on {len(cols) - 1} columns: {'all agree' if ok else 'DIFFERENCES'}; a sample:")
    print(shown)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("enterprises")
    ap.add_argument("emissions")
    ap.add_argument("--bin", default="target/release/spotcheck")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--out", default="target/compare")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ours, theirs = out / "scored-spotcheck.parquet", out / "scored-polars.parquet"
    print(f"== {a.enterprises} + {a.emissions} (polars {pl.__version__}, {os.cpu_count()} cores)")
    t_ours = timed([a.bin, "score", a.enterprises, "--emissions", a.emissions, "--no-model", "-q", "-o", str(ours)], a.runs)
    t_pl = timed([sys.executable, str(HERE / "score_polars.py"), a.enterprises, a.emissions, str(theirs)], a.runs)
    print(f"   spotcheck {t_ours:.2f} s, polars {t_pl:.2f} s: spotcheck is {t_pl / t_ours:.1f}x faster (target >= 10x)")
    sys.exit(0 if agree(ours, theirs, 5) else 1)


if __name__ == "__main__":
    main()
