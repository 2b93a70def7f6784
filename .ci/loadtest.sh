#!/usr/bin/env bash
# Load test on loopback: the console in front of the standalone simulator,
# measured with wrk against the simulator alone as the baseline in the same
# run. Needs wrk (apt-get install wrk). Bounded: 10 s per measurement.
#
#   bash .ci/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/dixasim" ./cmd/dixasim
go build -o "$tmp/console" ./cmd/console
secret=load-test-secret-0123
"$tmp/dixasim" -addr 127.0.0.1:18181 -key loadkey -rps 0 >"$tmp/sim.log" 2>&1 &
DIXA_API_URL=http://127.0.0.1:18181 DIXA_API_KEY=loadkey AUTH_MODE=header \
  AUTH_PROXY_SECRET=$secret SESSION_KEYS=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
  UPSTREAM_RPS=1000 UPSTREAM_BURST=100 LISTEN_ADDR=127.0.0.1:18182 DATA_DIR="$tmp/data" LOG_LEVEL=warn \
  "$tmp/console" >"$tmp/console.log" 2>&1 &
for _ in $(seq 50); do curl -fsS -o /dev/null http://127.0.0.1:18182/healthz 2>/dev/null && break; sleep 0.1; done
# 2,000 different agents so the per-person limit (5/s each) does not bind.
cat >"$tmp/agents.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  local h = {}
  h["X-Forwarded-Email"] = "agent" .. (counter % 2000) .. "@example.com"
  h["X-Forwarded-Groups"] = "support-agents"
  h["X-Proxy-Secret"] = "$secret"
  return wrk.format("GET", wrk.path, h)
end
LUA
id=de000000-0000-4000-8000-000000000005
measure() { wrk -t2 -c16 -d10s "$@" 2>&1 | awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "NON-2XX: " $0 > "/dev/stderr"}'; }
sim_list=$(measure -H "Authorization: loadkey" "http://127.0.0.1:18181/v1/endusers?pageLimit=25")
con_list=$(measure -s "$tmp/agents.lua" "http://127.0.0.1:18182/endusers")
sim_one=$(measure -H "Authorization: loadkey" "http://127.0.0.1:18181/v1/endusers/$id")
con_one=$(measure -s "$tmp/agents.lua" "http://127.0.0.1:18182/endusers/$id")
printf '%-44s %10s\n' "simulator GET /v1/endusers?pageLimit=25" "$sim_list req/s"
printf '%-44s %10s  (%.2fx the simulator call)\n' "console GET /endusers (1 upstream call)" "$con_list req/s" "$(echo "$con_list / $sim_list" | bc -l)"
printf '%-44s %10s\n' "simulator GET /v1/endusers/{id}" "$sim_one req/s"
printf '%-44s %10s  (%.2fx the simulator call)\n' "console GET /endusers/{id} (2 upstream, warm)" "$con_one req/s" "$(echo "$con_one / $sim_one" | bc -l)"
