#!/usr/bin/env bash
# Runs every test and closes with one line "N passed, N failed".
#   scripts/run-tests.sh [unit|bpf|integ|pkt ...]   (default: all four tiers)
# Each C test prints TAP-style "ok N - name" / "not ok N - name" lines; each integration
# script does the same. A program that exits non-zero without printing "not ok", or that
# exceeds its time limit, counts as one failure. Exit status 77 means skipped. The pkt tier
# runs the packetdrill scripts of tests/pkt/ in-process (scripts/packetdrill.sh --tap: one
# TAP line per script; no root needed).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
tiers=("$@"); [ ${#tiers[@]} -eq 0 ] && tiers=(unit bpf integ pkt)
LOG=$BUILD/test-logs; mkdir -p "$LOG"
pass=0 fail=0 skip=0 failed_names=()

run_one() { # name timeout cmd...
  local name=$1 tmo=$2; shift 2
  local log=$LOG/$(echo "$name" | tr '/' '_').log start=$SECONDS rc
  timeout --kill-after=10 "$tmo" "$@" >"$log" 2>&1; rc=$?
  local p f
  p=$(grep -cE '^ok [0-9]+' "$log"); f=$(grep -cE '^not ok [0-9]+' "$log")
  if [ $rc -eq 77 ]; then skip=$((skip+1)); printf '  SKIP %-40s %s\n' "$name" "$(grep -m1 '# SKIP' "$log")"; return; fi
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; [ $rc -eq 124 ] && echo "# timed out after $tmo" >>"$log"; fi
  pass=$((pass+p)); fail=$((fail+f))
  if [ "$f" -gt 0 ]; then
    failed_names+=("$name")
    printf '  FAIL %-40s %3d ok, %d failed (%ds, rc=%d)\n' "$name" "$p" "$f" $((SECONDS-start)) $rc
    grep -E '^not ok|^#' "$log" | head -40 | sed 's/^/       /'
    [ $rc -ne 0 ] && tail -15 "$log" | grep -vE '^(ok|not ok|#)' | sed 's/^/       | /'
  else
    printf '  PASS %-40s %3d ok (%ds)\n' "$name" "$p" $((SECONDS-start))
  fi
}

for tier in "${tiers[@]}"; do
  echo "== $tier"
  case $tier in
  unit) for t in "$BUILD"/tests/unit/test_*; do [ -x "$t" ] && run_one "unit/${t##*/}" 300 "$t"; done
        for t in tests/unit/test_*.sh; do [ -f "$t" ] && run_one "unit/$(basename "$t" .sh)" 60 bash "$t"; done ;;
  bpf)  for t in "$BUILD"/tests/bpf/test_*; do [ -x "$t" ] && run_one "bpf/${t##*/}" 120 "$t"; done ;;
  integ) for t in tests/integ/test_*.sh; do [ -f "$t" ] && run_one "integ/$(basename "$t" .sh)" 600 bash "$t"; done ;;
  pkt)  run_one "pkt/packetdrill" 1200 scripts/packetdrill.sh --tap ;;
  esac
done
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $LOG)"
[ $skip -gt 0 ] && echo "($skip test programs skipped)"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
