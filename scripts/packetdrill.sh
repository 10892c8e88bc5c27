#!/usr/bin/env bash
# Runs packetdrill scripts against hxs in-process, in virtual time (no root, no interface).
#
#   scripts/packetdrill.sh [--tap] [--ip_version=V] [FILE.pkt ...]
#                                                    default: every tests/pkt/**/*.pkt
#
# 1. builds packetdrill once under build/packetdrill/ from PACKETDRILL_SRC (default
#    ../shared/third_party/packetdrill next to the project root; read-only is fine: it is
#    copied, then ./configure && make run in the copy; needs bison and flex, scripts/deps.sh)
# 2. builds build/libhxs-packetdrill.so (make)
# 3. runs each script: packetdrill --so_filename=build/libhxs-packetdrill.so with the
#    addresses the library uses (local 192.168.0.2/16, gateway 192.168.0.1; the remote end is
#    packetdrill's default 192.0.2.1), IPv4; over IPv6 local fd3d:fa7b:d17d::2/48, gateway
#    fd3d:fa7b:d17d:8888::1, remote packetdrill's default 2001:db8::1 (the library serves
#    both families at once: the version is only packetdrill's --ip_version)
#    with the environment a script asks for in lines "// hxs-env: NAME=VALUE ..." (the stack's
#    settings a Linux script would change with sysctl, e.g. HXS_ECN=1 for tcp_ecn = 1)
# 4. prints "PASS name" / "FAIL name" per script (with packetdrill's error lines on failure)
#    and "N passed, N failed"; exits 1 if any failed, 2 if packetdrill cannot be built.
# --tap prints "ok N - name" / "not ok N - name" instead (scripts/run-tests.sh's pkt tier),
# and exits 77 (skipped) when there is no packetdrill source.
# PACKETDRILL=path uses that packetdrill binary instead of building one.
# A script may name environment variables for the stack in a comment line of its own,
#   // hxs-env: HXS_RECOVERY=sack
# (what the kernel would take from a sysctl, e.g. net.ipv4.tcp_recovery); only HXS_ names.
# IP versions: a script runs once per version it names in a line
#   // hxs-ip: ipv4 ipv6 ipv4-mapped-ipv6
# (packetdrill's --ip_version values); without one, scripts under tests/pkt/ipv6/ run over
# ipv6, the others over ipv4. A run other than ipv4 is named "DIR/NAME.pkt (VERSION)".
# --ip_version=V runs every script given over V only, whatever its line says (to try an
# IPv4 script over IPv6 before naming ipv6 in its line).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
tap=0
force_ip=
while [ $# -gt 0 ]; do
  case "$1" in
    --tap) tap=1; shift ;;
    --ip_version=ipv4|--ip_version=ipv6|--ip_version=ipv4-mapped-ipv6) force_ip=${1#--ip_version=}; shift ;;
    --ip_version=*) echo "packetdrill.sh: --ip_version is ipv4, ipv6 or ipv4-mapped-ipv6" >&2; exit 2 ;;
    *) break ;;
  esac
done

# Scripts given by path are resolved before anything changes directory.
scripts=()
for f in "$@"; do
  [ -f "$f" ] || { echo "packetdrill.sh: no such script: $f" >&2; exit 2; }
  scripts+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
cd "$ROOT"
if [ ${#scripts[@]} -eq 0 ]; then
  mapfile -t scripts < <(find "$ROOT/tests/pkt" -name '*.pkt' 2>/dev/null | sort)
fi

LOCAL_IP=192.168.0.2 GATEWAY_IP=192.168.0.1 NETMASK_IP=255.255.0.0
LOCAL_IP6=fd3d:fa7b:d17d::2 GATEWAY_IP6=fd3d:fa7b:d17d:8888::1 PREFIX6=48
SO_FLAGS="local_ip=$LOCAL_IP gateway_ip=$GATEWAY_IP netmask_ip=$NETMASK_IP"
SO_FLAGS+=" local_ip=$LOCAL_IP6 gateway_ip=$GATEWAY_IP6 prefix6=$PREFIX6"

# packetdrill's arguments for one IP version (its --ip_version value)
pd_ip_args() {
  case "$1" in
    ipv6) echo "--ip_version=ipv6 --local_ip=$LOCAL_IP6 --gateway_ip=$GATEWAY_IP6" ;;
    *)    echo "--ip_version=$1 --local_ip=$LOCAL_IP --gateway_ip=$GATEWAY_IP --netmask_ip=$NETMASK_IP" ;;
  esac
}

# the versions a script runs over: --ip_version, its "// hxs-ip:" line, or its folder's
ip_versions() {
  local v
  if [ -n "$force_ip" ]; then echo "$force_ip"; return; fi
  v=$(sed -n 's|^// *hxs-ip: *||p' "$1" | tr ' ' '\n' | grep -xE 'ipv4|ipv6|ipv4-mapped-ipv6' | tr '\n' ' ')
  if [ -n "$v" ]; then echo "$v"
  elif [[ "$1" == "$ROOT/tests/pkt/ipv6/"* ]]; then echo ipv6
  else echo ipv4; fi
}

build_packetdrill() {
  local src=${PACKETDRILL_SRC:-$ROOT/../shared/third_party/packetdrill}
  local dir=$ROOT/$BUILD/packetdrill log=$ROOT/$BUILD/packetdrill-build.log
  PD_BIN=$dir/gtests/net/packetdrill/packetdrill
  [ -x "$PD_BIN" ] && return 0
  if [ ! -f "$src/gtests/net/packetdrill/configure" ]; then
    [ $tap -eq 1 ] && { echo "# SKIP no packetdrill source at $src (PACKETDRILL_SRC)"; return 77; }
    echo "packetdrill.sh: no packetdrill source at $src" >&2
    echo "  set PACKETDRILL_SRC to a packetdrill tree (github.com/google/packetdrill)," >&2
    echo "  or PACKETDRILL to a packetdrill binary" >&2
    return 2
  fi
  for t in bison flex; do
    command -v $t >/dev/null || { echo "packetdrill.sh: $t is missing (scripts/deps.sh installs it)" >&2; return 2; }
  done
  # one build at a time: a second runner waits, then finds the binary
  mkdir -p "$ROOT/$BUILD"
  exec 9>"$ROOT/$BUILD/packetdrill.lock"
  flock 9
  if [ ! -x "$PD_BIN" ]; then
    echo "packetdrill.sh: building packetdrill from $src (log: $log)" >&2
    rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp" && cp -R "$src/." "$dir.tmp/" && chmod -R u+w "$dir.tmp"
    # packetdrill's Makefile needs make's built-in %.o: %.c rule: run under `make test`,
    # the project's MAKEFLAGS (--no-builtin-rules, -s, -j) must not reach it.
    if ! (cd "$dir.tmp/gtests/net/packetdrill" && unset MAKEFLAGS MFLAGS MAKELEVEL &&
          ./configure && make -j2) >"$log" 2>&1; then
      tail -20 "$log" >&2
      echo "packetdrill.sh: building packetdrill failed (log: $log)" >&2
      exec 9>&-
      return 2
    fi
    mv "$dir.tmp" "$dir"
  fi
  exec 9>&-
}

if [ -n "${PACKETDRILL:-}" ]; then
  PD_BIN=$(cd "$(dirname "$PACKETDRILL")" && pwd)/$(basename "$PACKETDRILL")
else
  build_packetdrill || exit $?
fi
SO=$ROOT/$BUILD/libhxs-packetdrill.so
make --no-print-directory -s "$BUILD/libhxs-packetdrill.so" >&2 || { echo "packetdrill.sh: building $SO failed" >&2; exit 2; }

# packetdrill locks all its memory (mlockall MCL_FUTURE): without root, RLIMIT_MEMLOCK
# (8 MiB by default) must hold it, and glibc gives each thread a stack of RLIMIT_STACK
# (8 MiB by default), which alone would not fit. 1 MiB stacks are plenty for packetdrill.
ulimit -s 1024 2>/dev/null

pass=0 fail=0 n=0
for f in "${scripts[@]}"; do
  envs=$(sed -n 's|^// *hxs-env: *||p' "$f" | tr ' ' '\n' | grep -E '^HXS_[A-Z_]+=[A-Za-z0-9_.-]*$' | tr '\n' ' ')
  for ipv in $(ip_versions "$f"); do
    n=$((n+1))
    name=${f#"$ROOT/tests/pkt/"}
    [ "$ipv" = ipv4 ] || name+=" ($ipv)"
    out=$(cd "$(dirname "$f")" && env $envs timeout --kill-after=5 120 "$PD_BIN" \
          --so_filename="$SO" --so_flags="$SO_FLAGS" $(pd_ip_args "$ipv") "$f" 2>&1)
    rc=$?
    [ $rc -eq 124 ] && out+=$'\n'"timed out after 120 s"
    if [ $rc -eq 0 ]; then
      pass=$((pass+1))
      if [ $tap -eq 1 ]; then echo "ok $n - $name"; else echo "PASS $name"; fi
    else
      fail=$((fail+1))
      if [ $tap -eq 1 ]; then echo "not ok $n - $name"; else echo "FAIL $name"; fi
      printf '%s\n' "$out" | head -25 | sed 's/^/#   /'
    fi
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
