#!/usr/bin/env bash
# End-to-end benchmark of SPEC §8 on this machine: builds release, generates 10⁶ and 10⁷
# enterprises with their emissions (Parquet, fixed seed), then times with /usr/bin/time -v
# (wall clock, peak RSS):
#   gen      spotcheck gen --rows N --emissions (target at 10⁷: ≤ 10 s)
#   score    spotcheck score ENTERPRISES --emissions EMISSIONS -o SCORED.parquet
#   floor    examples/io_floor.rs: only reading score's inputs and writing a table shaped like
#            its output with the same Parquet settings (target: score ≤ 1.5 × floor)
#   sample   spotcheck sample SCORED --month 2026-12 --department market (target 10⁷: ≤ 3 s)
# and prints the ratios. Each timing is taken RUNS times (default 2); the best run counts, since
# other work on the machine only ever slows a run down. The load average is printed with each.
#
# Usage: benches/e2e.sh [SIZES...]   (default: 1000000 10000000)
# Env:   DATA=folder for the generated files (default: target/e2e), RUNS=2, SEED=20260801
set -euo pipefail

cd "$(dirname "$0")/.."
DATA=${DATA:-target/e2e}
RUNS=${RUNS:-2}
SEED=${SEED:-20260801}
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000000 10000000)
mkdir -p "$DATA"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
rm -f "$DATA"/*.out
echo "== building release (spotcheck, examples/io_floor)"
cargo build --release --quiet --bin spotcheck --example io_floor
BIN=target/release/spotcheck
FLOOR=target/release/examples/io_floor

# timed LABEL CMD... → runs CMD RUNS times; sets WALL (best, seconds) and RSS (its peak, MiB).
timed() {
    local label=$1
    shift
    WALL=""
    RSS=""
    for r in $(seq "$RUNS"); do
        local log
        log=$(mktemp)
        local load
        load=$(cut -d' ' -f1 /proc/loadavg)
        /usr/bin/time -v "$@" >"$log.out" 2>"$log" || {
            cat "$log" "$log.out"
            exit 1
        }
        local w s
        w=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
            awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
        s=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
        printf '   %-8s run %d: %7.2f s  %6s MiB  (load %s)\n' "$label" "$r" "$w" "$s" "$load"
        if [ -z "$WALL" ] || awk "BEGIN {exit !($w < $WALL)}"; then
            WALL=$w
            RSS=$s
        fi
        LAST_OUT="$log.out"
        cat "$log.out" >>"$DATA/$label.out"
        rm -f "$log"
    done
}

ratio() { awk "BEGIN {printf \"%.2f\", $1 / $2}"; }

for N in "${SIZES[@]}"; do
    E="$DATA/enterprises-$N.parquet"
    M="$DATA/emissions-$N.parquet"
    S="$DATA/scored-$N.parquet"
    echo "== $N enterprises"
    timed gen "$BIN" gen --rows "$N" --seed "$SEED" -o "$E" --emissions "$M" -q
    GEN_WALL=$WALL
    echo "   emission rows per enterprise: $(grep -o '^[0-9]* emission rows' "$LAST_OUT" | awk -v n="$N" '{printf "%.3f", $1 / n}')"
    timed score "$BIN" score "$E" --emissions "$M" -o "$S" -q
    SCORE_WALL=$WALL
    SCORE_RSS=$RSS
    rm -f "$DATA/floor.out"
    timed floor "$FLOOR" "$E" "$M" "$S" "$DATA/floor-$N.parquet"
    grep -h '^io_floor' "$DATA/floor.out" | sed 's/^/   /'
    # The floor's own clock leaves out loading its template (the first row group of the output).
    FLOOR_WALL=$(awk '/^io_floor/ {print $2}' "$DATA/floor.out" | sort -g | head -1)
    timed sample "$BIN" sample "$S" --month 2026-12 --department market --seed "$SEED" \
        -o "$DATA/sample-$N.csv" --manifest "$DATA/sample-$N.json" -q
    SAMPLE_WALL=$WALL
    SAMPLE_RSS=$RSS
    echo "   -- $N: gen ${GEN_WALL} s; score ${SCORE_WALL} s (peak ${SCORE_RSS} MiB); floor ${FLOOR_WALL} s;" \
        "score/floor $(ratio "$SCORE_WALL" "$FLOOR_WALL") (target ≤ 1.5); sample ${SAMPLE_WALL} s (peak ${SAMPLE_RSS} MiB)"
    rm -f "$DATA/floor-$N.parquet"
done
