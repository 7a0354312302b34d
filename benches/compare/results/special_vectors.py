#!/usr/bin/env python3
"""Reference values of the special functions behind SPEC §9.3's interval, from SciPy.

Writes src/results/testdata/special.json, which `cargo test --lib results::` checks
spotcheck's own beta CDF, Beta quantile and t quantile against (relative error ≤ 1e-9).
Run: python3 benches/compare/results/special_vectors.py   (needs scipy)
"""
import json
import os
import random

import scipy
from scipy import special, stats

rng = random.Random(20261201)
shapes = [0.5, 1.0, 1.5, 2.0, 3.7, 10.0, 25.5, 100.0, 1234.5, 1e5]
cdf, quant, tq = [], [], []
for a in shapes:
    for b in shapes:
        for x in (1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, rng.random()):
            cdf.append([x, a, b, float(special.betainc(a, b, x))])
        for p in (1e-6, 0.025, 0.05, 0.3, 0.5, 0.8, 0.975, 0.999999, rng.random()):
            quant.append([p, a, b, float(special.betaincinv(a, b, p))])
# Shapes as the Korn-Graubard interval uses them: n_eff*p (maybe tiny) and n_eff*(1-p)+1.
for _ in range(300):
    n_eff = 10 ** rng.uniform(0, 6)
    p = rng.choice([rng.random(), rng.random() * 1e-3, 1 - rng.random() * 1e-3])
    quant.append([0.025, n_eff * p, n_eff * (1 - p) + 1, float(special.betaincinv(n_eff * p, n_eff * (1 - p) + 1, 0.025))])
    quant.append([0.975, n_eff * p + 1, n_eff * (1 - p), float(special.betaincinv(n_eff * p + 1, n_eff * (1 - p), 0.975))])
for df in list(range(1, 40)) + [50, 99, 100, 250, 1000, 12345, 10**6]:
    for p in (0.0005, 0.025, 0.05, 0.1, 0.4, 0.6, 0.975):
        tq.append([p, df, float(stats.t.ppf(p, df))])
out = os.path.join(os.path.dirname(__file__), "..", "..", "..", "src", "results", "testdata", "special.json")
with open(out, "w") as f:
    json.dump({"scipy": scipy.__version__, "beta_cdf": cdf, "beta_quantile": quant, "t_quantile": tq}, f)
    f.write("\n")
print(f"{len(cdf)} cdf, {len(quant)} quantile, {len(tq)} t points -> {os.path.normpath(out)}")
