#!/usr/bin/env bash
# Switchyard load benchmark: one command, loopback only. See bench/README.md.
#
#   bench/run.sh [--quick] [--runs N] [--peer portkey] [--duration S] [--warmup S]
#                [--gw-env NAME=value]... [--variants "a b"|all|none] [--out DIR] [--no-install]
#
# Installs what is missing (Debian: wrk nginx-light util-linux curl iproute2; nodejs+npm only for the
# peer), publishes the gateway in Release, starts nginx and a paced SSE upstream on CPU $LOAD_CPU, starts
# the gateway on CPU $GW_CPU, drives wrk over 127.0.0.1 (direct first, then through the gateway, same
# shape), and writes bench/results/<yyyymmdd-hhmmss>/{results.json,summary.md}. Stops everything it
# started (by PID) on exit and on Ctrl-C.
set -Eeuo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)

# ---- knobs (environment; flags below override) ---------------------------------------------------
WORK=${WORK:-/tmp/switchyard-bench}
RUNS=${RUNS:-1}
DURATION=${DURATION:-8}             # seconds measured per load point
WARMUP=${WARMUP:-2}                 # seconds of same-shape load before each measured gateway point
WARMUP_MODE=${WARMUP_MODE:-jit}     # jit: load until the JIT has settled (perf map), or fixed: WARMUP_FIXED_S of load
WARMUP_SLICE=${WARMUP_SLICE:-5}     # seconds per warm-up slice
WARMUP_MIN=${WARMUP_MIN:-10}
WARMUP_MAX=${WARMUP_MAX:-90}        # cap on the JIT warm-up
WARMUP_FIXED_S=${WARMUP_FIXED_S:-20} # warm-up of the peer (node) and of WARMUP_MODE=fixed
PEAK_CONNS=${PEAK_CONNS:-64}        # closed-loop connections for peak RPS / streams per second
PACED=${PACED:-50:10}               # CONNS:DELAY_MS per connection (50 x 10 ms ~ 5,000 req/s)
BODIES=${BODIES:-small 1k}          # JSON request bodies
TTFB=${TTFB:-1:100 16:480}          # streaming client runs, CONNS:REQUESTS
PACED_INTERVAL_MS=${PACED_INTERVAL_MS:-5}
PACED_FIXED=${PACED_FIXED:-0}       # 1 = fixed per-connection waits (lock-step bursts); 0 = random 0..2x mean
PACED_UPSTREAM=${PACED_UPSTREAM:-bench}  # bench (own paced-sse, precise) or simulator (tests/Switchyard.Simulators)
SETTLE_S=${SETTLE_S:-5}             # wait after load before the "after" memory sample
WRK_THREADS=${WRK_THREADS:-1}
GW_CPU=${GW_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
GW_PORT=${GW_PORT:-18787}
PEER_PORT=${PEER_PORT:-18788}
JSON_PORT=${JSON_PORT:-18180}
SSE_PORT=${SSE_PORT:-18181}
OTLP_PORT=${OTLP_PORT:-18184}  # nginx answers OTLP/HTTP exports here (the production variant's trace receiver)
PACED_PORT=${PACED_PORT:-18182}
SLOW_PORT=${SLOW_PORT:-18183}            # the slow-stream upstream (tests/node-clients/slow-sse.mjs)
SLOW_STREAMS=${SLOW_STREAMS:-5000}       # concurrent slow streams for the memory-per-stream step (0 skips it)
SLOW_ENV=${SLOW_ENV:-}                   # extra gateway env for that step (default: the embedded defaults, local request log on)
AUTH_BENCH=${AUTH_BENCH:-1}              # the key-check and rate-limit overhead step (0 skips it)
AUTH_STORES=${AUTH_STORES:-memory redis} # counter stores that step runs on (redis: a redis-server of its own on REDIS_PORT)
REDIS_PORT=${REDIS_PORT:-18185}
BASE_GW_ENV=${BASE_GW_ENV:-LOG_STORE=none}  # the bare gateway: request log off (the request-log variant turns it on)
GW_ENV=${GW_ENV:-}                  # extra gateway environment, "NAME=value NAME2=value2" (after BASE_GW_ENV, so it wins)
VARIANTS=${VARIANTS:-all}
PEER=${PEER:-}
PORTKEY_VERSION=${PORTKEY_VERSION:-1.15.2}
INSTALL=${INSTALL:-1}
OUT=${OUT:-}

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; echo "Knobs: see bench/README.md"; }

while (($#)); do
  case $1 in
    --quick) SLOW_STREAMS=${SLOW_STREAMS_QUICK:-1000}; DURATION=2; WARMUP=1; TTFB="1:30 16:96"; SETTLE_S=5; WARMUP_SLICE=2; WARMUP_MAX=20; WARMUP_FIXED_S=6; QUICK=1 ;;
    --runs) RUNS=$2; shift ;;
    --peer) PEER=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --gw-env) GW_ENV="${GW_ENV:+$GW_ENV }$2"; shift ;;
    --variants) VARIANTS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --no-install) INSTALL=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
QUICK=${QUICK:-0}
[[ -z $PEER || $PEER == portkey ]] || { echo "--peer: only 'portkey' is supported" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "--runs takes a positive integer" >&2; exit 2; }

OUT=${OUT:-$BENCH/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" "$WORK/logs" "$WORK/configs"
LOGS=$WORK/logs
FIX=$WORK/fixtures
TOOL="dotnet $WORK/tool/Switchyard.Bench.dll"
PIN_LOAD=(taskset -c "$LOAD_CPU")
CLK=$(getconf CLK_TCK)

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- process bookkeeping: everything we start is recorded and stopped by PID ---------------------
declare -A STARTED=()   # pid -> name
stop_pid() { # pid [grace seconds]
  local pid=$1 grace=${2:-10} i
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  unset "STARTED[$pid]"
}
cleanup() {
  local code=$? pid
  trap - EXIT INT TERM
  for pid in "${!STARTED[@]}"; do
    log "stopping ${STARTED[$pid]} (pid $pid)"
    stop_pid "$pid" 5
  done
  # Request logs of the request-log variant and JIT perf maps grow with every run: not kept.
  rm -rf "$WORK/request-logs" "$WORK/perfmap"
  exit "$code"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---- install -------------------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  ((INSTALL)) || die "missing packages: ${missing[*]} (run without --no-install)"
  local sudo=(); [[ $(id -u) == 0 ]] || sudo=(sudo)
  log "installing ${missing[*]} (apt)"
  if ((!APT_UPDATED)); then "${sudo[@]}" apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
install_tools() {
  command -v dotnet >/dev/null || die "the .NET 10 SDK is required (dotnet not found)"
  local want=()
  command -v wrk >/dev/null || want+=(wrk)
  command -v nginx >/dev/null || want+=(nginx-light)
  command -v taskset >/dev/null || want+=(util-linux)
  command -v curl >/dev/null || want+=(curl)
  command -v ss >/dev/null || want+=(iproute2)
  if [[ $PEER == portkey ]]; then
    command -v node >/dev/null || want+=(nodejs)
    command -v npm >/dev/null || want+=(npm)
  fi
  ((${#want[@]} == 0)) || apt_install "${want[@]}"
}

port_free() { [[ -z $(ss -ltnH "sport = :$1" 2>/dev/null) ]]; }
check_ports() {
  local p
  local redis_port=""; [[ $AUTH_BENCH == 1 && " $AUTH_STORES " == *" redis "* ]] && redis_port=$REDIS_PORT
  for p in "$GW_PORT" "$JSON_PORT" "$SSE_PORT" "$OTLP_PORT" "$PACED_PORT" ${PEER:+"$PEER_PORT"} $redis_port; do
    port_free "$p" || die "port $p on this machine is in use (by: $(ss -ltnpH "sport = :$p" | grep -o 'users:.*' | head -1)); pick others with GW_PORT/JSON_PORT/SSE_PORT/OTLP_PORT/PACED_PORT/PEER_PORT"
  done
}

# ---- build ---------------------------------------------------------------------------------------
build() {
  log "publishing the gateway (Release, linux-x64: self-contained, trimmed, ReadyToRun — the shipped build) -> $WORK/gateway"
  # --artifacts-path keeps our obj/bin out of src/, so builds of engineers working in the tree are not disturbed.
  dotnet publish "$REPO/src/Switchyard.Gateway" -c Release -r linux-x64 -o "$WORK/gateway" --artifacts-path "$WORK/artifacts" \
    -nologo -v quiet >"$LOGS/publish-gateway.log" 2>&1 || { tail -30 "$LOGS/publish-gateway.log" >&2; die "gateway publish failed"; }
  log "building the bench tool -> $WORK/tool"
  dotnet build "$BENCH/Switchyard.Bench" -c Release -o "$WORK/tool" --artifacts-path "$WORK/artifacts" \
    -nologo -v quiet >"$LOGS/build-tool.log" 2>&1 || { tail -30 "$LOGS/build-tool.log" >&2; die "bench tool build failed"; }
  if [[ $PACED_UPSTREAM == simulator ]]; then
    log "publishing the simulator (paced SSE upstream) -> $WORK/simulator"
    if ! dotnet publish "$REPO/tests/Switchyard.Simulators" -c Release -o "$WORK/simulator" --artifacts-path "$WORK/artifacts" \
        -nologo -v quiet >"$LOGS/publish-simulator.log" 2>&1; then
      log "simulator did not build (see $LOGS/publish-simulator.log); using the bench tool's paced-sse instead"
      PACED_UPSTREAM=bench
    fi
  fi
}

# ---- upstreams -----------------------------------------------------------------------------------
render_nginx() {
  local d=$WORK/nginx json
  mkdir -p "$d/tmp"
  json=$(<"$FIX/chat-completion.json")
  [[ $json != *"'"* && $json != *'$'* && $json != *'\'* ]] || die "chat-completion.json cannot be inlined in nginx.conf"
  cat >"$d/nginx.conf" <<EOF
# Rendered by bench/run.sh. Fixed upstream answers on 127.0.0.1 only.
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile 32768;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  tcp_nodelay on;
  sendfile on;
  client_max_body_size 16m;
  client_body_buffer_size 1m;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  open_file_cache max=16 inactive=600s;
  open_file_cache_valid 600s;

  # Non-streaming: a fixed ~1 KB chat.completion for any .../chat/completions.
  server {
    listen 127.0.0.1:$JSON_PORT backlog=4096;
    location = /health { return 200 'ok'; }
    location ~ /chat/completions\$ {
      default_type application/json;
      return 200 '$json';
    }
    location / { return 404; }
  }

  # Streaming: a fixed SSE body (24 chunk events + [DONE]). The body is longer than an nginx string may be,
  # so it is a static file; static files answer only GET, hence the POST -> 405 -> internal GET redirect.
  server {
    listen 127.0.0.1:$SSE_PORT backlog=4096;
    location = /health { return 200 'ok'; }
    location ~ /chat/completions\$ {
      error_page 405 =200 /sse-body;
      return 405;
    }
    location = /sse-body {
      internal;
      types { }
      default_type text/event-stream;
      add_header Cache-Control no-cache;
      alias $FIX/chat-stream.sse;
    }
    location / { return 404; }
  }

  # An OTLP/HTTP receiver for the production variant: every export is accepted (an empty body is an empty
  # Export*ServiceResponse) and discarded.
  server {
    listen 127.0.0.1:$OTLP_PORT backlog=4096;
    location = /health { return 200 'ok'; }
    location ~ ^/v1/(traces|metrics|logs)\$ {
      default_type application/x-protobuf;
      return 200 '';
    }
    location / { return 404; }
  }
}
EOF
}

wait_http() { # url seconds pid name
  local url=$1 secs=$2 pid=$3 name=$4 i
  for ((i = 0; i < secs * 10; i++)); do
    curl -fsS -m 1 -o /dev/null "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  log "$name did not answer $url within ${secs}s"
  return 1
}

start_upstreams() {
  $TOOL fixtures --out "$FIX" >"$LOGS/fixtures.txt"
  render_nginx
  "${PIN_LOAD[@]}" nginx -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" >"$LOGS/nginx.log" 2>&1 &
  NGINX_PID=$!; STARTED[$NGINX_PID]=nginx
  wait_http "http://127.0.0.1:$JSON_PORT/health" 10 "$NGINX_PID" nginx || { cat "$LOGS/nginx.log" "$WORK/nginx/error.log" >&2 || true; die "nginx did not start"; }
  wait_http "http://127.0.0.1:$SSE_PORT/health" 5 "$NGINX_PID" nginx || die "nginx SSE port did not start"

  if [[ $PACED_UPSTREAM == simulator ]]; then
    "${PIN_LOAD[@]}" dotnet "$WORK/simulator/Switchyard.Simulators.dll" --port "$PACED_PORT" \
      --stream-interval-ms "$PACED_INTERVAL_MS" --no-record >"$LOGS/paced-upstream.log" 2>&1 &
  else
    "${PIN_LOAD[@]}" $TOOL paced-sse --port "$PACED_PORT" --interval-ms "$PACED_INTERVAL_MS" --sse "$FIX/chat-stream.sse" \
      >"$LOGS/paced-upstream.log" 2>&1 &
  fi
  PACED_PID=$!; STARTED[$PACED_PID]="paced SSE upstream ($PACED_UPSTREAM)"
  local i
  for ((i = 0; i < 300; i++)); do
    [[ -z $(ss -ltnH "sport = :$PACED_PORT") ]] || break
    kill -0 "$PACED_PID" 2>/dev/null || { cat "$LOGS/paced-upstream.log" >&2; die "paced upstream exited"; }
    sleep 0.1
  done
  # One paced stream must come back complete before we measure anything.
  curl -fsS -m 10 -o "$LOGS/paced-probe.sse" -H 'content-type: application/json' -H 'authorization: Bearer sk-bench' \
    --data-binary "@$FIX/req-paced-stream.json" "http://127.0.0.1:$PACED_PORT/v1/chat/completions" \
    && grep -q '^data: \[DONE\]' "$LOGS/paced-probe.sse" || { cat "$LOGS/paced-upstream.log" >&2; die "paced upstream did not stream"; }
  log "upstreams up: nginx pid $NGINX_PID (json :$JSON_PORT, sse :$SSE_PORT), paced $PACED_UPSTREAM pid $PACED_PID (:$PACED_PORT, ${PACED_INTERVAL_MS} ms/event)"
}

# ---- variants ------------------------------------------------------------------------------------
VARIANT_NAMES=()
declare -A V_DESC=() V_AVAIL=() V_REASON=() V_ENV=() V_CONFIG=() V_SCRAPE=()
load_variants() {
  : >"$OUT/variants.jsonl"
  [[ $VARIANTS == none ]] && return 0
  local dir name
  for dir in "$BENCH"/variants/*/; do
    name=$(basename "$dir")
    [[ -f $dir/variant.conf ]] || continue
    [[ $VARIANTS == all || " $VARIANTS " == *" $name "* ]] || continue
    local DESCRIPTION="" AVAILABLE=no REASON="" GATEWAY_ENV="" SCRAPE_METRICS=no
    # shellcheck disable=SC1091
    source "$dir/variant.conf"
    VARIANT_NAMES+=("$name")
    GATEWAY_ENV=${GATEWAY_ENV//@WORK@/$WORK}
    GATEWAY_ENV=${GATEWAY_ENV//@OTLP_PORT@/$OTLP_PORT}
    V_SCRAPE[$name]=$SCRAPE_METRICS
    V_DESC[$name]=$DESCRIPTION; V_AVAIL[$name]=$AVAILABLE; V_REASON[$name]=$REASON; V_ENV[$name]=$GATEWAY_ENV; V_CONFIG[$name]=""
    if [[ -f $dir/config.json ]]; then
      V_CONFIG[$name]="bench-$name"
      sed -e "s/@JSON_PORT@/$JSON_PORT/g" -e "s/@SSE_PORT@/$SSE_PORT/g" "$dir/config.json" >"$WORK/configs/bench-$name.json"
    fi
    printf '{"name":"%s","description":"%s","available":%s,"reason":"%s","gateway_env":"%s","config":"%s"}\n' \
      "$name" "$(json_esc "$DESCRIPTION")" "$([[ $AVAILABLE == yes ]] && echo true || echo false)" "$(json_esc "$REASON")" \
      "$(json_esc "$GATEWAY_ENV")" "${V_CONFIG[$name]}" >>"$OUT/variants.jsonl"
  done
}
json_esc() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "$s"; }

# ---- gateways under test -------------------------------------------------------------------------
GW_PID=""
start_gateway() { # run label extra-env...
  local run=$1 label=$2; shift 2
  log "starting the gateway ($label) on CPU $GW_CPU${*:+ with $*}"
  local jit=()
  # The perf map (one line per JIT-compiled method, with its tier) tells the warm-up when the JIT has settled.
  [[ $WARMUP_MODE == jit ]] && jit=(DOTNET_PerfMapEnabled=3 DOTNET_PerfMapShowOptimizationTiers=1 DOTNET_PerfMapJitDumpPath="$WORK/perfmap")
  mkdir -p "$WORK/perfmap" "$WORK/request-logs"
  (cd "$WORK" && exec env PORT="$GW_PORT" BIND_ADDRESS=127.0.0.1 CONFIG_DIR="$WORK/configs" LOG_LEVEL=warn \
    LOG_STORE_LOCAL_PATH="$WORK/request-logs" "${jit[@]}" "$@" \
    taskset -c "$GW_CPU" "$WORK/gateway/Switchyard.Gateway") >"$LOGS/gateway-run$run-$label.log" 2>&1 &
  GW_PID=$!; STARTED[$GW_PID]="gateway ($label)"
  wait_http "http://127.0.0.1:$GW_PORT/v1/health" 60 "$GW_PID" gateway || { tail -20 "$LOGS/gateway-run$run-$label.log" >&2; die "gateway did not start"; }
}

PEER_PID=""
install_portkey() {
  local d=$WORK/portkey
  if [[ -f $d/node_modules/@portkey-ai/gateway/package.json ]] &&
     grep -q "\"version\": \"$PORTKEY_VERSION\"" "$d/node_modules/@portkey-ai/gateway/package.json"; then
    return 0
  fi
  log "installing @portkey-ai/gateway@$PORTKEY_VERSION from npm -> $d"
  mkdir -p "$d"
  # The hono versions are those of the gateway's own lockfile; a newer @hono/node-server breaks its streaming.
  cat >"$d/package.json" <<EOF
{
  "name": "switchyard-bench-portkey-peer",
  "private": true,
  "dependencies": { "@portkey-ai/gateway": "$PORTKEY_VERSION" },
  "overrides": { "@hono/node-server": "1.13.5", "@hono/node-ws": "1.2.0", "hono": "4.9.7" }
}
EOF
  (cd "$d" && npm install --no-audit --no-fund --loglevel=error) >"$LOGS/npm-portkey.log" 2>&1 ||
    { tail -20 "$LOGS/npm-portkey.log" >&2; die "npm install of the Portkey peer failed"; }
}
start_peer() { # run
  log "starting the Portkey peer $PORTKEY_VERSION on CPU $GW_CPU"
  (cd "$WORK/portkey" && exec taskset -c "$GW_CPU" node --import "file://$BENCH/lib/listen-loopback.mjs" \
    node_modules/@portkey-ai/gateway/build/start-server.js --port="$PEER_PORT") >"$LOGS/portkey-run$1.log" 2>&1 &
  PEER_PID=$!; STARTED[$PEER_PID]="portkey peer"
  wait_http "http://127.0.0.1:$PEER_PORT/" 60 "$PEER_PID" portkey || { tail -20 "$LOGS/portkey-run$1.log" >&2; die "portkey did not start"; }
  local bound; bound=$(ss -ltnH "sport = :$PEER_PORT" | awk '{print $4}' | sort -u | tr '\n' ' ')
  [[ $bound == "127.0.0.1:$PEER_PORT " ]] || die "portkey is not bound to loopback only: $bound"
}

# ---- measurement helpers -------------------------------------------------------------------------
core_busy() { awk -v c="cpu$GW_CPU" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

SAMPLER_PID=""; SAMPLES=""
start_sampler() { # pid file
  SAMPLES=$2; : >"$SAMPLES"
  ( while kill -0 "$1" 2>/dev/null; do rss_kib "$1"; sleep 0.5; done ) >>"$SAMPLES" 2>/dev/null &
  SAMPLER_PID=$!; STARTED[$SAMPLER_PID]="rss sampler"
}
stop_sampler() { [[ -z $SAMPLER_PID ]] || stop_pid "$SAMPLER_PID" 1; SAMPLER_PID=""; }
max_of() { sort -n | tail -1; }

headers_for() { # target mode
  local port=$JSON_PORT; [[ $2 == sse ]] && port=$SSE_PORT; [[ $2 == paced ]] && port=$PACED_PORT
  case $1 in
    direct) printf 'Authorization: Bearer sk-bench\n' ;;
    gateway|portkey) printf 'x-portkey-provider: openai\nAuthorization: Bearer sk-bench\nx-portkey-custom-host: http://127.0.0.1:%s/v1\n' "$port" ;;
    auth:*) headers_for gateway "$2"; printf 'x-portkey-api-key: %s\n' "$BENCH_API_KEY" ;;
    variant:*) local v=${1#variant:}
      if [[ -n ${V_CONFIG[$v]} ]]; then printf 'x-portkey-config: %s\n' "${V_CONFIG[$v]}"; else headers_for gateway "$2"; fi ;;
  esac
}
url_for() { # target mode
  case $1 in
    direct) local port=$JSON_PORT; [[ $2 == sse ]] && port=$SSE_PORT; [[ $2 == paced ]] && port=$PACED_PORT
      echo "http://127.0.0.1:$port/v1/chat/completions" ;;
    portkey) echo "http://127.0.0.1:$PEER_PORT/v1/chat/completions" ;;
    *) echo "http://127.0.0.1:$GW_PORT/v1/chat/completions" ;;
  esac
}
body_for() { [[ $1 == sse ]] && echo "$FIX/req-$2-stream.json" || echo "$FIX/req-$2.json"; }

wrk_run() { # target mode body conns delay seconds -> raw output file path on stdout
  local raw=$LOGS/wrk-last.txt threads=$WRK_THREADS
  ((threads > $4)) && threads=$4
  BENCH_BODY=$(body_for "$2" "$3") BENCH_HEADERS=$(headers_for "$1" "$2") BENCH_DELAY_MS=$5 BENCH_DELAY_FIXED=$PACED_FIXED \
    "${PIN_LOAD[@]}" wrk -t"$threads" -c"$4" -d"${6}s" --timeout 10s -s "$BENCH/lib/post.lua" "$(url_for "$1" "$2")" >"$raw" 2>&1 || true
  echo "$raw"
}

# point RUN TARGET MODE BODY KIND CONNS DELAY_MS [PID]: one wrk measurement, appended to points.jsonl
point() {
  local run=$1 target=$2 mode=$3 body=$4 kind=$5 conns=$6 delay=$7 pid=${8:-} raw line t0 t1 s0 s1 extra=""
  if [[ -n $pid ]] && ((WARMUP > 0)); then wrk_run "$target" "$mode" "$body" "$conns" "$delay" "$WARMUP" >/dev/null; fi
  [[ -n $pid ]] && { t0=$(cpu_ticks "$pid"); s0=$(wc -l <"$SAMPLES"); }
  local b0 b1; b0=$(core_busy)
  raw=$(wrk_run "$target" "$mode" "$body" "$conns" "$delay" "$DURATION")
  b1=$(core_busy)
  line=$(grep -m1 '^WRKJSON ' "$raw" | sed 's/^WRKJSON //') || true
  if [[ -z $line ]]; then cat "$raw" >&2; die "wrk produced no result for $target/$mode/$body/$kind"; fi
  if [[ -n $pid ]]; then
    t1=$(cpu_ticks "$pid"); s1=$(wc -l <"$SAMPLES")
    local req rss cpu_s
    req=$(grep -o '"requests":[0-9]*' <<<"$line" | cut -d: -f2)
    rss=$(sed -n "$((s0 + 1)),${s1}p" "$SAMPLES" | max_of); rss=${rss:-$(rss_kib "$pid")}
    cpu_s=$(awk -v a="$t0" -v b="$t1" -v k="$CLK" 'BEGIN {printf "%.2f", (b - a) / k}')
    extra=$(awk -v c="$cpu_s" -v r="$req" -v d="$DURATION" -v m="$rss" \
      'BEGIN {printf ",\"cpu_s\":%s,\"cpu_us_per_req\":%.2f,\"cpu_pct\":%.1f,\"rss_max_kib\":%d", c, (r > 0 ? c * 1e6 / r : 0), c * 100 / d, m}')
  fi
  # CPU time on the gateway's core that the measured process did not use: other programs disturbing the run.
  extra+=$(awk -v b="$((b1 - b0))" -v g="$(( ${t1:-0} - ${t0:-0} ))" -v k="$CLK" -v d="$DURATION" \
    'BEGIN {o = (b - g) * 100 / (k * d); printf ",\"gw_core_other_pct\":%.1f", (o < 0 ? 0 : o)}')
  local inner=${line#\{}; inner=${inner%\}}
  printf '{"run":%d,"target":"%s","mode":"%s","body":"%s","kind":"%s","conns":%d,"delay_ms":%d,%s%s}\n' \
    "$run" "$target" "$mode" "$body" "$kind" "$conns" "$delay" "$inner" "$extra" >>"$OUT/points.jsonl"
  local f; f=$(tail -1 "$OUT/points.jsonl")
  printf '  %-24s %-4s %-5s %-5s c=%-3s %9s req/s  p50 %6s us  p99 %7s us  err %s%s\n' "$target" "$mode" "$body" "$kind" "$conns" \
    "$(grep -o '"rps":[0-9.]*' <<<"$f" | cut -d: -f2)" "$(grep -o '"p50_us":[0-9]*' <<<"$f" | cut -d: -f2)" \
    "$(grep -o '"p99_us":[0-9]*' <<<"$f" | cut -d: -f2)" \
    "$(grep -o '"err_[a-z]*":[0-9]*' <<<"$f" | cut -d: -f2 | awk '{s += $1} END {print s + 0}')" \
    "$([[ -n $pid ]] && echo "  cpu $(grep -o '"cpu_us_per_req":[0-9.]*' <<<"$f" | cut -d: -f2) us/req")" >&2
}

ttfb() { # run target conns n
  local line h args=()
  while IFS= read -r h; do [[ -z $h ]] || args+=(--header "$h"); done < <(headers_for "$2" paced)
  line=$("${PIN_LOAD[@]}" $TOOL ttfb --url "$(url_for "$2" paced)" --body "$FIX/req-paced-stream.json" --n "$4" --c "$3" \
    --label "$2/paced/c$3" "${args[@]}" 2>>"$LOGS/ttfb.err" | grep '^TTFBJSON ' | sed 's/^TTFBJSON //') || true
  [[ -n $line ]] || die "ttfb client failed for $2 c=$3 (see $LOGS/ttfb.err)"
  printf '{"run":%d,"target":"%s",%s\n' "$1" "$2" "${line#\{}" >>"$OUT/ttfb.jsonl"
  log "  ttfb $2 c=$3: p50 $(grep -o '"ttfb_us":{[^}]*}' <<<"$line" | grep -o '"p50":[0-9]*' | cut -d: -f2) us, first event p50 $(grep -o '"first_event_us":{[^}]*}' <<<"$line" | grep -o '"p50":[0-9]*' | cut -d: -f2) us, gap p50 $(grep -o '"gap_us":{[^}]*}' <<<"$line" | grep -o '"p50":[0-9]*' | cut -d: -f2) us, failed $(grep -o '"failed":[0-9]*' <<<"$line" | cut -d: -f2)"
}

check() { # run target check ok detail
  printf '{"run":%d,"target":"%s","check":"%s","ok":%s,"detail":"%s"}\n' "$1" "$2" "$3" "$4" "$(json_esc "$5")" >>"$OUT/checks.jsonl"
  [[ $4 == true ]] || log "  check failed: $2: $3 ($5)"
}

fetch_once() { # target mode body outfile -> prints http code
  local -a h=()
  while IFS= read -r line; do [[ -z $line ]] || h+=(-H "$line"); done < <(headers_for "$1" "$2")
  curl -sS -m 20 -o "$4" -w '%{http_code}' -X POST -H 'content-type: application/json' "${h[@]}" \
    --data-binary "@$(body_for "$2" "$3")" "$(url_for "$1" "$2")" || echo 000
}

# Same request direct and through the target; with nothing configured to change them, the bytes must match.
compare_bytes() { # run target
  local run=$1 target=$2 mode code_d code_g d g
  for mode in json sse; do
    d=$LOGS/bytes-direct-$mode.out; g=$LOGS/bytes-$target-$mode.out
    code_d=$(fetch_once direct "$mode" small "$d"); code_g=$(fetch_once "$target" "$mode" small "$g")
    if [[ $code_g != 200 ]]; then
      log "$target answered $code_g for $mode: $(head -c 400 "$g")"
      [[ $target == gateway ]] && die "the gateway does not serve the benchmark request ($mode): HTTP $code_g"
    fi
    if [[ $code_d == 200 && $code_g == 200 ]] && cmp -s "$d" "$g"; then
      check "$run" "$target" "response bytes identical: $(tr a-z A-Z <<<"$mode")" true "$(wc -c <"$g") bytes, HTTP 200 both"
    else
      check "$run" "$target" "response bytes identical: $(tr a-z A-Z <<<"$mode")" false \
        "direct HTTP $code_d $(wc -c <"$d") bytes, $target HTTP $code_g $(wc -c <"$g") bytes$(cmp "$d" "$g" 2>/dev/null | sed 's/^.*differ: / first difference at /')"
    fi
  done
}

# ---- warm-up -------------------------------------------------------------------------------------
# Closed-loop load in slices (JSON small, JSON 1k, SSE in turn) until the process is warm. For the gateway
# (WARMUP_MODE=jit) "warm" means the tiered JIT has settled: at least half of the methods it instrumented
# have their optimized tier-1 code, and the last two slices compiled almost nothing new (< 1 % of all
# methods). Each slice is recorded in warmup.jsonl, so the summary can show how long warming up took.
warmup() { # run target pid
  local run=$1 target=$2 pid=$3 map="$WORK/perfmap/perf-$3.map" elapsed=0 i=0 quiet=0 prev=0 lines=0 t1=0 instr=0
  local shapes=("json small" "json small" "json 1k" "sse small") mode body t0 c1 raw line rps req cpu settled=false
  local limit=$WARMUP_MAX; [[ $WARMUP_MODE == jit && -f $map ]] || limit=$WARMUP_FIXED_S
  log "$target warm-up: up to ${limit}s of closed-loop load in ${WARMUP_SLICE}s slices"
  while ((elapsed < limit)); do
    read -r mode body <<<"${shapes[i % 4]}"; i=$((i + 1))
    t0=$(cpu_ticks "$pid")
    raw=$(wrk_run "$target" "$mode" "$body" "$PEAK_CONNS" 0 "$WARMUP_SLICE")
    c1=$(cpu_ticks "$pid")
    elapsed=$((elapsed + WARMUP_SLICE))
    line=$(grep -m1 '^WRKJSON ' "$raw") || { cat "$raw" >&2; die "wrk failed during warm-up"; }
    rps=$(grep -o '"rps":[0-9.]*' <<<"$line" | cut -d: -f2); req=$(grep -o '"requests":[0-9]*' <<<"$line" | cut -d: -f2)
    cpu=$(awk -v t="$((c1 - t0))" -v k="$CLK" -v r="$req" 'BEGIN {printf "%.1f", (r > 0 ? t * 1e6 / k / r : 0)}')
    if [[ -f $map ]]; then
      lines=$(wc -l <"$map"); t1=$(grep -c 'OptimizedTier1\]$' "$map" || true); instr=$(grep -c 'InstrumentedTier[A-Za-z]*\]$' "$map" || true)
      if ((lines - prev < lines / 100 + 1)); then quiet=$((quiet + 1)); else quiet=0; fi
      prev=$lines
    fi
    printf '{"run":%d,"target":"%s","t_s":%d,"mode":"%s","body":"%s","rps":%s,"cpu_us_per_req":%s,"jit_methods":%d,"tier1_methods":%d,"instrumented_methods":%d}\n' \
      "$run" "$target" "$elapsed" "$mode" "$body" "$rps" "$cpu" "$lines" "$t1" "$instr" >>"$OUT/warmup.jsonl"
    printf '  warm-up %3ss %-4s %-5s %9s req/s  cpu %7s us/req  jit methods %5d (tier1 %d, instrumented %d)\n' \
      "$elapsed" "$mode" "$body" "$rps" "$cpu" "$lines" "$t1" "$instr" >&2
    if [[ -f $map && $WARMUP_MODE == jit ]] && ((elapsed >= WARMUP_MIN && quiet >= 2 && 2 * t1 >= instr)); then settled=true; break; fi
  done
  [[ -f $map && $WARMUP_MODE == jit ]] || settled=fixed
  printf '{"run":%d,"target":"%s","phase":"warmup_done","t_s":%d,"settled":"%s"}\n' "$run" "$target" "$elapsed" "$settled" >>"$OUT/warmup.jsonl"
  [[ $settled == false ]] && log "$target: the JIT had not settled after ${elapsed}s (WARMUP_MAX); measuring anyway"
  return 0
}

# ---- one measurement of one gateway (the gateway under test or the peer) --------------------------
measure() { # run target pid
  local run=$1 target=$2 pid=$3 body idle max after c n spec
  local paced_c=${PACED%%:*} paced_d=${PACED##*:}
  fetch_once "$target" json small "$LOGS/warmup.out" >/dev/null   # one warm-up request
  sleep 1
  idle=$(rss_kib "$pid")
  log "$target idle RSS $((idle / 1024)) MiB (pid $pid)"
  compare_bytes "$run" "$target"

  start_sampler "$pid" "$LOGS/rss-run$run-$target.txt"
  warmup "$run" "$target" "$pid"
  for body in $BODIES; do
    [[ $target == gateway ]] && point "$run" direct json "$body" c1 1 0
    point "$run" "$target" json "$body" c1 1 0 "$pid"
    [[ $target == gateway ]] && point "$run" direct json "$body" paced "$paced_c" "$paced_d"
    point "$run" "$target" json "$body" paced "$paced_c" "$paced_d" "$pid"
    [[ $target == gateway ]] && point "$run" direct json "$body" peak "$PEAK_CONNS" 0
    point "$run" "$target" json "$body" peak "$PEAK_CONNS" 0 "$pid"
  done
  [[ $target == gateway ]] && point "$run" direct sse small c1 1 0
  point "$run" "$target" sse small c1 1 0 "$pid"
  [[ $target == gateway ]] && point "$run" direct sse small peak "$PEAK_CONNS" 0
  point "$run" "$target" sse small peak "$PEAK_CONNS" 0 "$pid"
  max=$(max_of <"$SAMPLES"); stop_sampler
  log "load done; waiting ${SETTLE_S}s for the after-load memory sample"
  sleep "$SETTLE_S"
  after=$(rss_kib "$pid")
  printf '{"run":%d,"target":"%s","idle_kib":%d,"max_kib":%d,"after_kib":%d}\n' "$run" "$target" "$idle" "${max:-0}" "$after" >>"$OUT/memory.jsonl"
  log "$target RSS idle $((idle / 1024)) MiB, max $((${max:-0} / 1024)) MiB, after $((after / 1024)) MiB"

  for spec in $TTFB; do
    c=${spec%%:*}; n=${spec##*:}
    [[ $target == gateway ]] && ttfb "$run" direct "$c" "$n"
    ttfb "$run" "$target" "$c" "$n"
  done
}

measure_variants() { # run
  local run=$1 name pid
  for name in "${VARIANT_NAMES[@]}"; do
    [[ ${V_AVAIL[$name]} == yes ]] || { log "variant $name: not available in this build"; continue; }
    pid=$GW_PID
    if [[ -n ${V_ENV[$name]} ]]; then
      stop_pid "$GW_PID"
      # shellcheck disable=SC2086
      start_gateway "$run" "variant-$name" $BASE_GW_ENV $GW_ENV ${V_ENV[$name]}
      pid=$GW_PID
      fetch_once "variant:$name" json small "$LOGS/warmup.out" >/dev/null
      start_sampler "$pid" "$LOGS/rss-run$run-variant-$name.txt"
      warmup "$run" "variant:$name" "$pid"
      stop_sampler
    fi
    log "variant $name: ${V_DESC[$name]}"
    local code; code=$(fetch_once "variant:$name" json small "$LOGS/variant-$name.out")
    [[ $code == 200 ]] || die "variant $name: HTTP $code: $(head -c 400 "$LOGS/variant-$name.out")"
    start_sampler "$pid" "$LOGS/rss-run$run-variant-$name.txt"
    local scraper=""
    if [[ ${V_SCRAPE[$name]} == yes ]]; then
      # Prometheus' side of production: one scrape a second, from the load CPU, for the whole measurement.
      ( while :; do curl -fsS -m 5 -o /dev/null "http://127.0.0.1:$GW_PORT/metrics" || echo "scrape failed" >>"$LOGS/scrape-$name.log"; sleep 1; done ) &
      scraper=$!; STARTED[$scraper]=metrics-scraper
      taskset -pc "$LOAD_CPU" "$scraper" >/dev/null 2>&1 || true
    fi
    point "$run" "variant:$name" json small c1 1 0 "$pid"
    point "$run" "variant:$name" json small peak "$PEAK_CONNS" 0 "$pid"
    if [[ -n $scraper ]]; then stop_pid "$scraper"; fi
    stop_sampler
  done
}

# ---- many slow streams: what one open stream costs in memory ---------------------------------------
# SLOW_STREAMS clients each open a stream that sends 20 events one second apart, arriving over 5 s; the gateway runs
# with its embedded defaults (local request log on). Memory per open stream = (RSS while the most streams are open - idle
# RSS) / streams open at that sample.
measure_slow_streams() { # run
  local run=$1 sim pid swarm idle max=0 r after
  ((SLOW_STREAMS > 0)) || return 0
  command -v node >/dev/null || apt_install nodejs
  stop_pid "$GW_PID"; GW_PID=""
  (exec taskset -c "$LOAD_CPU" node "$REPO/tests/node-clients/slow-sse.mjs" "$SLOW_PORT" 20 1000) >"$LOGS/slow-sse.log" 2>&1 &
  sim=$!; STARTED[$sim]="slow-stream upstream"
  # shellcheck disable=SC2086
  start_gateway "$run" slow-streams $SLOW_ENV
  pid=$GW_PID
  local headers="{\"x-portkey-provider\":\"openai\",\"authorization\":\"Bearer sk-bench\",\"x-portkey-custom-host\":\"http://127.0.0.1:$SLOW_PORT/v1\"}"
  curl -fsS -o /dev/null -H 'content-type: application/json' -H 'x-portkey-provider: openai' -H 'authorization: Bearer sk-bench' \
    -H "x-portkey-custom-host: http://127.0.0.1:$SLOW_PORT/v1" -d '{"model":"m","messages":[{"role":"user","content":"x"}]}' \
    "http://127.0.0.1:$GW_PORT/v1/chat/completions" || die "slow-stream upstream did not answer through the gateway"
  sleep 1; idle=$(rss_kib "$pid")
  log "slow streams: $SLOW_STREAMS concurrent streams of 20 s each (idle RSS $((idle / 1024)) MiB)"
  (exec taskset -c "$LOAD_CPU" node "$REPO/tests/node-clients/stream-swarm.mjs" "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
    "$SLOW_STREAMS" 5000 20 "$headers") >"$LOGS/swarm-run$run.json" 2>"$LOGS/swarm-run$run.log" &
  swarm=$!; STARTED[$swarm]="stream swarm"
  # The RSS while the most streams were open (before they start ending and their records are logged) gives the cost of
  # an open stream; the max over the whole step also includes the burst of records written as thousands end at once.
  local open_now at_open=0 rss_at_open=0
  while kill -0 "$swarm" 2>/dev/null; do
    r=$(rss_kib "$pid"); ((r > max)) && max=$r
    open_now=$(tail -1 "$LOGS/swarm-run$run.log" 2>/dev/null | awk '$1 == "open" {print $2}')
    if [[ -n $open_now ]] && ((open_now > at_open || (open_now == at_open && r > rss_at_open))); then at_open=$open_now; rss_at_open=$r; fi
    sleep 0.5
  done
  wait "$swarm" 2>/dev/null
  sleep 10; after=$(rss_kib "$pid")
  local result; result=$(tail -1 "$LOGS/swarm-run$run.json")
  [[ $result == \{* ]] || die "stream swarm gave no result: $(tail -3 "$LOGS/swarm-run$run.log")"
  printf '{"run":%s,"streams":%s,"swarm":%s,"rss_idle_kib":%s,"open_at_sample":%s,"rss_at_most_open_kib":%s,"rss_max_kib":%s,"rss_after_10s_kib":%s,"kib_per_stream":%s}\n' \
    "$run" "$SLOW_STREAMS" "$result" "$idle" "$at_open" "$rss_at_open" "$max" "$after" \
    "$(awk -v a="$rss_at_open" -v b="$idle" -v n="$at_open" 'BEGIN {printf "%.1f", (n > 0) ? (a - b) / n : 0}')" >>"$OUT/streams.jsonl"
  log "slow streams: $result; RSS idle $((idle / 1024)) MiB, max $((max / 1024)) MiB, 10 s after $((after / 1024)) MiB"
  stop_pid "$pid"; GW_PID=""
  stop_pid "$sim"
}

# ---- key checks and a rate limit on every request: what they cost -------------------------------
# The JSON small body at c=1 and at peak, through a gateway with AUTH_MODE=none, with AUTH_MODE=keys (one key, no
# limits), and with AUTH_MODE=keys and a rate limit on that key high enough never to refuse; on the in-memory store and on
# a redis-server of the bench's own (CACHE_STORE=redis, where the limit's counters live). Each configuration is its own
# gateway process, warmed up like the main one. Every request carries the key, so the three differ only in what the
# gateway does with it.
BENCH_API_KEY=sk-bench-gateway-key
BENCH_PROBE_KEY=sk-bench-probe-key
REDIS_PID=""
start_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  (exec taskset -c "$LOAD_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK") >"$LOGS/redis.log" 2>&1 &
  REDIS_PID=$!; STARTED[$REDIS_PID]=redis-server
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -z $(ss -ltnH "sport = :$REDIS_PORT") ]] || return 0
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$LOGS/redis.log" >&2; die "redis-server did not start on :$REDIS_PORT"
}
write_bench_keys() { # dir [limit-yaml]
  local hash probe; hash=$(printf '%s' "$BENCH_API_KEY" | sha256sum | cut -d' ' -f1)
  mkdir -p "$1"
  printf 'keys:\n  - name: bench\n    hash: sha256:%s\n    scopes: [completions.write]\n%s' "$hash" "${2:-}" >"$1/keys.yaml"
  if [[ -n ${2:-} ]]; then
    probe=$(printf '%s' "$BENCH_PROBE_KEY" | sha256sum | cut -d' ' -f1)
    printf '  - name: bench-probe\n    hash: sha256:%s\n    scopes: [completions.write]\n    rate_limits:\n      - requests: 1\n        per: minute\n' "$probe" >>"$1/keys.yaml"
  fi
}
measure_auth() { # run
  local run=$1 store auth label pid code limited state store_env=()
  [[ $AUTH_BENCH == 1 ]] || return 0
  write_bench_keys "$WORK/keys"
  write_bench_keys "$WORK/keys-limited" $'    rate_limits:\n      - requests: 1000000000\n        per: minute\n'
  stop_pid "$GW_PID"; GW_PID=""
  for store in $AUTH_STORES; do
    case $store in
      memory) store_env=(CACHE_STORE=memory) ;;
      redis) [[ -n $REDIS_PID ]] || start_redis; store_env=(CACHE_STORE=redis "REDIS_URL=redis://127.0.0.1:$REDIS_PORT") ;;
      *) die "AUTH_STORES: unknown store $store (memory or redis)" ;;
    esac
    for auth in none keys keys+limit; do
      label="$auth/$store"
      local auth_env=(AUTH_MODE=none)
      [[ $auth == keys ]] && auth_env=(AUTH_MODE=keys "API_KEYS_PATH=$WORK/keys")
      [[ $auth == keys+limit ]] && auth_env=(AUTH_MODE=keys "API_KEYS_PATH=$WORK/keys-limited")
      # shellcheck disable=SC2086
      start_gateway "$run" "auth-${auth/+/-}-$store" $BASE_GW_ENV $GW_ENV "${store_env[@]}" "${auth_env[@]}"
      pid=$GW_PID
      code=$(fetch_once "auth:$label" json small "$LOGS/auth.out")
      [[ $code == 200 ]] || die "auth step $label: HTTP $code: $(head -c 400 "$LOGS/auth.out")"
      if [[ $auth != none ]]; then
        # The key check is really on: the same request without the key is refused.
        code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -H 'x-portkey-provider: openai' \
          -H 'authorization: Bearer sk-bench' -H "x-portkey-custom-host: http://127.0.0.1:$JSON_PORT/v1" \
          --data-binary "@$FIX/req-small.json" "http://127.0.0.1:$GW_PORT/v1/chat/completions" || echo 000)
        [[ $code == 401 ]] || die "auth step $label: a request without the key got HTTP $code, not 401"
      fi
      # Whether this build enforces limits here: the limited file also holds a probe key allowed one request a minute, whose
      # second request must be refused (429). The measured key's limit is never reached.
      limited=-
      if [[ $auth == keys+limit ]]; then
        local probe=()
        probe_code() {
          curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -H 'x-portkey-provider: openai' \
            -H 'authorization: Bearer sk-bench' -H "x-portkey-custom-host: http://127.0.0.1:$JSON_PORT/v1" -H "x-portkey-api-key: $BENCH_PROBE_KEY" \
            --data-binary "@$FIX/req-small.json" "http://127.0.0.1:$GW_PORT/v1/chat/completions" || echo 000
        }
        probe=("$(probe_code)" "$(probe_code)")
        limited=false; [[ ${probe[0]} == 200 && ${probe[1]} == 429 ]] && limited=true
        [[ $limited == true ]] || log "auth step $label: the probe key's second request got HTTP ${probe[1]} (first ${probe[0]}), not 429: this build does not enforce the limit"
      fi
      state=$(curl -fsS -m 5 "http://127.0.0.1:$GW_PORT/v1/health" | grep -o '"usage_limits":{"state":"[a-z]*"' | cut -d'"' -f6 || true)
      log "auth step: $label (gateway pid $pid)"
      start_sampler "$pid" "$LOGS/rss-run$run-auth.txt"
      warmup "$run" "auth:$label" "$pid"
      point "$run" "auth:$label" json small c1 1 0 "$pid"
      point "$run" "auth:$label" json small peak "$PEAK_CONNS" 0 "$pid"
      stop_sampler
      printf '{"run":%d,"label":"%s","store":"%s","auth":"%s","limit_enforced":"%s","limits_state":"%s"}\n' "$run" "$label" "$store" "$auth" "$limited" "${state:-?}" >>"$OUT/auth.jsonl"
      stop_pid "$pid"; GW_PID=""
    done
  done
  if [[ -n $REDIS_PID ]]; then stop_pid "$REDIS_PID"; REDIS_PID=""; fi
}

# The auth step's figures, appended to summary.md: one row per configuration and run, from points.jsonl.
summarize_auth() {
  [[ -s $OUT/auth.jsonl ]] || return 0
  {
    printf '\n## Key checks and a rate limit on every request\n\n'
    printf 'JSON small body through a gateway with no key check, with a key check, and with a key check plus a rate limit that never refuses; '
    printf 'the counters on the in-memory store or on Redis. Every request carries the key. Δ CPU = CPU per request minus the same store'"'"'s AUTH_MODE=none figure in the same run.\n\n'
    printf '| run | store | auth | peak req/s | CPU µs/req (peak) | Δ CPU vs none | c=1 p50 | c=1 CPU µs/req | errors | limit enforced | usage_limits.state |\n'
    printf '|--:|---|---|--:|--:|--:|--:|--:|--:|---|---|\n'
    local line run label store auth limited state peak c1 base
    while IFS= read -r line; do
      run=$(grep -o '"run":[0-9]*' <<<"$line" | cut -d: -f2)
      label=$(grep -o '"label":"[^"]*"' <<<"$line" | cut -d'"' -f4)
      store=${label#*/}; auth=${label%/*}
      limited=$(grep -o '"limit_enforced":"[^"]*"' <<<"$line" | cut -d'"' -f4)
      state=$(grep -o '"limits_state":"[^"]*"' <<<"$line" | cut -d'"' -f4)
      peak=$(grep "\"run\":$run,\"target\":\"auth:$label\",\"mode\":\"json\",\"body\":\"small\",\"kind\":\"peak\"" "$OUT/points.jsonl" | tail -1)
      c1=$(grep "\"run\":$run,\"target\":\"auth:$label\",\"mode\":\"json\",\"body\":\"small\",\"kind\":\"c1\"" "$OUT/points.jsonl" | tail -1)
      base=$(grep "\"run\":$run,\"target\":\"auth:none/$store\",\"mode\":\"json\",\"body\":\"small\",\"kind\":\"peak\"" "$OUT/points.jsonl" | tail -1)
      awk -v run="$run" -v store="$store" -v auth="$auth" -v limited="$limited" -v state="$state" -v p="$peak" -v c="$c1" -v b="$base" '
        function num(l, k,  m) { if (match(l, "\"" k "\":[0-9.]+")) { m = substr(l, RSTART, RLENGTH); sub(/.*:/, "", m); return m + 0 } return -1 }
        function errs(l) { return num(l, "err_connect") + num(l, "err_read") + num(l, "err_write") + num(l, "err_status") + num(l, "err_timeout") }
        BEGIN {
          d = (b != "" && auth != "none") ? sprintf("%+.1f", num(p, "cpu_us_per_req") - num(b, "cpu_us_per_req")) : "—"
          printf "| %s | %s | %s | %.0f | %.1f | %s | %d µs | %.1f | %d | %s | %s |\n", run, store, auth, num(p, "rps"), num(p, "cpu_us_per_req"), d,
            num(c, "p50_us"), num(c, "cpu_us_per_req"), errs(p) + errs(c), limited, state
        }'
    done <"$OUT/auth.jsonl"
  } >>"$OUT/summary.md"
}

# The slow-stream step's figures, appended to summary.md (one row per run).
summarize_slow_streams() {
  [[ -s $OUT/streams.jsonl ]] || return 0
  {
    printf '\n## Many slow streams (memory per open stream)\n\n'
    printf 'Each of the streams sends 20 events one second apart; they arrive over 5 s. Target: at most 30 KiB per open stream.\n\n'
    printf '| run | streams | completed | refused (503) | cut | failed | open at the sample | idle RSS | RSS, most streams open | max RSS (incl. the end burst) | RSS 10 s after | KiB per open stream |\n'
    printf '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n'
    while IFS= read -r line; do
      awk -v l="$line" 'function num(k,  m) { if (match(l, "\"" k "\":[0-9.]+")) { m = substr(l, RSTART, RLENGTH); sub(/.*:/, "", m); return m } return "?" }
        BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %.0f MiB | %.0f MiB | %.0f MiB | %.0f MiB | %s |\n", num("run"), num("streams"), num("completed"),
          num("refused"), num("cut"), num("failed"), num("open_at_sample"), num("rss_idle_kib") / 1024, num("rss_at_most_open_kib") / 1024,
          num("rss_max_kib") / 1024, num("rss_after_10s_kib") / 1024, num("kib_per_stream") }'
    done <"$OUT/streams.jsonl"
  } >>"$OUT/summary.md"
}

background_load() { # % of all CPUs busy over one second, before we start anything
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  awk -v u1="$((a[1] + a[2] + a[3] + a[6] + a[7] + a[8]))" -v t1="$((a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7] + a[8]))" \
      -v u2="$((b[1] + b[2] + b[3] + b[6] + b[7] + b[8]))" -v t2="$((b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + b[7] + b[8]))" \
      'BEGIN {printf "%.0f", ((t2 > t1) ? 100 * (u2 - u1) / (t2 - t1) : 0)}'
}

write_env() {
  local busy=$1 commit dirty="" runtime
  commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || dirty=" (+ uncommitted changes in src/)"
  runtime=$(dotnet --list-runtimes | awk '/Microsoft.AspNetCore.App/ {v=$2} END {print v}')
  local bg="none (${busy}% of all CPUs busy before start)"
  ((busy > 10)) && bg="WARNING: ${busy}% of all CPUs were busy before the bench started; figures are disturbed"
  {
    printf '{'
    printf '"date":"%s",' "$(date -Is)"
    printf '"host":"%s",' "$(json_esc "$(uname -srm), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)")"
    printf '"cpu":"%s",' "$(json_esc "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)")"
    printf '"kernel":"%s",' "$(uname -r)"
    printf '"dotnet":"%s",' "SDK $(dotnet --version), ASP.NET Core runtime $runtime"
    printf '"gateway":"%s",' "$(json_esc "commit $commit$dirty; Release publish (linux-x64, self-contained, trimmed, R2R); env: LOG_LEVEL=warn $BASE_GW_ENV${GW_ENV:+ $GW_ENV}$([[ $WARMUP_MODE == jit ]] && echo ' DOTNET_PerfMapEnabled=3 (JIT warm-up detection)')")"
    printf '"pinning":"%s",' "gateway (and peer) on CPU $GW_CPU; wrk, nginx, paced upstream and TTFB client on CPU $LOAD_CPU"
    printf '"upstreams":"%s",' "nginx $(nginx -v 2>&1 | sed 's/^.*nginx\///') (json :$JSON_PORT, sse :$SSE_PORT); paced SSE: $PACED_UPSTREAM :$PACED_PORT, ${PACED_INTERVAL_MS} ms/event"
    printf '"load":"%s",' "$(json_esc "$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'), $WRK_THREADS thread; warm-up $WARMUP_MODE (max ${WARMUP_MAX}s), then ${DURATION}s per point after ${WARMUP}s same-shape warm-up; peak c=$PEAK_CONNS; paced $PACED (conns:mean ms$([[ $PACED_FIXED == 1 ]] && echo ', fixed waits' || echo ', random 0-2x waits')); TTFB $TTFB (conns:streams)")"
    printf '"runs":"%s",' "$RUNS$([[ $QUICK == 1 ]] && echo ' (--quick: short durations, smoke check only)')"
    printf '"peer":"%s",' "${PEER:+portkey $PORTKEY_VERSION (hono pins 1.13.5/1.2.0/4.9.7)}${PEER:-none}"
    printf '"background":"%s"' "$bg"
    printf '}\n'
  } >"$OUT/env.json"
}

# ---- main ----------------------------------------------------------------------------------------
main() {
  local t_start=$SECONDS busy run
  busy=$(background_load)
  ((busy > 10)) && log "WARNING: ${busy}% of all CPUs are busy before the bench starts; results will be noisy"
  install_tools
  check_ports
  build
  start_upstreams
  load_variants
  write_env "$busy"
  [[ $PEER == portkey ]] && install_portkey
  : >"$OUT/points.jsonl"; : >"$OUT/ttfb.jsonl"; : >"$OUT/memory.jsonl"; : >"$OUT/checks.jsonl"; : >"$OUT/warmup.jsonl"; : >"$OUT/streams.jsonl"; : >"$OUT/auth.jsonl"

  for ((run = 1; run <= RUNS; run++)); do
    log "==== run $run of $RUNS ===="
    # shellcheck disable=SC2086
    start_gateway "$run" main $BASE_GW_ENV $GW_ENV
    measure "$run" gateway "$GW_PID"
    measure_variants "$run"
    measure_auth "$run"
    measure_slow_streams "$run"
    stop_pid "$GW_PID"; GW_PID=""
    if [[ $PEER == portkey ]]; then
      start_peer "$run"
      measure "$run" portkey "$PEER_PID"
      stop_pid "$PEER_PID"; PEER_PID=""
    fi
  done

  log "summarizing -> $OUT"
  $TOOL summarize --dir "$OUT" >/dev/null
  summarize_slow_streams
  summarize_auth
  cat "$OUT/summary.md"
  log "done in $((SECONDS - t_start)) s; results: $OUT/summary.md and $OUT/results.json; logs: $LOGS"
}

main
