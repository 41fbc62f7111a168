#!/usr/bin/env bash
# Speed and memory, measured in one run on the same files and the same cores:
#   0. per stage on one thread (inflate, structural scan, marker search, the fused scan
#      and prefilter, the whole parse), each file's stages on its buffer while in cache;
#   1. per archive (the `gen` archive, ~7:1, and a `gen --realistic` one, ~5:1 like real
#      CloudTrail), at 1 and THREADS threads: inflate-only with libdeflate (the ceiling:
#      no parse at all) against `mfatrail timeline` end to end, their ratio, peak RSS;
#      and `mfatrail scan` (every user diagnosed from one index);
#   2. the event store: `mfatrail collect` (fresh), then `diagnose` for another user from
#      the store against the same `diagnose` over the raw archive, Parquet bytes per
#      million kept events;
#   3. gzip bombs (scripts/make-bombs.py: 4 GiB declared, lying trailer, 64 members,
#      an endless record) at the default cap: time and peak RSS, each and all at once;
#   4. with S3=1, `mfatrail timeline` over the same archive served from memory by the
#      bench's own S3 server (examples/s3_server.rs), with GETs and bytes in flight, and
#      the CPU seconds of client and server (they share the machine's cores); then with a
#      core each (taskset), against local on the client's core; and against a server that
#      waits LAT_MS (20) before each answer, as S3 does, over this archive and over a wide
#      tree (40 accounts, an organization trail's shape), with the LISTs and GETs made.
# Medians of RUNS runs; peak RSS is the largest of the runs (/usr/bin/time -v).
#
#   MB=1000 THREADS=2 RUNS=5 [S3=1] scripts/bench-compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${MB:-1000}
THREADS=${THREADS:-2}
RUNS=${RUNS:-5}
DIR=${DIR:-bench-data/gen-${MB}mb}
REAL=${REAL:-bench-data/gen-real-${MB}mb}
BIN=target/release/mfatrail

command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }
cargo build --release --quiet
gen() { # DIR [extra gen flags]
  local d=$1; shift
  if [[ ! -d "$d/AWSLogs" ]]; then
    echo "generating $MB MB into $d ..." >&2
    "$BIN" gen --out "$d" --mb "$MB" --seed 7 --hours 52 --accounts 2 \
      --scenario device_deleted --scenario clock_drift --scenario group_mfa_no_device "$@" >&2
  fi
  # Warm the page cache so every pass reads from memory.
  find "$d" -type f -name '*.gz' -exec cat {} + > /dev/null
}
gen "$DIR"
gen "$REAL" --realistic

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
measure() { # prints "seconds maxrss_kb cpu_seconds" of one run of "$@"
  local t; t=$(mktemp)
  /usr/bin/time -v -o "$t" "$@" > /dev/null
  local wall rss cpu
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$t")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
  cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$t")
  rm -f "$t"
  echo "$wall $rss $cpu"
}
row() { printf "%-34s %8.2f %10.0f %12.0f\n" "$1" "$2" "$3" "$4"; }

# 0. Where the time goes, per stage, on one thread (examples/stage_profile.rs).
cargo build --release --quiet --example stage_profile
for d in "$DIR" "$REAL"; do
  echo "stages of the parse, $d:"
  RUNS=$RUNS target/release/examples/stage_profile "$d" | sed 's/^/  /'
done

# 1. Inflate-only against timeline, per archive and thread count.
printf "%-34s %8s %10s %12s\n" "pass" "seconds" "MB/s" "peak RSS MB"
for d in "$DIR" "$REAL"; do
  BYTES=$("$BIN" inflate --source "$d" --threads "$THREADS" | sed -E 's/.* ([0-9]+) bytes decompressed.*/\1/')
  COMP=$(find "$d" -name '*.gz' -printf '%s\n' | awk '{s+=$1} END {print s}')
  awk -v b="$BYTES" -v c="$COMP" -v d="$d" -v n="$RUNS" 'BEGIN { printf "%s: %.0f MB uncompressed, %.1f:1, median of %d runs\n", d, b/1e6, b/c, n }'
  for th in 1 "$THREADS"; do
    declare -a inf_t=() inf_r=() run_t=() run_r=() run_c=() pair=()
    for _ in $(seq "$RUNS"); do
      read -r ti r _ < <(measure "$BIN" inflate --source "$d" --threads "$th"); inf_t+=("$ti"); inf_r+=("$r")
      read -r t r c < <(measure "$BIN" timeline --user alice --source "$d" --threads "$th" --quiet); run_t+=("$t"); run_r+=("$r"); run_c+=("$c")
      # The two passes of a run are back to back: their ratio is robust to a slow spell of
      # this shared machine that spans a whole run.
      pair+=("$(awk -v a="$ti" -v b="$t" 'BEGIN {print a/b}')")
    done
    it=$(printf '%s\n' "${inf_t[@]}" | median); rt=$(printf '%s\n' "${run_t[@]}" | median)
    ir=$(printf '%s\n' "${inf_r[@]}" | sort -n | tail -1); rr=$(printf '%s\n' "${run_r[@]}" | sort -n | tail -1)
    pr=$(printf '%s\n' "${pair[@]}" | median)
    mb=$(awk -v b="$BYTES" 'BEGIN {print b/1e6}')
    row "  inflate only, $th thread(s)" "$it" "$(awk -v m="$mb" -v t="$it" 'BEGIN {print m/t}')" "$(( ir / 1024 ))"
    row "  timeline, $th thread(s)" "$rt" "$(awk -v m="$mb" -v t="$rt" 'BEGIN {print m/t}')" "$(( rr / 1024 ))"
    awk -v it="$it" -v rt="$rt" -v th="$th" -v pr="$pr" 'BEGIN { printf "  ratio (timeline / inflate throughput), %d thread(s): %.2f (median of the runs'"'"' own ratios), %.2f (of the medians)\n", th, pr, it/rt }'
    [[ "$d" == "$DIR" && "$th" == "$THREADS" ]] && { LOCAL_T=$rt; LOCAL_BYTES=$BYTES; LOCAL_CPU=$(printf '%s\n' "${run_c[@]}" | median); }
  done
done
rt=$LOCAL_T; BYTES=$LOCAL_BYTES
declare -a scan_t=() scan_r=()
for _ in $(seq "$RUNS"); do
  read -r t r _ < <(measure "$BIN" scan --source "$DIR" --threads "$THREADS" --quiet); scan_t+=("$t"); scan_r+=("$r")
done
st=$(printf '%s\n' "${scan_t[@]}" | median); sr=$(printf '%s\n' "${scan_r[@]}" | sort -n | tail -1)
row "scan ($DIR), $THREADS threads" "$st" "$(awk -v b="$BYTES" -v t="$st" 'BEGIN {print b/1e6/t}')" "$(( sr / 1024 ))"
awk -v st="$st" -v rt="$rt" 'BEGIN { printf "ratio (scan time / timeline time): %.2f\n", st/rt }'

# 2. The event store.
STORE_TMP=$(mktemp -d)
declare -a col_t col_r dr_t ds_t ds_r
for _ in $(seq "$RUNS"); do
  rm -rf "$STORE_TMP/store"
  read -r t r _ < <(measure "$BIN" collect --source "$DIR" --store "$STORE_TMP/store" --threads "$THREADS" --quiet); col_t+=("$t"); col_r+=("$r")
  read -r t r _ < <(measure "$BIN" diagnose --user bob --source "$DIR" --threads "$THREADS" --quiet); dr_t+=("$t")
  read -r t r _ < <(measure "$BIN" diagnose --user bob --store "$STORE_TMP/store" --threads "$THREADS" --quiet); ds_t+=("$t"); ds_r+=("$r")
done
ct=$(printf '%s\n' "${col_t[@]}" | median); cr=$(printf '%s\n' "${col_r[@]}" | sort -n | tail -1)
drt=$(printf '%s\n' "${dr_t[@]}" | median); dst=$(printf '%s\n' "${ds_t[@]}" | median); dsr=$(printf '%s\n' "${ds_r[@]}" | sort -n | tail -1)
ROWS=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(sum(p['rows'] for p in m['parts'].values()))" "$STORE_TMP/store/manifest.json")
PQ=$(find "$STORE_TMP/store" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')
awk -v b="$BYTES" -v rt="$rt" -v ct="$ct" -v cr="$cr" -v drt="$drt" -v dst="$dst" -v dsr="$dsr" -v rows="$ROWS" -v pq="$PQ" 'BEGIN {
  mb = b / 1e6
  printf "%-34s %8.2f %10.0f %12.0f\n", "mfatrail collect (fresh)", ct, mb/ct, cr/1024
  printf "%-34s %8.2f %10s %12s\n", "diagnose, raw archive", drt, "-", "-"
  printf "%-34s %8.2f %10s %12.0f\n", "diagnose, event store", dst, "-", dsr/1024
  printf "ratio (collect time / timeline time): %.2f\n", ct/rt
  printf "ratio (diagnose from store / from raw): %.3f\n", dst/drt
  printf "store: %d rows, %.1f MB Parquet, %.1f MB per million rows\n", rows, pq/1e6, (pq/1e6)/(rows/1e6)
}'
rm -rf "$STORE_TMP"


# 3. Gzip bombs at the default cap (2 GiB of work each), THREADS threads.
BOMBS=$(mktemp -d)
python3 scripts/make-bombs.py "$BOMBS/all"
echo "gzip bombs (4 MB each on disk), default --max-file-bytes, $THREADS threads:"
for f in single liar multi record; do
  mkdir -p "$BOMBS/$f"; cp "$BOMBS/all/$f.json.gz" "$BOMBS/$f/"
done
for f in single liar multi record all; do
  read -r t r _ < <(measure "$BIN" timeline --user mallory --source "$BOMBS/$f" --threads "$THREADS" --quiet)
  row "  bomb: $f" "$t" 0 "$(( r / 1024 ))"
done
rm -rf "$BOMBS"

# 4. S3, against a server that serves from memory.
if [[ "${S3:-0}" == 1 ]]; then
  cargo build --release --quiet --example s3_server
  # A wide tree besides: an organization trail's shape (many accounts), where the listing
  # is most of the requests.
  WIDE=${WIDE:-bench-data/gen-wide-40acct}
  [[ -d "$WIDE/AWSLogs" ]] || "$BIN" gen --out "$WIDE" --mb 300 --accounts 40 --seed 3 --scenario device_deleted >&2
  S3ROOT=$(mktemp -d)
  mkdir -p "$S3ROOT/bench" "$S3ROOT/wide"
  cp -r "$DIR/AWSLogs" "$S3ROOT/bench/"
  cp -r "$WIDE/AWSLogs" "$S3ROOT/wide/"
  PORT=${PORT:-19000}
  target/release/examples/s3_server "$S3ROOT" "$PORT" 2>/dev/null &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null; rm -rf "$S3ROOT"' EXIT
  # It loads and hashes every object before it listens.
  for _ in $(seq 120); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.5; done
  export AWS_ACCESS_KEY_ID=AKIAMFATRAILBENCH AWS_SECRET_ACCESS_KEY=mfatrail-bench-secret AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  declare -a s3_t s3_r s3_c
  # The server shares this machine's cores: its CPU time is counted apart (clock ticks
  # from /proc), so the S3 path's own cost can be told from the server's.
  tick=$(getconf CLK_TCK)
  srv_cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
  s0=$(srv_cpu)
  for _ in $(seq "$RUNS"); do
    read -r t r c < <(measure "$BIN" timeline --user alice --source s3://bench --endpoint-url "http://127.0.0.1:$PORT" --threads "$THREADS" --quiet); s3_t+=("$t"); s3_r+=("$r"); s3_c+=("$c")
  done
  s1=$(srv_cpu)
  "$BIN" timeline --user alice --source s3://bench --endpoint-url "http://127.0.0.1:$PORT" --threads "$THREADS" --quiet --format json \
    | python3 -c "import json,sys; f=json.load(sys.stdin)['inputs']['s3']; print('S3: %d LISTs, %d GETs, at most %d in flight, at most %.1f MB of objects held' % (f['lists'], f['gets'], f['peak_gets_in_flight'], f['peak_bytes_in_flight']/1e6))"
  st=$(printf '%s\n' "${s3_t[@]}" | median); sr=$(printf '%s\n' "${s3_r[@]}" | sort -n | tail -1)
  sc=$(printf '%s\n' "${s3_c[@]}" | median)
  awk -v b="$BYTES" -v rt="$rt" -v st="$st" -v sr="$sr" -v sc="$sc" -v lc="$LOCAL_CPU" -v srv="$(( s1 - s0 ))" -v tick="$tick" -v n="$RUNS" -v th="$THREADS" 'BEGIN {
    mb = b / 1e6
    printf "%-34s %8.2f %10.0f %12.0f\n", "timeline over S3 (in-memory server)", st, mb/st, sr/1024
    printf "ratio (S3 / local throughput): %.2f\n", rt/st
    sv = srv / tick / n
    printf "CPU seconds per run: local %.2f; S3 client %.2f, server %.2f; %d cores can give at best %.2f s\n", lc, sc, sv, th, (sc + sv) / th
  }'
  # The same with a core each, so the server takes no CPU from the client: the server (all
  # its threads) on the last core, the client on core 0 with one parse thread, against local
  # on core 0 with one parse thread. Pairs back to back, as above.
  if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
    last=$(( $(nproc) - 1 ))
    taskset -a -p -c "$last" "$SERVER" > /dev/null
    declare -a pl_t=() ps_t=() pp=()
    for _ in $(seq "$RUNS"); do
      read -r tl _ _ < <(measure taskset -c 0 "$BIN" timeline --user alice --source "$DIR" --threads 1 --quiet); pl_t+=("$tl")
      read -r ts _ _ < <(measure taskset -c 0 "$BIN" timeline --user alice --source s3://bench --endpoint-url "http://127.0.0.1:$PORT" --threads 1 --quiet); ps_t+=("$ts")
      pp+=("$(awk -v a="$tl" -v b="$ts" 'BEGIN {print a/b}')")
    done
    plt=$(printf '%s\n' "${pl_t[@]}" | median); pst=$(printf '%s\n' "${ps_t[@]}" | median); ppr=$(printf '%s\n' "${pp[@]}" | median)
    awk -v b="$BYTES" -v l="$plt" -v s="$pst" -v p="$ppr" -v c="$last" 'BEGIN {
      printf "%-34s %8.2f %10.0f\n", "timeline, local, core 0", l, b/1e6/l
      printf "%-34s %8.2f %10.0f\n", "timeline, S3, core 0 (server: " c ")", s, b/1e6/s
      printf "ratio (S3 / local throughput), a core each: %.2f (median of the runs'"'"' own ratios), %.2f (of the medians)\n", p, l/s
    }'
    taskset -a -p -c "0-$last" "$SERVER" > /dev/null
  fi
  # S3 itself answers each request after tens of ms: a second server waits LAT_MS before
  # each answer. The GETs start with the first page listed, so on the wide tree the reading
  # hides behind the listing.
  LAT=${LAT_MS:-20}
  target/release/examples/s3_server "$S3ROOT" "$(( PORT + 1 ))" "$LAT" 2>/dev/null &
  SLOW=$!
  trap 'kill $SERVER $SLOW 2>/dev/null; rm -rf "$S3ROOT"' EXIT
  for _ in $(seq 120); do (exec 3<>"/dev/tcp/127.0.0.1/$(( PORT + 1 ))") 2>/dev/null && break; sleep 0.5; done
  for b in bench wide; do
    declare -a lt=()
    for _ in $(seq "$RUNS"); do
      read -r t _ _ < <(measure "$BIN" timeline --user alice --source "s3://$b" --endpoint-url "http://127.0.0.1:$(( PORT + 1 ))" --threads "$THREADS" --quiet); lt+=("$t")
    done
    req=$("$BIN" timeline --user alice --source "s3://$b" --endpoint-url "http://127.0.0.1:$(( PORT + 1 ))" --threads "$THREADS" --quiet --format json \
      | python3 -c "import json,sys; f=json.load(sys.stdin)['inputs']['s3']; print('%d LISTs, %d GETs' % (f['lists'], f['gets']))")
    printf "%-34s %8.2f   (%s)\n" "S3 at ${LAT} ms a request: $b" "$(printf '%s\n' "${lt[@]}" | median)" "$req"
  done
fi
