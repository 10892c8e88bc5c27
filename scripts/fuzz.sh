#!/usr/bin/env bash
# Runs the libFuzzer targets of build/fuzz/ (built by `make fuzz-build` from tests/fuzz/*.c).
#   scripts/fuzz.sh [-t SECONDS] [--tap] [TARGET...]     (default: 60 s, every target)
#
# Each target runs SECONDS seconds on a working corpus, build/fuzz-work/TARGET/corpus: the
# checked-in seeds of tests/fuzz/TARGET/ are copied there first and what the run finds stays
# there for the next run, so a run never writes into the repository. Options for one target
# (libFuzzer flags, one per line, e.g. -max_len=8192) come from tests/fuzz/TARGET.options.
# Any finding (crash, sanitizer report, failed invariant, leak, timeout, out of memory) ends
# that target's run with a non-zero status; its input is saved under
# build/fuzz-work/TARGET/artifacts/ and this script prints that path (reproduce with
# `build/fuzz/TARGET PATH`) and the log's path. Exit status: 0 when every target ran clean.
#
# --tap prints one TAP line per target (the fuzz tier of scripts/run-tests.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
secs=${FUZZ_SECONDS:-60} tap=0 targets=()
while [ $# -gt 0 ]; do
  case $1 in
  -t) secs=$2; shift 2 ;;
  --tap) tap=1; shift ;;
  -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
  *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/*.c; do targets+=("$(basename "$f" .c)"); done
fi

n=0 failed=0
for t in "${targets[@]}"; do
  n=$((n+1))
  bin=$BUILD/fuzz/$t work=$BUILD/fuzz-work/$t
  log=$work/run.log
  mkdir -p "$work/corpus" "$work/artifacts"
  if [ ! -x "$bin" ] || [ ! -d "tests/fuzz/$t" ]; then
    why="no executable $bin or no seed corpus tests/fuzz/$t/ (make fuzz-build)"
    if [ $tap -eq 1 ]; then echo "not ok $n - fuzz/$t: $why"; else echo "  FAIL $t: $why"; fi
    failed=$((failed+1)); continue
  fi
  cp -n "tests/fuzz/$t"/* "$work/corpus/" 2>/dev/null
  opts=()
  [ -f "tests/fuzz/$t.options" ] && mapfile -t opts < <(grep -v '^#' "tests/fuzz/$t.options" | grep .)
  # findings are crash-, leak-, timeout-, oom- files (slow-unit- ones are only slow)
  found() { ls "$work/artifacts" | grep -vc '^slow-unit-'; }
  before=$(found)
  start=$SECONDS
  # -error_exitcode: libFuzzer's default (77) is what run-tests.sh reads as "skipped".
  timeout --kill-after=10 $((secs + 300)) "$bin" -max_total_time="$secs" -timeout=25 \
    -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "${opts[@]}" "$work/corpus" >"$log" 2>&1
  rc=$?
  # The last status line: "#N  REDUCE cov: C ft: F corp: K/S lim: L exec/s: E rss: R"
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
  summary="$((SECONDS-start))s, ${execs:-0} runs, cov ${cov:-?} ft ${ft:-?} corpus ${corp:-?}"
  repro=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -1)
  if [ $rc -ne 0 ] || [ "$(found)" -gt "$before" ]; then
    failed=$((failed+1))
    why=$(grep -m1 -E 'FUZZ INVARIANT|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY:' "$log")
    if [ $tap -eq 1 ]; then
      echo "not ok $n - fuzz/$t ($summary, rc=$rc)"
      echo "# ${why:-exit status $rc}"
      echo "# reproducer: ${repro:-none written} (run: $bin ${repro:-})"
      echo "# log: $log"
    else
      echo "  FAIL $t ($summary, rc=$rc): ${why:-exit status $rc}"
      echo "       reproducer: ${repro:-none written}   (run: $bin ${repro:-})"
      echo "       log: $log"
    fi
  elif [ $tap -eq 1 ]; then
    echo "ok $n - fuzz/$t ($summary)"
  else
    echo "  PASS $t ($summary)"
  fi
done
[ $tap -eq 1 ] || echo "$((n-failed)) targets clean, $failed with findings"
[ $failed -eq 0 ]
