#!/usr/bin/env bash
# The demo behind `make demo`: a simulated Flex HRM with a generated company is imported and
# provisioned into a throwaway Samba AD domain on loopback (or into a simulated run without Samba),
# then the console serves that data until Ctrl-C, with a generated admin password.
#
#   PORT=18081                      the Flex HRM simulator's port
#   CONSOLE_PORT=8000               the console's port (the first free one from there on)
#   HRSYNC_HOME=.hrsync/demo        data directory; the default one is wiped at start, a chosen one is not
#   HRSYNC_DEMO_SIMULATE=1          skip Samba even where it is installed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
HRSYNC="$ROOT/.venv/bin/hrsync"
PYTHON="$ROOT/.venv/bin/python"
PORT="${PORT:-18081}"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" # samba lives in /usr/sbin
export HRSYNC_LOG_LEVEL="${HRSYNC_LOG_LEVEL:-WARNING}" # the demo prints its own summary

if [[ -z "${HRSYNC_HOME:-}" ]]; then
  export HRSYNC_HOME="$ROOT/.hrsync/demo"
  rm -rf "$HRSYNC_HOME" # the default demo home starts fresh, so every demo tells the same story
fi
mkdir -p "$HRSYNC_HOME"
SAMBA_DIR="$HRSYNC_HOME/samba"
export FLEX_PASSWORD=demo-secret

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
shout() { printf '\n\033[1;33m!!! %s\033[0m\n' "$*"; }

sim_pid=""
serve_pid=""
samba_started=0
stop_everything() {
  local status=$?
  if [[ -n "$serve_pid" ]]; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  if [[ "$samba_started" == 1 ]]; then
    "$PYTHON" -m hrsync.testing.samba down "$SAMBA_DIR" >/dev/null 2>&1 || true
  fi
  if [[ -n "$sim_pid" ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  exit "$status"
}
trap stop_everything EXIT
trap 'exit 130' INT TERM

# Prints one field of a JSON object read from stdin (nested keys joined by dots), or "" when absent.
json_field() {
  "$PYTHON" -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value.get(key, "") if isinstance(value, dict) else ""
print(value)' "$1"
}

# The last line of the input that parses as a JSON object: tolerates log lines printed before it.
last_json() {
  "$PYTHON" -c '
import json, sys
for line in reversed(sys.stdin.read().splitlines()):
    try:
        if isinstance(json.loads(line), dict):
            print(line)
            break
    except ValueError:
        pass
else:
    sys.exit("no JSON object in the output")'
}

is_sim_healthy() {
  "$PYTHON" -c '
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1).read()
except Exception:
    sys.exit(1)' "http://127.0.0.1:$PORT/_sim/health"
}

start_simulator() {
  step "Starting the Flex HRM simulator on 127.0.0.1:$PORT (300 generated employees, seed 42)"
  # The password comes from $FLEX_PASSWORD (exported above), not the command line `ps` shows.
  "$HRSYNC" flexhrm-sim --port "$PORT" --generate 300 --seed 42 \
    >"$HRSYNC_HOME/flexhrm-sim.log" 2>&1 &
  sim_pid=$!
  local tries=60
  until is_sim_healthy; do
    if ! kill -0 "$sim_pid" 2>/dev/null || ((--tries == 0)); then
      cat "$HRSYNC_HOME/flexhrm-sim.log" >&2
      echo "the simulator did not come up on port $PORT (another PORT=... may help)" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "simulator ready (log: $HRSYNC_HOME/flexhrm-sim.log)"
}

# Prints why AD has to run in simulation, or nothing when a throwaway domain can be started.
why_simulate() {
  if [[ "${HRSYNC_DEMO_SIMULATE:-}" == 1 ]]; then
    echo "HRSYNC_DEMO_SIMULATE=1 is set"
  elif ! command -v samba >/dev/null || ! command -v samba-tool >/dev/null; then
    echo "samba-ad-dc is not installed ('make install' as root installs it)"
  elif [[ "$(id -u)" != 0 ]]; then
    echo "a Samba domain controller needs root to start"
  fi
}

# Runs a command that prints JSON and prints that JSON; a non-zero exit with JSON is only reported.
capture_json() {
  local output status=0
  output="$("$@")" || status=$?
  if ! last_json <<<"$output"; then
    printf '%s\n' "$output" >&2
    echo "'$*' printed no JSON (exit $status)" >&2
    return 1
  fi
  ((status == 0)) || shout "'$*' exited with status $status" >&2
}

# Sets AD_URL, AD_BASE_DN, AD_BIND_DN and AD_PASSWORD from a fresh throwaway domain.
start_samba() {
  step "Provisioning a throwaway Samba AD domain on loopback (about a minute)"
  local answer
  samba_started=1
  answer="$("$PYTHON" -m hrsync.testing.samba up "$SAMBA_DIR" | last_json)"
  AD_URL="$(json_field url <<<"$answer")"
  AD_BASE_DN="$(json_field base_dn <<<"$answer")"
  AD_BIND_DN="$(json_field bind_dn <<<"$answer")"
  AD_PASSWORD="$(json_field password <<<"$answer")"
  echo "domain controller at $AD_URL, base DN $AD_BASE_DN"
}

write_config() {
  cat >"$HRSYNC_HOME/demo.toml" <<TOML
# Written by scripts/demo.sh. Secrets come from the environment: FLEX_PASSWORD, AD_PASSWORD.
[sources.flex]
type = "flexhrm"
url = "http://127.0.0.1:$PORT/api/"
instance = "acme"
username = "api"
password_env = "FLEX_PASSWORD"

[connections.ad]
source = "flex"
type = "active_directory"
url = "$AD_URL"
tls_verify = false          # the throwaway domain's certificate is self-signed
bind_dn = "$AD_BIND_DN"
password_env = "AD_PASSWORD"
base_dn = "$AD_BASE_DN"
users_ou = "OU=People,$AD_BASE_DN"
upn_suffix = "example.test"
TOML
}

# Prints the plan counts of a run's JSON that are not zero, as "create=280 set_manager=270".
nonzero_plan() {
  "$PYTHON" -c '
import json, sys
plan = json.load(sys.stdin).get("plan", {})
print(" ".join(f"{kind}={count}" for kind, count in plan.items() if count) or "nothing")'
}

# Prints the first port from $1 on (up to 100 further) that nothing on 127.0.0.1 listens on.
first_free_port() {
  "$PYTHON" -c '
import socket, sys
start = int(sys.argv[1])
for port in range(start, start + 100):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
else:
    sys.exit(f"no free port from {start} to {start + 99}")' "$1"
}

is_console_up() {
  "$PYTHON" -c '
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1).read()
except Exception:
    sys.exit(1)' "$1/signin/"
}

# Creates the admin with a generated password, serves the console and waits for Ctrl-C.
serve_console() {
  local port url password
  port="$(first_free_port "${CONSOLE_PORT:-8000}")"
  url="http://127.0.0.1:$port"
  step "Serving the console on $url"
  password="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(12))')"
  HRSYNC_DEMO_ADMIN_PASSWORD="$password" "$HRSYNC" createadmin admin \
    --password-env HRSYNC_DEMO_ADMIN_PASSWORD >/dev/null
  "$HRSYNC" serve --host 127.0.0.1 --port "$port" >"$HRSYNC_HOME/serve.log" 2>&1 &
  serve_pid=$!
  local tries=60
  until is_console_up "$url"; do
    if ! kill -0 "$serve_pid" 2>/dev/null || ((--tries == 0)); then
      cat "$HRSYNC_HOME/serve.log" >&2
      echo "the console did not come up on $url" >&2
      exit 1
    fi
    sleep 0.5
  done
  printf '\n  console:   \033[1m%s/\033[0m\n  username:  admin\n  password:  %s\n' "$url" "$password"
  printf '  API docs:  %s/api/docs   (log: %s)\n\n' "$url" "$HRSYNC_HOME/serve.log"
  echo "Serving until Ctrl-C; then the console, the simulator and the domain stop."
  wait "$serve_pid"
}

main() {
  start_simulator

  AD_URL="ldaps://127.0.0.1:636" AD_BASE_DN="DC=example,DC=test"
  AD_BIND_DN="Administrator@example.test" AD_PASSWORD="unused-in-simulation"
  local simulate=() reason
  reason="$(why_simulate)"
  if [[ -z "$reason" ]]; then
    start_samba
  else
    simulate=(--simulate)
    shout "Active Directory runs IN SIMULATION because $reason."
    shout "Nothing is written to any directory: the runs below only plan."
  fi
  export AD_PASSWORD

  step "Loading the demo configuration ($HRSYNC_HOME/demo.toml)"
  write_config
  "$HRSYNC" config load "$HRSYNC_HOME/demo.toml"

  step "hrsync import flex"
  local imported
  imported="$(capture_json "$HRSYNC" import flex --json)"
  echo "$imported"

  step "hrsync run ad ${simulate[*]}"
  local first="" second=""
  if first="$(capture_json "$HRSYNC" run ad "${simulate[@]}" --json)"; then
    echo "$first"
    step "hrsync run ad ${simulate[*]} again: with nothing changed in HR, it plans nothing"
    second="$(capture_json "$HRSYNC" run ad "${simulate[@]}" --json)"
    echo "$second"
  elif ((${#simulate[@]})); then
    shout "Even a simulated run reads the directory first, and it could not here (see the error above)."
  else
    exit 1
  fi

  step "Summary"
  printf '  import:     %s fetched, %s new, %s changed, %s unchanged, %s set aside as invalid\n' \
    "$(json_field fetched <<<"$imported")" "$(json_field new <<<"$imported")" \
    "$(json_field changed <<<"$imported")" "$(json_field unchanged <<<"$imported")" \
    "$(json_field invalid <<<"$imported")"
  if [[ -n "$first" ]]; then
    printf '  first run:  planned %s; %s applied, %s failed, %s deferred, %s held\n' \
      "$(nonzero_plan <<<"$first")" "$(json_field applied <<<"$first")" \
      "$(json_field failed <<<"$first")" "$(json_field deferred <<<"$first")" \
      "$(json_field held <<<"$first")"
    printf '  second run: planned %s\n' "$(nonzero_plan <<<"$second")"
  else
    printf '  runs:       none could read a directory\n'
  fi
  if ((${#simulate[@]})) && [[ -n "$first" ]]; then
    shout "AD ran IN SIMULATION because $reason: the counts above are a plan, not accounts."
  fi
  cat <<EOF

Look further (with HRSYNC_HOME=$HRSYNC_HOME):
  .venv/bin/hrsync import flex --json     counts of the last import window again
  .venv/bin/hrsync invalid flex           the records set aside, with their reasons
  .venv/bin/hrsync run ad --simulate      the plan against the directory as it is now
  .venv/bin/hrsync tickets list           the tickets the import opened
EOF
  serve_console
}

main "$@"
