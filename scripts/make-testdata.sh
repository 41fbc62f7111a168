#!/usr/bin/env bash
# Regenerates testdata/scenarios/<name>/ with `mfatrail gen` (deterministic for
# the seed). The snapshots (tests/e2e/snapshots) are then refreshed with
# INSTA_UPDATE=always cargo test --test e2e and reviewed in the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
BIN=target/debug/mfatrail
seed=100
for s in device_deleted group_mfa_no_device clock_drift account_wide org_multi_account \
         managed_policy_version extend_48h negative_control late_delivery two_devices_one_removed; do
  out=testdata/scenarios/$s
  rm -rf "$out/AWSLogs"
  mkdir -p "$out"
  seed=$((seed + 1)) # one account per scenario, so folders can be combined
  args=(gen --out "$out" --mb 0.2 --seed "$seed" --hours 52 --since 2026-11-25T00:00:00Z --scenario "$s")
  "$BIN" "${args[@]}" > /dev/null
  echo "mfatrail ${args[*]}" > "$out/GEN.txt"
done
du -sh testdata/scenarios
