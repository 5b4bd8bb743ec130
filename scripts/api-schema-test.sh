#!/usr/bin/env bash
# Schema-based API test (issue 6): schemathesis (pinned, in a venv) against a live
# `regelbank demo` server loaded with the bundled fixtures. Checks: no 5xx, status codes,
# content types and response bodies as the OpenAPI document says. Uploads use the demo token.
# .ci/run runs it with the debug binary and a fixed seed; by hand:
#   scripts/api-schema-test.sh            (REGELBANK_BIN, ST_EXAMPLES=25, ST_SEED to override)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${REGELBANK_BIN:-target/release/regelbank}
[ -x "$BIN" ] || cargo build --release -p regelbank
VENV=${ST_VENV:-/tmp/regelbank-schemathesis}
[ -x "$VENV/bin/schemathesis" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "schemathesis==4.32.5"; }
WORK=$(mktemp -d /tmp/regelbank-st.XXXXXX)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$BIN" --data "$WORK/data" demo --addr 127.0.0.1:0 >"$WORK/out" 2>/dev/null &
SERVER=$!
for _ in $(seq 300); do grep -q "listening on" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
BASE=$(sed -n 's/^regelbank: listening on //p' "$WORK/out")
cd "$WORK"
"$VENV/bin/schemathesis" run "$BASE/api/v1/openapi.json" -H "Authorization: Bearer demo" \
  --max-examples "${ST_EXAMPLES:-25}" --phases examples,coverage,fuzzing ${ST_SEED:+--seed "$ST_SEED"} \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection
