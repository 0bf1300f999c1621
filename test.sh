#!/usr/bin/env bash
# Runs the whole Switchyard test suite. Installs what is missing (Node.js, redis-server, bubblewrap, Go and sprig from Debian, the npm SDKs
# from package-lock.json), builds, runs every test, and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

log() { printf '[test.sh] %s\n' "$*" >&2; }

if ! command -v dotnet >/dev/null 2>&1; then
  log "the .NET 10 SDK is required (dotnet not found)"; echo "0 passed, 1 failed"; exit 1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "installing Node.js from Debian packages"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq nodejs npm >/dev/null \
    || { log "could not install Node.js"; echo "0 passed, 1 failed"; exit 1; }
fi

if ! command -v redis-server >/dev/null 2>&1; then
  log "installing redis-server from Debian packages (the Redis client tests start their own on 127.0.0.1)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq redis-server >/dev/null \
    || { log "could not install redis-server"; echo "0 passed, 1 failed"; exit 1; }
fi

# The deployment tests: bubblewrap reproduces the container's constraints; Go and sprig render the Helm chart as
# `helm template` would (no helm binary can be installed here).
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v go >/dev/null 2>&1 || missing+=(golang-go)
[ -d /usr/share/gocode/src/github.com/Masterminds/sprig ] || missing+=(golang-github-masterminds-sprig-dev)
[ -d /usr/share/gocode/src/gopkg.in/yaml.v3 ] || missing+=(golang-gopkg-yaml.v3-dev)
[ -d /usr/share/gocode/src/gopkg.in/yaml.v2 ] || missing+=(golang-gopkg-yaml.v2-dev)
[ -d /usr/share/gocode/src/github.com/xeipuuv/gojsonschema ] || missing+=(golang-github-xeipuuv-gojsonschema-dev)
[ -d /usr/share/gocode/src/github.com/BurntSushi/toml ] || missing+=(golang-github-burntsushi-toml-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} from Debian packages (deployment tests)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { log "could not install ${missing[*]}"; echo "0 passed, 1 failed"; exit 1; }
fi

log "installing the npm SDK clients (tests/node-clients)"
if ! (cd tests/node-clients && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  log "npm ci failed"; echo "0 passed, 1 failed"; exit 1
fi
log "installing the npm MCP servers, clients and the conformance suite (tests/mcp-fixtures)"
if ! (cd tests/mcp-fixtures && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  log "npm ci failed in tests/mcp-fixtures"; echo "0 passed, 1 failed"; exit 1
fi
log "installing MCP Inspector 2.x (tests/mcp-fixtures/inspector2; it conflicts with Inspector 0.15 and runs on Node 22)"
if ! (cd tests/mcp-fixtures/inspector2 && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  log "npm ci failed in tests/mcp-fixtures/inspector2"; echo "0 passed, 1 failed"; exit 1
fi

results="$(mktemp -d)"
log "building and running the tests"
dotnet test Switchyard.slnx -c Release --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" 2>&1 \
  | grep -vE '^\s*$' | grep -E 'Passed |Failed |Skipped |error|Error Message|Assert|Stack Trace|   at |Total tests|Passed!|Failed!|warn' | grep -vE '^\s+Passed ' | tail -n 400
status=${PIPESTATUS[0]}

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${n:-0}))
done
rm -rf "$results"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or the test host failed before any test result was written.
  failed=1
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
