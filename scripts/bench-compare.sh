#!/usr/bin/env bash
# Speed comparison on one ~1 GB (uncompressed) synthetic archive, measured in
# one run on the same files and the same cores:
#   1. inflate-only with libdeflate (the ceiling: no parse at all),
#   2. `mfatrail timeline` end to end,
#   3. `mfatrail scan` end to end (every user diagnosed from one index),
#   4. the event store: `mfatrail collect` (fresh), then `diagnose` for another user from
#      the store against the same `diagnose` over the raw archive, Parquet bytes per million
#      kept events,
# their ratios, and peak RSS of each (/usr/bin/time -v). Medians of RUNS runs.
# With S3=1, also `mfatrail timeline` over the same archive served by a local
# S3 protocol server (examples/s3_server.rs, s3s-fs on 127.0.0.1).
#
#   MB=1000 THREADS=2 RUNS=3 [S3=1] scripts/bench-compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${MB:-1000}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
DIR=${DIR:-bench-data/gen-${MB}mb}
BIN=target/release/mfatrail

command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }
cargo build --release --quiet
if [[ ! -d "$DIR/AWSLogs" ]]; then
  echo "generating $MB MB into $DIR ..." >&2
  "$BIN" gen --out "$DIR" --mb "$MB" --seed 7 --hours 52 --accounts 2 \
    --scenario device_deleted --scenario clock_drift --scenario group_mfa_no_device >&2
fi
# Warm the page cache so both passes read from memory.
find "$DIR" -type f -name '*.gz' -exec cat {} + > /dev/null

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
measure() { # prints "seconds maxrss_kb" of one run of "$@"
  local t; t=$(mktemp)
  /usr/bin/time -v -o "$t" "$@" > /dev/null
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$t")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
  rm -f "$t"
  echo "$wall $rss"
}

BYTES=$("$BIN" inflate --source "$DIR" --threads "$THREADS" | sed -E 's/.* ([0-9]+) bytes decompressed.*/\1/')
declare -a inf_t inf_r run_t run_r scan_t scan_r
for _ in $(seq "$RUNS"); do
  read -r t r < <(measure "$BIN" inflate --source "$DIR" --threads "$THREADS"); inf_t+=("$t"); inf_r+=("$r")
  read -r t r < <(measure "$BIN" timeline --user alice --source "$DIR" --threads "$THREADS" --quiet); run_t+=("$t"); run_r+=("$r")
  read -r t r < <(measure "$BIN" scan --source "$DIR" --threads "$THREADS" --quiet); scan_t+=("$t"); scan_r+=("$r")
done
st=$(printf '%s\n' "${scan_t[@]}" | median); sr=$(printf '%s\n' "${scan_r[@]}" | sort -n | tail -1)
it=$(printf '%s\n' "${inf_t[@]}" | median); rt=$(printf '%s\n' "${run_t[@]}" | median)
ir=$(printf '%s\n' "${inf_r[@]}" | sort -n | tail -1); rr=$(printf '%s\n' "${run_r[@]}" | sort -n | tail -1)
awk -v b="$BYTES" -v it="$it" -v rt="$rt" -v ir="$ir" -v rr="$rr" -v st="$st" -v sr="$sr" -v th="$THREADS" -v n="$RUNS" 'BEGIN {
  mb = b / 1e6
  printf "archive: %.0f MB uncompressed, %d threads, median of %d runs\n", mb, th, n
  printf "%-28s %8s %10s %12s\n", "pass", "seconds", "MB/s", "peak RSS MB"
  printf "%-28s %8.2f %10.0f %12.0f\n", "inflate only (libdeflate)", it, mb/it, ir/1024
  printf "%-28s %8.2f %10.0f %12.0f\n", "mfatrail timeline", rt, mb/rt, rr/1024
  printf "%-28s %8.2f %10.0f %12.0f\n", "mfatrail scan", st, mb/st, sr/1024
  printf "ratio (timeline / inflate throughput): %.2f\n", it/rt
  printf "ratio (scan time / timeline time): %.2f\n", st/rt
}'

# The event store.
STORE_TMP=$(mktemp -d)
declare -a col_t col_r dr_t ds_t ds_r
for _ in $(seq "$RUNS"); do
  rm -rf "$STORE_TMP/store"
  read -r t r < <(measure "$BIN" collect --source "$DIR" --store "$STORE_TMP/store" --threads "$THREADS" --quiet); col_t+=("$t"); col_r+=("$r")
  read -r t r < <(measure "$BIN" diagnose --user bob --source "$DIR" --threads "$THREADS" --quiet); dr_t+=("$t")
  read -r t r < <(measure "$BIN" diagnose --user bob --store "$STORE_TMP/store" --threads "$THREADS" --quiet); ds_t+=("$t"); ds_r+=("$r")
done
ct=$(printf '%s\n' "${col_t[@]}" | median); cr=$(printf '%s\n' "${col_r[@]}" | sort -n | tail -1)
drt=$(printf '%s\n' "${dr_t[@]}" | median); dst=$(printf '%s\n' "${ds_t[@]}" | median); dsr=$(printf '%s\n' "${ds_r[@]}" | sort -n | tail -1)
ROWS=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(sum(p['rows'] for p in m['parts'].values()))" "$STORE_TMP/store/manifest.json")
PQ=$(find "$STORE_TMP/store" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')
awk -v b="$BYTES" -v rt="$rt" -v ct="$ct" -v cr="$cr" -v drt="$drt" -v dst="$dst" -v dsr="$dsr" -v rows="$ROWS" -v pq="$PQ" 'BEGIN {
  mb = b / 1e6
  printf "%-28s %8.2f %10.0f %12.0f\n", "mfatrail collect (fresh)", ct, mb/ct, cr/1024
  printf "%-28s %8.2f %10s %12s\n", "diagnose, raw archive", drt, "-", "-"
  printf "%-28s %8.2f %10s %12.0f\n", "diagnose, event store", dst, "-", dsr/1024
  printf "ratio (collect time / timeline time): %.2f\n", ct/rt
  printf "ratio (diagnose from store / from raw): %.3f\n", dst/drt
  printf "store: %d rows, %.1f MB Parquet, %.1f MB per million rows\n", rows, pq/1e6, (pq/1e6)/(rows/1e6)
}'
rm -rf "$STORE_TMP"

if [[ "${S3:-0}" == 1 ]]; then
  cargo build --release --quiet --example s3_server
  S3ROOT=$(mktemp -d)
  mkdir -p "$S3ROOT/bench"
  cp -r "$DIR/AWSLogs" "$S3ROOT/bench/"
  PORT=${PORT:-19000}
  target/release/examples/s3_server "$S3ROOT" "$PORT" 2>/dev/null &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null; rm -rf "$S3ROOT"' EXIT
  sleep 1
  export AWS_ACCESS_KEY_ID=AKIAMFATRAILBENCH AWS_SECRET_ACCESS_KEY=mfatrail-bench-secret AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  declare -a s3_t s3_r
  for _ in $(seq "$RUNS"); do
    read -r t r < <(measure "$BIN" timeline --user alice --source s3://bench --endpoint-url "http://127.0.0.1:$PORT" --threads "$THREADS" --quiet); s3_t+=("$t"); s3_r+=("$r")
  done
  st=$(printf '%s\n' "${s3_t[@]}" | median); sr=$(printf '%s\n' "${s3_r[@]}" | sort -n | tail -1)
  awk -v b="$BYTES" -v rt="$rt" -v st="$st" -v sr="$sr" 'BEGIN {
    mb = b / 1e6
    printf "%-28s %8.2f %10.0f %12.0f\n", "mfatrail timeline over S3", st, mb/st, sr/1024
    printf "ratio (S3 / local throughput): %.2f\n", rt/st
  }'
fi
