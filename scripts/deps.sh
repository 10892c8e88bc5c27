#!/usr/bin/env bash
# Installs the Debian packages hxs needs to build, test, demo and bench. Idempotent: it only
# calls apt-get when something is missing, so `make` can run it every time.
set -euo pipefail

# "probe:package" pairs. A probe is a command name, or a path that must exist.
need=(
  cc:gcc make:make clang:clang llc:llvm bpftool:bpftool pkg-config:pkg-config
  /usr/include/bpf/libbpf.h:libbpf-dev /usr/include/xdp/xsk.h:libxdp-dev
  /usr/include/gelf.h:libelf-dev /usr/include/zlib.h:zlib1g-dev
  /usr/include/libmnl/libmnl.h:libmnl-dev xdp-loader:xdp-tools
  ip:iproute2 ethtool:ethtool nft:nftables ping:iputils-ping socat:socat nc:netcat-openbsd
  curl:curl hping3:hping3 ab:apache2-utils h2load:nghttp2-client iperf3:iperf3 python3:python3
  sha256sum:coreutils valgrind:valgrind gnuplot:gnuplot-nox perf:linux-perf
  tcpdump:tcpdump bison:bison flex:flex
  redis-server:redis-server redis-benchmark:redis-tools nginx:nginx-light wrk:wrk
)
# BPF objects include <asm/types.h>; Debian keeps it under the multiarch directory, which
# gcc-multilib's /usr/include/asm symlink also provides for clang -target bpf.
ma=$(gcc -print-multiarch 2>/dev/null || true)
[ -n "$ma" ] && need+=("/usr/include/$ma/asm/types.h:linux-libc-dev")
# libFuzzer's runtime (make fuzz), beside clang's sanitizer runtimes (Debian's clang pulls it
# in through libclang-common-N-dev; libclang-rt-dev names the default version's).
if command -v clang >/dev/null 2>&1; then
  need+=("$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a:libclang-rt-dev")
fi

missing=()
for pair in "${need[@]}"; do
  probe=${pair%%:*} pkg=${pair#*:}
  if [[ $probe == /* ]]; then [ -e "$probe" ] && continue
  else command -v "$probe" >/dev/null 2>&1 && continue; fi
  missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: need root to install packages: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
