#!/usr/bin/env bash
# MCP tool-call load figure: loopback only, bounded. See the "MCP gateway" section of bench/README.md.
#
#   bench/mcp-load.sh [--direct-only] [--no-publish] [--duration S] [--conns "4 16"] [--gw-env NAME=value]...
#
# Starts our modern-era fixture (tests/mcp-fixtures/modern-server.mjs) on 127.0.0.1, then drives autocannon with a
# 2026-07-28 tools/call `add` request, -d S seconds at each connection count: first directly against the fixture, then
# through the gateway (the Release publish bench/run.sh also uses, SERVER_MODE=mcp, a servers file naming the fixture
# "modern"; single-server route /modern/mcp, tool names unprefixed). Prints req/s, p50 and p99 for both and the
# gateway/direct ratio, and writes them to $OUT/mcp-load.json. Stops everything it started, by PID, on exit and on Ctrl-C.
# Needs tests/mcp-fixtures installed (npm ci there; ./test.sh does it).
set -Eeuo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
FIXTURES=$REPO/tests/mcp-fixtures

# ---- knobs (environment; flags below override) ---------------------------------------------------
WORK=${WORK:-/tmp/switchyard-bench}      # the publish goes to $WORK/gateway, as bench/run.sh puts it
DURATION=${DURATION:-5}                  # seconds measured per point (autocannon -d)
WARMUP=${WARMUP:-3}                      # seconds of the same load before each measured point (not reported)
CONNS=${CONNS:-4 16}                     # autocannon -c values
GW_PORT=${GW_PORT:-18787}                # the gateway's main port (health)
MCP_PORT=${MCP_PORT:-18788}              # the gateway's MCP port
GW_ENV=${GW_ENV:-}                       # extra gateway environment, "NAME=value NAME2=value2"
DIRECT_ONLY=${DIRECT_ONLY:-0}
PUBLISH=${PUBLISH:-1}                    # 0 reuses $WORK/gateway
OUT=${OUT:-$BENCH/results/mcp-$(date +%Y%m%d-%H%M%S)}

while (($#)); do
  case $1 in
    --direct-only) DIRECT_ONLY=1 ;;
    --no-publish) PUBLISH=0 ;;
    --duration) DURATION=$2; shift ;;
    --conns) CONNS=$2; shift ;;
    --gw-env) GW_ENV="${GW_ENV:+$GW_ENV }$2"; shift ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $DURATION =~ ^[1-9][0-9]*$ && $DURATION -le 60 ]] || { echo "--duration takes 1..60 seconds" >&2; exit 2; }
[[ $WARMUP =~ ^[0-9]+$ && $WARMUP -le 60 ]] || { echo "WARMUP takes 0..60 seconds" >&2; exit 2; }
for c in $CONNS; do [[ $c =~ ^[1-9][0-9]*$ && $c -le 256 ]] || { echo "--conns takes connection counts 1..256" >&2; exit 2; }; done

log() { printf '[mcp-load %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -f $FIXTURES/node_modules/autocannon/package.json ]] || die "tests/mcp-fixtures is not installed: run (cd tests/mcp-fixtures && npm ci)"
command -v node >/dev/null || die "node is required"
command -v python3 >/dev/null || die "python3 is required (parses autocannon's JSON)"
mkdir -p "$OUT" "$WORK"
LOGS=$(mktemp -d "$WORK/mcp-load-XXXXXX")

# ---- processes: everything started here is recorded and stopped by PID ---------------------------
declare -A STARTED=()
GWDIR=""
stop_pid() {
  local pid=$1 i
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  unset "STARTED[$pid]"
}
cleanup() {
  local code=$? pid
  trap - EXIT INT TERM
  for pid in "${!STARTED[@]}"; do log "stopping ${STARTED[$pid]} (pid $pid)"; stop_pid "$pid"; done
  [[ -n ${GWDIR:-} ]] && rm -rf "$GWDIR"
  exit "$code"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---- the fixture ----------------------------------------------------------------------------------
log "starting modern-server.mjs on 127.0.0.1 (port 0)"
(cd "$FIXTURES" && exec env PORT=0 node modern-server.mjs) >"$LOGS/fixture.log" 2>&1 &
FIX_PID=$!; STARTED[$FIX_PID]="modern-server.mjs"
FIX_PORT=""
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
  FIX_PORT=$(sed -n 's/^FIXTURE_PORT=//p' "$LOGS/fixture.log" | head -1)
  [[ -n $FIX_PORT ]] && break
  kill -0 "$FIX_PID" 2>/dev/null || { cat "$LOGS/fixture.log" >&2; die "the fixture exited"; }
  sleep 0.1
done
[[ -n $FIX_PORT ]] || die "the fixture did not report its port within 30 s"
log "fixture on 127.0.0.1:$FIX_PORT (pid $FIX_PID)"

BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
HDRS=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: add')

check_call() { # url [extra curl args]: one call must answer "3"
  local url=$1; shift
  local answer
  answer=$(curl -sS --max-time 10 -X POST "$url" "${HDRS[@]}" "$@" -d "$BODY" || true)
  grep -q '"text":"3"' <<<"$answer" || die "tools/call add at $url did not answer 3: $answer"
}

declare -A RPS=() P50=() P99=()
load() { # label url [extra header args for autocannon]
  local label=$1 url=$2; shift 2
  local c json
  for c in $CONNS; do
    if ((WARMUP > 0)); then
      (cd "$FIXTURES" && timeout $((WARMUP + 30)) node node_modules/.bin/autocannon -d "$WARMUP" -c "$c" -m POST \
        -H 'Content-Type=application/json' -H 'Accept=application/json, text/event-stream' -H 'MCP-Protocol-Version=2026-07-28' \
        -H 'Mcp-Method=tools/call' -H 'Mcp-Name=add' "$@" -b "$BODY" "$url" >/dev/null 2>&1) || true
    fi
    json=$OUT/autocannon-$label-c$c.json
    (cd "$FIXTURES" && timeout $((DURATION + 30)) node node_modules/.bin/autocannon -j -d "$DURATION" -c "$c" -m POST \
      -H 'Content-Type=application/json' -H 'Accept=application/json, text/event-stream' -H 'MCP-Protocol-Version=2026-07-28' \
      -H 'Mcp-Method=tools/call' -H 'Mcp-Name=add' "$@" -b "$BODY" "$url" >"$json" 2>"$LOGS/autocannon-$label-c$c.err") ||
      die "autocannon ($label, -c $c) failed: $(tail -3 "$LOGS/autocannon-$label-c$c.err")"
    read -r rps p50 p99 bad < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(round(d["requests"]["average"]), d["latency"]["p50"], d["latency"]["p99"], d["errors"] + d["timeouts"] + d["non2xx"])' "$json")
    ((bad == 0)) || die "$label -c $c: $bad requests failed (errors, timeouts or non-2xx); see $json"
    RPS[$label,$c]=$rps; P50[$label,$c]=$p50; P99[$label,$c]=$p99
    log "$label -c $c: $rps req/s, p50 ${p50} ms, p99 ${p99} ms"
  done
}

check_call "http://127.0.0.1:$FIX_PORT/mcp"
load direct "http://127.0.0.1:$FIX_PORT/mcp"

# ---- through the gateway --------------------------------------------------------------------------
if ((DIRECT_ONLY == 0)); then
  if ((PUBLISH == 1)) || [[ ! -x $WORK/gateway/Switchyard.Gateway ]]; then
    log "publishing the gateway (Release, linux-x64, as bench/run.sh) -> $WORK/gateway"
    dotnet publish "$REPO/src/Switchyard.Gateway" -c Release -r linux-x64 -o "$WORK/gateway" --artifacts-path "$WORK/artifacts" \
      -nologo -v quiet >"$LOGS/publish-gateway.log" 2>&1 || { tail -30 "$LOGS/publish-gateway.log" >&2; die "gateway publish failed"; }
  fi
  GWDIR=$(mktemp -d "$WORK/mcp-gateway-XXXXXX")
  mkdir -p "$GWDIR/configs" "$GWDIR/data"
  printf '{"servers":{"modern":{"url":"http://127.0.0.1:%s/mcp","type":"http"}}}\n' "$FIX_PORT" >"$GWDIR/mcp-servers.json"
  log "starting the gateway (SERVER_MODE=mcp, MCP_PORT=$MCP_PORT)${GW_ENV:+ with $GW_ENV}"
  # shellcheck disable=SC2086 # GW_ENV is a list of NAME=value words
  (cd "$GWDIR" && exec env SERVER_MODE=mcp PORT="$GW_PORT" MCP_PORT="$MCP_PORT" BIND_ADDRESS=127.0.0.1 \
    MCP_SERVERS_PATH="$GWDIR/mcp-servers.json" CONFIG_DIR="$GWDIR/configs" DATA_PATH="$GWDIR/data" LOG_LEVEL=warn LOG_STORE=none \
    $GW_ENV "$WORK/gateway/Switchyard.Gateway") >"$LOGS/gateway.log" 2>&1 &
  GW_PID=$!; STARTED[$GW_PID]="gateway"
  up=0
  deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    kill -0 "$GW_PID" 2>/dev/null || { tail -20 "$LOGS/gateway.log" >&2; die "the gateway exited"; }
    if curl -sS --max-time 2 -o /dev/null -X POST "http://127.0.0.1:$MCP_PORT/modern/mcp" "${HDRS[@]}" -d "$BODY" 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  ((up == 1)) || die "the gateway's MCP port $MCP_PORT did not answer within 60 s"
  check_call "http://127.0.0.1:$MCP_PORT/modern/mcp"
  load gateway "http://127.0.0.1:$MCP_PORT/modern/mcp"
fi

# ---- report ---------------------------------------------------------------------------------------
{
  printf '\n| connections | direct req/s | direct p50 / p99 (ms) |'
  ((DIRECT_ONLY == 0)) && printf ' gateway req/s | gateway p50 / p99 (ms) | gateway / direct |'
  printf '\n|---|---|---|'
  ((DIRECT_ONLY == 0)) && printf -- '---|---|---|'
  printf '\n'
  for c in $CONNS; do
    printf '| %s | %s | %s / %s |' "$c" "${RPS[direct,$c]}" "${P50[direct,$c]}" "${P99[direct,$c]}"
    if ((DIRECT_ONLY == 0)); then
      printf ' %s | %s / %s | %s |' "${RPS[gateway,$c]}" "${P50[gateway,$c]}" "${P99[gateway,$c]}" \
        "$(python3 -c "import sys; print(f'{int(sys.argv[1]) / max(int(sys.argv[2]), 1):.0%}')" "${RPS[gateway,$c]}" "${RPS[direct,$c]}")"
    fi
    printf '\n'
  done
} | tee "$OUT/summary.md"
python3 - "$OUT/mcp-load.json" "$DURATION" "$DIRECT_ONLY" "$CONNS" <<EOF
import json, sys
rows = {}
$(for c in $CONNS; do
    echo "rows['$c'] = {'direct': {'rps': ${RPS[direct,$c]}, 'p50_ms': ${P50[direct,$c]}, 'p99_ms': ${P99[direct,$c]}}}"
    ((DIRECT_ONLY == 0)) && echo "rows['$c']['gateway'] = {'rps': ${RPS[gateway,$c]}, 'p50_ms': ${P50[gateway,$c]}, 'p99_ms': ${P99[gateway,$c]}}"
  done)
json.dump({'duration_s': int(sys.argv[2]), 'connections': rows}, open(sys.argv[1], 'w'), indent=2)
EOF
log "results in $OUT"
rm -rf "$LOGS"
