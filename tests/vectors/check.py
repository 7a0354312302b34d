#!/usr/bin/env python3
"""Independent check of spotcheck's sampling vectors (SPEC §4: sys-pps-sha256/1, and the
coordinated joint draw of §4.7, prn-poisson-sha256/1).

A second implementation of SPEC §4 written from the spec's text in plain Python (standard library
only). It reads frame.csv, history.csv, inspectors.csv and cases.json from this folder, re-derives
every order key, permanent random number u, π, stratum start, Σπ, sample and inspector team, and
compares them with the published values exactly (floats bit for bit). It also checks
reference-sampling-vectors.json.

    python3 tests/vectors/check.py        # prints "ok: …" or the first mismatches, exit 1
"""
import csv
import hashlib
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEP = "\x1f"


def sha(*parts):
    return hashlib.sha256(SEP.join(parts).encode("utf-8")).digest()


def u64(*parts):
    return int.from_bytes(sha(*parts)[:8], "big")


def order_key(seed, dept, month, uscc):
    return u64(seed, dept, month, uscc)


def start_u64(seed, dept, month, stratum):
    return u64(seed, dept, month, "start", stratum)


def start_of(u):
    return (u >> 11) * 2.0 ** -53


def prn_u64(seed, month, uscc):
    """§4.7: the 64-bit value behind an enterprise's permanent random number."""
    return u64(seed, "prn", month, uscc)


def prn(seed, month, uscc):
    return start_of(prn_u64(seed, month, uscc))


# ---- §4.1 eligibility -------------------------------------------------------------------------

def month_minus(month, n):
    y, m = int(month[:4]), int(month[5:7])
    idx = y * 12 + (m - 1) - n
    return "%04d-%02d" % (idx // 12, idx % 12 + 1)


def eligibility(ratio, max_per_year, dates, month, cooldown):
    """None when eligible, else the first failing reason in SPEC order."""
    if not ratio > 0:
        return "zero_ratio"
    first = month + "-01"
    year_start = month[:4] + "-01-01"
    cool_start = month_minus(month, cooldown) + "-01"
    # ISO dates compare correctly as text.
    this_year = sum(1 for d in dates if year_start <= d < first)
    if this_year >= max_per_year:
        return "yearly_cap"
    if any(cool_start <= d < first for d in dates):
        return "cooldown"
    return None


# ---- §4.2 inclusion probabilities ---------------------------------------------------------------

def probabilities(units, capacity, keyf):
    """units: list of (uscc, ratio). Returns {uscc: pi}."""
    if capacity is None:
        return {u: min(1.0, r / 12) for u, r in units}
    e = len(units)
    if capacity >= e:
        return {u: 1.0 for u, _ in units}
    ranked = sorted(units, key=lambda x: (-x[1], keyf(x[0]), x[0]))
    s = [0.0] * e
    acc = 0.0
    for k in range(e - 1, -1, -1):
        acc += ranked[k][1]
        s[k] = acc
    pi = {}
    k = 0
    while True:
        c = (capacity - k) / s[k]
        if c * ranked[k][1] <= 1:
            break
        pi[ranked[k][0]] = 1.0
        k += 1
    for u, r in ranked[k:]:
        pi[u] = c * r
    return pi


# ---- §4.3–4.4 order and systematic πps ----------------------------------------------------------

def n_of(t, start):
    return max(0, math.ceil(t - start))


def stratum_value(unit, strata):
    if strata == "district":
        return unit["district"]
    if strata == "tier":
        return unit["tier"]
    return ""


def draw_department(frame, history, case, dept, cooldown):
    seed, month = case["seed"], case["month"]
    ratio_col, max_col = ("market_ratio", "market_max_per_year") if dept == "market" else (
        "eco_ratio", "eco_max_per_year")
    excl = {"units": len(frame), "eligible": 0, "zero_ratio": 0, "yearly_cap": 0, "cooldown": 0}
    eligible = []
    for u in frame:
        dates = history.get((u["uscc"], dept), []) if case["history"] else []
        why = eligibility(float(u[ratio_col]), int(u[max_col]), dates, month, cooldown)
        if why is None:
            eligible.append(u)
            excl["eligible"] += 1
        else:
            excl[why] += 1
    keys = {u["uscc"]: order_key(seed, dept, month, u["uscc"]) for u in eligible}
    cap = (case["capacity"] or {}).get(dept)
    pi = probabilities([(u["uscc"], float(u[ratio_col])) for u in eligible], cap, keys.get)
    labels = sorted({stratum_value(u, case["strata"]) for u in frame}, key=lambda s: s.encode())
    strata, selected = [], []
    for s in labels:
        members = sorted((u for u in eligible if stratum_value(u, case["strata"]) == s),
                         key=lambda u: (keys[u["uscc"]], u["uscc"]))
        su = start_u64(seed, dept, month, s)
        st = start_of(su)
        t, count = 0.0, 0
        for u in members:
            before = n_of(t, st)
            t += pi[u["uscc"]]
            if n_of(t, st) > before:
                selected.append((s, u))
                count += 1
        strata.append({
            "department": dept, "stratum": s,
            "units": sum(1 for u in frame if stratum_value(u, case["strata"]) == s),
            "eligible": len(members), "start_u64": str(su), "start": st, "pi_sum": t,
            "selected": count,
        })
    return excl, pi, strata, selected, keys, labels


# ---- §4.7 coordinated joint draw (prn-poisson-sha256/1) -----------------------------------------

def coordinated_department(frame, history, case, dept, cooldown):
    """Eligibility, keys and π as §4.1–4.3; selection u < π. Per stratum Σπ and Σπ(1−π) are
    accumulated in processing order (stratum, key, code), as the systematic walk does."""
    seed, month = case["seed"], case["month"]
    ratio_col, max_col = ("market_ratio", "market_max_per_year") if dept == "market" else (
        "eco_ratio", "eco_max_per_year")
    excl = {"units": len(frame), "eligible": 0, "zero_ratio": 0, "yearly_cap": 0, "cooldown": 0}
    eligible = []
    for u in frame:
        dates = history.get((u["uscc"], dept), []) if case["history"] else []
        why = eligibility(float(u[ratio_col]), int(u[max_col]), dates, month, cooldown)
        if why is None:
            eligible.append(u)
            excl["eligible"] += 1
        else:
            excl[why] += 1
    keys = {u["uscc"]: order_key(seed, dept, month, u["uscc"]) for u in eligible}
    cap = (case["capacity"] or {}).get(dept)
    pi = probabilities([(u["uscc"], float(u[ratio_col])) for u in eligible], cap, keys.get)
    labels = sorted({stratum_value(u, case["strata"]) for u in frame}, key=lambda s: s.encode())
    strata, selected, order = [], [], []
    expected, var_total = 0.0, 0.0
    for s in labels:
        members = sorted((u for u in eligible if stratum_value(u, case["strata"]) == s),
                         key=lambda u: (keys[u["uscc"]], u["uscc"]))
        order.extend(members)
        t, var, count = 0.0, 0.0, 0
        for u in members:
            p = pi[u["uscc"]]
            t += p
            var += p * (1.0 - p)
            if prn(seed, month, u["uscc"]) < p:
                selected.append((s, u))
                count += 1
        strata.append({
            "department": dept, "stratum": s,
            "units": sum(1 for u in frame if stratum_value(u, case["strata"]) == s),
            "eligible": len(members), "pi_sum": t, "size_sd": math.sqrt(var), "selected": count,
        })
        expected += t
        var_total += var
    return excl, pi, strata, selected, order, labels, expected, math.sqrt(var_total)


def coordinated_rows(case, results, labels):
    """One row per unit drawn by either department: by stratum, then u, then code."""
    seed, month = case["seed"], case["month"]
    drawn = {}
    for dept in ("market", "ecology"):
        for s, u in results[dept]:
            drawn.setdefault(u["uscc"], [s, u, set()])[2].add(dept)
    rows = []
    for code, (s, u, depts) in drawn.items():
        rows.append((labels.index(s), prn(seed, month, code), code, s, u,
                     "market+ecology" if len(depts) == 2 else depts.pop()))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return [(s, u, d, x) for _, x, _, s, u, d in rows]


def coordination(pi_m, pi_e, market_order, expected_m, expected_e, rows):
    """Σ min(π_m, π_e) and Σ π_m·π_e over market's processing order (π_e = 0 where ecology
    cannot draw), then the visits as Σπ_m + Σπ_e minus the joint figure."""
    joint, independent = 0.0, 0.0
    for u in market_order:
        m, e = pi_m[u["uscc"]], pi_e.get(u["uscc"], 0.0)
        joint += min(m, e)
        independent += m * e
    both = expected_m + expected_e
    return {
        "joint_drawn": sum(1 for r in rows if r[2] == "market+ecology"),
        "joint_expected": joint,
        "visits_drawn": len(rows),
        "visits_expected": both - joint,
        "independent_joint_expected": independent,
        "independent_visits_expected": both - independent,
    }


# ---- §4.5 joint merge (spotcheck's documented order) and §4.6 inspectors -------------------------

def merge(results, labels):
    """Per stratum: market draws in market order, then ecology-only draws in ecology order."""
    market = results.get("market", ([], {}))
    ecology = results.get("ecology", ([], {}))
    m_set = {u["uscc"] for _, u in market[0]}
    e_set = {u["uscc"] for _, u in ecology[0]}
    rows = []
    for s in labels:
        for st, u in market[0]:
            if st == s:
                rows.append((s, u, "market+ecology" if u["uscc"] in e_set else "market"))
        for st, u in ecology[0]:
            if st == s and u["uscc"] not in m_set:
                rows.append((s, u, "ecology"))
    return rows


def assign(rows, inspectors, seed, month, team_size):
    load = {i["inspector_id"]: 0 for i in inspectors}
    teams, unstaffed = [], []
    for seq, (_, u, deps) in enumerate(rows, 1):
        uscc = u["uscc"]
        if deps == "market+ecology":
            places = ["market", "ecology"] + ["either"] * (max(team_size, 2) - 2)
        else:
            places = [deps] * team_size
        team, ok = [], True
        for place in places:
            cands = [i for i in inspectors
                     if (place == "either" or i["department"] == place)
                     and uscc not in i["conflicts"] and i["inspector_id"] not in team]
            if not cands:
                ok = False
                break
            best = min(cands, key=lambda i: (
                not (i["district"] == "*" or i["district"] == u["district"]),
                load[i["inspector_id"]],
                sha(seed, "inspector", month, uscc, i["inspector_id"]),
                i["inspector_id"]))
            team.append(best["inspector_id"])
        if ok:
            for t in team:
                load[t] += 1
            teams.append(team)
        else:
            teams.append([])
            unstaffed.append({"seq": seq, "uscc": uscc})
    return teams, unstaffed


# ---- comparison ---------------------------------------------------------------------------------

errors = []


def same(what, got, want):
    if got != want:
        errors.append("%s: derived %r, published %r" % (what, got, want))


def read_csv(name):
    with open(os.path.join(HERE, name), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def check_cases():
    doc = json.load(open(os.path.join(HERE, "cases.json"), encoding="utf-8"))
    same("algorithm", doc["algorithm"], "sys-pps-sha256/1")
    frame = read_csv("frame.csv")
    history = {}
    for h in read_csv("history.csv"):
        if h["mode"] == "onsite":
            history.setdefault((h["uscc"], h["department"]), []).append(h["date"])
    inspectors = read_csv("inspectors.csv")
    for i in inspectors:
        i["conflicts"] = set(c for c in i["conflicts"].split(";") if c)
    cooldown = doc["sampling"]["cooldown_months"]
    team_size = doc["sampling"]["team_size"]

    k = doc["keys"]
    for e in k["keys"]:
        same("key %s %s" % (e["department"], e["uscc"]),
             str(order_key(k["seed"], e["department"], k["month"], e["uscc"])), e["key"])

    p = doc["prn"]
    for e in p["units"]:
        v = prn_u64(p["seed"], p["month"], e["uscc"])
        same("prn u64 %s" % e["uscc"], str(v), e["u64"])
        same("prn u %s" % e["uscc"], start_of(v), e["u"])

    for case in doc["cases"]:
        name = case["name"]
        if case.get("algorithm", doc["algorithm"]) == "prn-poisson-sha256/1":
            check_coordinated(case, frame, history, inspectors, cooldown, team_size)
            continue
        results, labels = {}, []
        for pub in case["departments"]:
            dept = pub["department"]
            excl, pi, strata, selected, _, labels = draw_department(
                frame, history, case, dept, cooldown)
            same("%s %s exclusions" % (name, dept), excl, pub["exclusions"])
            same("%s %s pi" % (name, dept), pi, pub["pi"])
            same("%s %s strata" % (name, dept), strata, pub["strata"])
            same("%s %s selected" % (name, dept), len(selected), pub["selected"])
            results[dept] = (selected, pi)
        rows = merge(results, labels)
        teams, unstaffed = (assign(rows, inspectors, case["seed"], case["month"], team_size)
                            if case["inspectors"] else (None, []))
        derived = [{"seq": n, "uscc": u["uscc"], "stratum": s, "departments": d,
                    "inspectors": teams[n - 1] if teams is not None else None}
                   for n, (s, u, d) in enumerate(rows, 1)]
        same("%s sample" % name, derived, case["sample"])
        same("%s unstaffed" % name, unstaffed,
             [{"seq": x["seq"], "uscc": x["uscc"]} for x in case["unstaffed"]])
    return len(doc["cases"])


def check_coordinated(case, frame, history, inspectors, cooldown, team_size):
    name = case["name"]
    same("%s department" % name, case["department"], "joint")
    results, pis, orders, expected, labels = {}, {}, {}, {}, []
    for pub in case["departments"]:
        dept = pub["department"]
        excl, pi, strata, selected, order, labels, exp, sd = coordinated_department(
            frame, history, case, dept, cooldown)
        same("%s %s exclusions" % (name, dept), excl, pub["exclusions"])
        same("%s %s pi" % (name, dept), pi, pub["pi"])
        same("%s %s strata" % (name, dept), strata, pub["strata"])
        same("%s %s selected" % (name, dept), len(selected), pub["selected"])
        same("%s %s expected" % (name, dept), exp, pub["expected"])
        same("%s %s size_sd" % (name, dept), sd, pub["size_sd"])
        results[dept], pis[dept], orders[dept], expected[dept] = selected, pi, order, exp
    rows = coordinated_rows(case, results, labels)
    teams, unstaffed = (assign([(s, u, d) for s, u, d, _ in rows], inspectors, case["seed"],
                               case["month"], team_size)
                        if case["inspectors"] else (None, []))
    derived = [{"seq": n, "uscc": u["uscc"], "stratum": s, "departments": d,
                "inspectors": teams[n - 1] if teams is not None else None, "u": x}
               for n, (s, u, d, x) in enumerate(rows, 1)]
    same("%s sample" % name, derived, case["sample"])
    same("%s unstaffed" % name, unstaffed,
         [{"seq": x["seq"], "uscc": x["uscc"]} for x in case["unstaffed"]])
    same("%s coordination" % name,
         coordination(pis["market"], pis["ecology"], orders["market"], expected["market"],
                      expected["ecology"], rows),
         case["coordination"])
    # What §4.7 promises, checked on the published numbers themselves: department d drew a unit
    # exactly when u < π_d, and both drew it exactly when u < min(π_m, π_e).
    by = {r["uscc"]: r for r in case["sample"]}
    for u in frame:
        x = prn(case["seed"], case["month"], u["uscc"])
        m = x < pis["market"].get(u["uscc"], 0.0)
        e = x < pis["ecology"].get(u["uscc"], 0.0)
        want = {(True, True): "market+ecology", (True, False): "market",
                (False, True): "ecology"}.get((m, e))
        same("%s %s drawn" % (name, u["uscc"]), by.get(u["uscc"], {}).get("departments"), want)


def check_reference():
    v = json.load(open(os.path.join(HERE, "reference-sampling-vectors.json"), encoding="utf-8"))
    seed, month = v["seed"], v["month"]
    for e in v["keys"]:
        same("reference key", str(order_key(seed, e["department"], month, e["uscc"])), e["key"])
    for e in v["starts"]:
        u = start_u64(seed, e["department"], month, e["stratum"])
        same("reference start u64", str(u), e["u64"])
        same("reference start", start_of(u), e["start"])
    for d in v["draws"]:
        frame = [{"uscc": u["uscc"], "district": u["district"], "tier": "",
                  "market_ratio": u["market_ratio"], "market_max_per_year": u["market_max_per_year"]}
                 for u in d["units"]]
        case = {"seed": seed, "month": month, "history": False, "strata": d["strata"],
                "capacity": {"market": d["capacity"]}}
        _, pi, _, selected, _, _ = draw_department(frame, {}, case, "market", 3)
        same("reference pi", pi, d["pi"])
        same("reference selected", [u["uscc"] for _, u in selected], d["selected"])


if __name__ == "__main__":
    n = check_cases()
    check_reference()
    if errors:
        for e in errors[:20]:
            print("MISMATCH", e)
        sys.exit(1)
    print("ok: %d cases of cases.json (sys-pps-sha256/1 and prn-poisson-sha256/1) and "
          "reference-sampling-vectors.json re-derived exactly" % n)
