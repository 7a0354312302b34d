#!/usr/bin/env bash
# Peak resident memory (and wall clock) of every command at two sizes, for SPEC §11's country
# (1.8×10⁸ enterprises within 24 GiB): generates N enterprises with emissions, history and
# inspectors (`spotcheck gen`, fixed seed), then runs under /usr/bin/time -v
#   validate, score, sample (market; joint; joint with capacity; joint --coordinate), whitelist,
#   report (with the sample, the positive list and the same scored file as last period's),
#   results (the market draw's manifest and a result for every drawn unit)
# and prints one line per command: size, wall clock, peak RSS, 1-minute load average. Bytes per
# enterprise are the slope between two sizes: (RSS₂ − RSS₁) / (N₂ − N₁); the extrapolation to
# 1.8×10⁸ is RSS₂ + slope × (1.8×10⁸ − N₂).
#
# Usage: benches/memory.sh [SIZES...]   (default: 2000000 10000000)
# Env:   BIN=target/release/spotcheck, DATA=folder for the files (default: target/memory; removed
#        at the end unless KEEP=1: then the generated inputs are reused by the next run, and the
#        outputs are moved to DATA/N/out-TAG, to `cmp` two builds' outputs), SEED=20260801, TAG
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/spotcheck}
DATA=${DATA:-target/memory}
SEED=${SEED:-20260801}
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(2000000 10000000)
mkdir -p "$DATA"

# measure LABEL N CMD... → one line: label, rows, wall seconds, peak RSS MiB, load.
measure() {
    local label=$1 n=$2
    shift 2
    local log load
    log=$(mktemp)
    load=$(cut -d' ' -f1 /proc/loadavg)
    if ! /usr/bin/time -v "$@" >"$log.out" 2>"$log"; then
        # No command exits non-zero here unless something is wrong.
        tail -n 5 "$log" "$log.out"
        exit 1
    fi
    local w s
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    s=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
    printf '%-22s %10d %8.2f s %8d MiB  load %s\n' "$label" "$n" "$w" "$s" "$load"
    rm -f "$log" "$log.out"
}

for n in "${SIZES[@]}"; do
    i="$DATA/$n"
    d="$i/out"
    mkdir -p "$d"
    if [ ! -f "$i/ent.parquet" ]; then
        measure gen "$n" "$BIN" gen --rows "$n" --seed "$SEED" -q -o "$i/ent.parquet" \
            --emissions "$i/emi.parquet" --history "$i/hist.csv" --inspectors "$i/insp.csv"
    fi
    measure validate "$n" "$BIN" validate "$i/ent.parquet" --emissions "$i/emi.parquet"
    measure score "$n" "$BIN" score "$i/ent.parquet" --emissions "$i/emi.parquet" -q -o "$d/scored.parquet"
    S=(--month 2026-12 --seed "beacon-$SEED" --history "$i/hist.csv" -q)
    measure sample-market "$n" "$BIN" sample "$d/scored.parquet" --department market "${S[@]}" \
        -o "$d/market.csv" --manifest "$d/market.manifest.json"
    measure sample-joint "$n" "$BIN" sample "$d/scored.parquet" --department joint "${S[@]}" \
        -o "$d/joint.csv" --manifest "$d/joint.manifest.json"
    measure sample-joint-capacity "$n" "$BIN" sample "$d/scored.parquet" --department joint "${S[@]}" \
        --capacity "market=$((n / 200)),ecology=$((n / 400))" \
        -o "$d/cap.csv" --manifest "$d/cap.manifest.json"
    measure sample-coordinate "$n" "$BIN" sample "$d/scored.parquet" --department joint --coordinate \
        "${S[@]}" -o "$d/coord.csv" --manifest "$d/coord.manifest.json"
    measure whitelist "$n" "$BIN" whitelist "$d/scored.parquet" --as-of 2026-12-01 -q -o "$d/list.csv"
    measure report "$n" "$BIN" report "$d/scored.parquet" --sample "$d/joint.csv" \
        --whitelist "$d/list.csv" --previous-scored "$d/scored.parquet" --month 2026-12 -q \
        -o "$d/report.html"
    # A result for every unit of the market draw (every 7th a violation).
    python3 - "$d/market.csv" "$d/results.csv" <<'EOF'
import csv, sys
with open(sys.argv[1], encoding="utf-8-sig") as f, open(sys.argv[2], "w", newline="") as o:
    w = csv.writer(o)
    w.writerow(["uscc", "month", "department", "inspected_on", "result"])
    for i, r in enumerate(csv.DictReader(f)):
        w.writerow([r["uscc"], "2026-12", "market", "2026-12-15",
                    "problem_pending" if i % 7 == 0 else "no_problem"])
EOF
    measure results "$n" "$BIN" results "$d/market.manifest.json" "$d/results.csv" -q \
        -o "$d/estimates.csv"
    if [ "${KEEP:-0}" = 1 ]; then
        rm -rf "$i/out-${TAG:-run}"
        mv "$d" "$i/out-${TAG:-run}"
    else
        rm -rf "$i"
    fi
done
