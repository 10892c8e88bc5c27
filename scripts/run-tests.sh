#!/usr/bin/env bash
# Runs every test and closes with one line "N passed, N failed".
#   scripts/run-tests.sh [unit|bpf|integ|pkt|fuzz ...]   (default: all five tiers)
# Each C test prints TAP-style "ok N - name" / "not ok N - name" lines; each integration
# script does the same. A program that exits non-zero without printing "not ok", or that
# exceeds its time limit, counts as one failure. The pkt tier runs the packetdrill scripts
# of tests/pkt/ in-process (scripts/packetdrill.sh --tap: one TAP line per script; no root
# needed). The fuzz tier runs every libFuzzer target of build/fuzz/ for 10 s on its corpus
# (scripts/fuzz.sh --tap: one TAP line per target; no root needed; `make fuzz` runs longer).
#
# Skips: exit status 77 means "cannot run here". As root (CI) nothing may skip: a 77 counts
# as a failure, since whatever a test lacks (a tool, a kernel feature) is installed by
# scripts/deps.sh or is a real defect. Without root the bpf and integ tiers need what only
# root has (XDP, AF_XDP, namespaces): they are not run, and the summary says so.
#
# Before the integ tier, reap_leftovers() deletes what a killed earlier run of this suite
# left behind: network namespaces whose names carry the suite's prefix (tests/integ/lib.sh,
# "hxt" + test tag + the test script's pid) when that pid no longer runs an integration
# test, and their bpffs mounts. Nothing else is touched, and a live run (here or another
# checkout's) is left alone.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
tiers=("$@"); [ ${#tiers[@]} -eq 0 ] && tiers=(unit bpf integ pkt fuzz)
LOG=$BUILD/test-logs; mkdir -p "$LOG"
pass=0 fail=0 skip=0 failed_names=() skipped_names=() skipped_tiers=()
ROOT=0; [ "$(id -u)" -eq 0 ] && ROOT=1

run_one() { # name timeout cmd...
  local name=$1 tmo=$2; shift 2
  local log=$LOG/$(echo "$name" | tr '/' '_').log start=$SECONDS rc
  timeout --kill-after=10 "$tmo" "$@" >"$log" 2>&1; rc=$?
  local p f why
  p=$(grep -cE '^ok [0-9]+' "$log"); f=$(grep -cE '^not ok [0-9]+' "$log")
  if [ $rc -eq 77 ]; then
    why=$(grep -m1 '# SKIP' "$log")
    if [ $ROOT -eq 0 ]; then
      skip=$((skip+1)); skipped_names+=("$name")
      printf '  SKIP %-40s %s\n' "$name" "$why"; return
    fi
    # as root a skip is a failure: say it without the word the logs use for skips
    echo "# cannot run as root: ${why#*# SKIP }" >>"$log"
    f=$((f+1))
  fi
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; [ $rc -eq 124 ] && echo "# timed out after $tmo" >>"$log"; fi
  pass=$((pass+p)); fail=$((fail+f))
  if [ "$f" -gt 0 ]; then
    failed_names+=("$name")
    printf '  FAIL %-40s %3d ok, %d failed (%ds, rc=%d)\n' "$name" "$p" "$f" $((SECONDS-start)) $rc
    grep -E '^not ok|^#' "$log" | grep -v '^# SKIP' | head -40 | sed 's/^/       /'
    [ $rc -ne 0 ] && tail -15 "$log" | grep -vE '^(ok|not ok|#)' | sed 's/^/       | /'
  else
    printf '  PASS %-40s %3d ok (%ds)\n' "$name" "$p" $((SECONDS-start))
  fi
}

# Leftovers of this suite whose test is gone (see the header).
alive() { # PID: it runs an integration test script
  { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -q 'tests/integ/test_'
}
reap_leftovers() {
  local ns pid d n=0
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^hxt[a-z]{2}[0-9]+-[a-z]$'); do
    pid=$(sed -E 's/^hxt[a-z]{2}([0-9]+)-[a-z]$/\1/' <<<"$ns")
    alive "$pid" && continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null && n=$((n+1))
  done
  for d in /tmp/hxs-bpffs.hxt*; do
    [ -d "$d" ] || continue
    pid=$(sed -E 's/^.*\.hxt[a-z]{2}([0-9]+)\..*$/\1/' <<<"$d")
    alive "$pid" && continue
    umount "$d" 2>/dev/null; rmdir "$d" 2>/dev/null
  done
  [ $n -gt 0 ] && echo "  (removed $n namespaces left by an earlier, killed run)"
  return 0
}

for tier in "${tiers[@]}"; do
  if [ $ROOT -eq 0 ] && { [ "$tier" = bpf ] || [ "$tier" = integ ]; }; then
    echo "== $tier: SKIPPED, needs root (XDP programs, AF_XDP sockets, network namespaces)"
    skipped_tiers+=("$tier")
    continue
  fi
  echo "== $tier"
  case $tier in
  unit) for t in "$BUILD"/tests/unit/test_*; do [ -x "$t" ] && run_one "unit/${t##*/}" 300 "$t"; done
        for t in tests/unit/test_*.sh; do [ -f "$t" ] && run_one "unit/$(basename "$t" .sh)" 60 bash "$t"; done ;;
  bpf)  for t in "$BUILD"/tests/bpf/test_*; do [ -x "$t" ] && run_one "bpf/${t##*/}" 120 "$t"; done ;;
  integ) reap_leftovers
         for t in tests/integ/test_*.sh; do [ -f "$t" ] && run_one "integ/$(basename "$t" .sh)" 600 bash "$t"; done ;;
  pkt)  run_one "pkt/packetdrill" 1200 scripts/packetdrill.sh --tap ;;
  fuzz) run_one "fuzz/libfuzzer" 900 scripts/fuzz.sh --tap -t 10 ;;
  *) echo "  unknown tier $tier"; fail=$((fail+1)) ;;
  esac
done
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $LOG)"
[ $skip -gt 0 ] && echo "($skip test programs skipped, not root: ${skipped_names[*]})"
[ ${#skipped_tiers[@]} -gt 0 ] && echo "(tiers skipped, not root: ${skipped_tiers[*]}; run as root for the whole suite)"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
