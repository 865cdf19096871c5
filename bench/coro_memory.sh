#!/usr/bin/env bash
# The memory cost of idle coroutines (services/core/coro.c): COUNT of them
# parked at a yield, as the coroutine variant's connections wait for the
# upstream, measured from /proc/self/status (VmRSS, RssAnon, VmPTE, VmSize)
# before and after, for three amounts of stack in use (bench/coro_idle_memory.c
# says what each holds):
#   bare      nothing but the coroutine itself
#   handler   a blocking /io handler's frame: request buffer, parsed request,
#             response, fan-out result
#   full      the same with the buffer and response written throughout
# Then the context switch rate of both mechanisms coro.c can be built with:
# its x86-64 assembly switch and glibc's swapcontext (-DCORO_USE_UCONTEXT).
#
# usage: bench/coro_memory.sh [-n COUNT] [-r ROUND_TRIPS] [-s STACK_BYTES]
# Defaults: -n 1000 -r 10000000 -s 0 (coro.h's default stack). The programs
# are built with CC (default cc) into a temporary directory, removed after.
set -euo pipefail

count=1000
round_trips=10000000
stack_bytes=0
usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; } # the header comment
while getopts "n:r:s:h" opt; do
    case $opt in
    n) count=$OPTARG ;;
    r) round_trips=$OPTARG ;;
    s) stack_bytes=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
[[ $count =~ ^[1-9][0-9]*$ && $round_trips =~ ^[1-9][0-9]*$ && $stack_bytes =~ ^[0-9]+$ ]] ||
    { echo "coro_memory: options take positive integers (-s: 0 or more)" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/coro_memory.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

CC=${CC:-cc}
llhttp_inc=/usr/share/include/llhttp
llhttp_src=/usr/share/llhttp
cflags=(-O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib -Iservices/core -I"$llhttp_inc")
read -r -a pkg_cflags <<<"$(pkg-config --cflags libuv libcurl 2>/dev/null || true)"

# llhttp as the Makefile builds it (its own sources, without our warnings).
for f in "$llhttp_src"/*.c; do
    "$CC" -O2 -std=c11 -I"$llhttp_inc" -c "$f" -o "$tmp/llhttp_$(basename "$f" .c).o"
done
build() { # out, extra flags...
    local out=$1
    shift
    "$CC" "${cflags[@]}" "${pkg_cflags[@]}" "$@" -o "$out" bench/coro_idle_memory.c \
        services/core/coro.c lib/http_request.c lib/http_response.c lib/parse.c \
        "$tmp"/llhttp_*.o -lpthread
}
build "$tmp/coro_idle_memory"
build "$tmp/coro_idle_memory_ucontext" -DCORO_USE_UCONTEXT

echo "== memory: $count idle coroutines ($(uname -r), $(getconf PAGESIZE)-byte pages)"
for mode in bare handler full; do
    "$tmp/coro_idle_memory" -n "$count" -s "$stack_bytes" -m "$mode"
done
echo "== context switches: $round_trips resume + yield round trips"
"$tmp/coro_idle_memory" -r "$round_trips" -s "$stack_bytes"
"$tmp/coro_idle_memory_ucontext" -r "$round_trips" -s "$stack_bytes"
