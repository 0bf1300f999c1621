#!/usr/bin/env bash
# Noise-cancelling A/B of CPU per request: two published gateways share one pinned core and take the same
# closed-loop load at the same time, so whatever else the machine does hits both alike. Reports each one's
# CPU µs per request (inflated by the sharing) and the B/A cost ratio, which is what to compare.
#
#   bench/same-core-ab.sh GATEWAY_DIR_A GATEWAY_DIR_B [small|1k]
#
# GATEWAY_DIR_*: a `dotnet publish` output of src/Switchyard.Gateway (e.g. $WORK/gateway of two bench runs,
# one per commit). Needs the nginx config and fixtures a `bench/run.sh` run left in $WORK
# (default /tmp/switchyard-bench). Starts nginx and both gateways on 127.0.0.1 and stops them, by PID.
# Knobs: WORK, GW_CPU=1, LOAD_CPU=0, CONNS=32, WARMUP_S=45, POINT_S=15, POINTS=3.
set -euo pipefail
A=$(cd "$1" && pwd); B=$(cd "$2" && pwd); BODY=${3:-small}
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${WORK:-/tmp/switchyard-bench}; GW_CPU=${GW_CPU:-1}; LOAD_CPU=${LOAD_CPU:-0}
CONNS=${CONNS:-32}; WARMUP_S=${WARMUP_S:-45}; POINT_S=${POINT_S:-15}; POINTS=${POINTS:-3}
[[ -f $WORK/nginx/nginx.conf && -f $WORK/fixtures/req-$BODY.json ]] || { echo "run bench/run.sh first (no nginx config or fixtures in $WORK)" >&2; exit 1; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
nginx -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" >/dev/null 2>&1 & PIDS+=($!)
start_gw() { # dir port log
  (cd "$1" && PORT=$2 BIND_ADDRESS=127.0.0.1 CONFIG_DIR=$WORK/configs LOG_LEVEL=warn LOG_STORE=none \
    exec taskset -c "$GW_CPU" dotnet Switchyard.Gateway.dll >"$3" 2>&1) & PIDS+=($!)
}
start_gw "$A" 18787 "$WORK/ab-a.log"; PA=${PIDS[-1]}
start_gw "$B" 18788 "$WORK/ab-b.log"; PB=${PIDS[-1]}
for port in 18180 18787 18788; do
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done
done
export BENCH_BODY=$WORK/fixtures/req-$BODY.json
export BENCH_HEADERS=$'x-portkey-provider: openai\nAuthorization: Bearer sk-bench\nx-portkey-custom-host: http://127.0.0.1:18180/v1'
load() { # seconds
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$1s" -s "$BENCH/lib/post.lua" http://127.0.0.1:18787/v1/chat/completions >"$WORK/ab-a.out" 2>&1 & local wa=$!
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$1s" -s "$BENCH/lib/post.lua" http://127.0.0.1:18788/v1/chat/completions >"$WORK/ab-b.out" 2>&1 & local wb=$!
  wait "$wa" "$wb"
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
requests() { grep -o '"requests":[0-9]*' "$1" | cut -d: -f2; }
echo "A=$A B=$B body=$BODY, both on CPU $GW_CPU; warm-up ${WARMUP_S}s, then $POINTS points of ${POINT_S}s" >&2
load "$WARMUP_S"
for ((i = 1; i <= POINTS; i++)); do
  a0=$(ticks "$PA"); b0=$(ticks "$PB")
  load "$POINT_S"
  a1=$(ticks "$PA"); b1=$(ticks "$PB"); ra=$(requests "$WORK/ab-a.out"); rb=$(requests "$WORK/ab-b.out")
  awk -v a="$((a1 - a0))" -v b="$((b1 - b0))" -v ra="$ra" -v rb="$rb" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    ca = a * 1e6 / hz / ra; cb = b * 1e6 / hz / rb
    printf "point: A %d req, %.1f us/req   B %d req, %.1f us/req   B/A cost %.3f\n", ra, ca, rb, cb, cb / ca }'
done
