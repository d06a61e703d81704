#!/usr/bin/env bash
# The README's "Trying it" flow against a running server, each answer checked:
#   anonymous session, echo, register, upgrade, upload sales.csv, parse it, save it, upload
#   customers.csv, data mash — polling each execution's status until it is terminal. (Not the
#   WebSocket chat, nor the internal Runtime API.)
# Usage: examples/readme_flow.sh   (EXP=http://host:8080 for another server)
# Needs bash, curl and python3 (for reading JSON). Exits non-zero, saying which step failed
# and what the server answered, on the first failure. Each run registers a new user: with the
# default SYMPHAINY_RATE_LIMIT_REGISTER (3/300) a fourth run within 5 minutes gets a 429.
set -euo pipefail

EXP="${EXP:-http://127.0.0.1:8080}"
EXP="${EXP%/}"
HERE="$(cd "$(dirname "$0")" && pwd)"
STEP="start"
STATUS=""
BODY=""

fail() {
  echo "readme_flow: FAILED at '$STEP': $*" >&2
  exit 1
}

# call METHOD PATH [curl args…]: sets STATUS (HTTP code) and BODY.
call() {
  local method=$1 path=$2 out
  shift 2
  out="$(curl -sS -X "$method" "$EXP$path" -w $'\n%{http_code}' "$@")" \
    || fail "$method $EXP$path: no answer (is the server running at $EXP?)"
  STATUS="${out##*$'\n'}"
  BODY="${out%$'\n'*}"
}

expect_status() {
  [ "$STATUS" = "$1" ] || fail "expected HTTP $1, got $STATUS: $BODY"
}

# field PATH [JSON]: the value at a dotted path (list indices as numbers) of JSON (default:
# BODY); objects and lists as JSON, strings bare, booleans and null as in JSON.
field() {
  local json="${2-$BODY}"
  python3 - "$json" "$1" <<'PY' || fail "no '$1' in the answer: $json"
import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
if isinstance(v, str):
    print(v)
else:
    print(json.dumps(v))
PY
}

expect_field() {
  local got
  got="$(field "$1")" || exit 1
  [ "$got" = "$2" ] || fail "expected $1 = $2, got $got in: $BODY"
}

# wait_completed EXECUTION_ID: polls the status until terminal (60 s at most); it must be
# `completed`. Leaves the final status in BODY.
wait_completed() {
  local id=$1 status deadline=$((SECONDS + 60))
  while :; do
    call GET "/api/execution/$id/status"
    expect_status 200
    status="$(field status)" || exit 1
    case "$status" in
      completed) return 0 ;;
      failed | cancelled) fail "execution $id ended $status: $BODY" ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || fail "execution $id still $status after 60 s: $BODY"
    sleep 0.2
  done
}

json_post() {
  call POST "$1" -H 'content-type: application/json' -d "$2"
}

STEP="anonymous session"
call POST /api/session/create-anonymous
expect_status 201
SESSION="$(field session_id)" || exit 1
expect_field user_id null
echo "session $SESSION"

STEP="echo"
json_post /api/intent/submit \
  "{\"intent_type\":\"echo\",\"session_id\":\"$SESSION\",\"parameters\":{\"message\":\"hi\"}}"
expect_status 202
expect_field status accepted
ECHO_ID="$(field execution_id)" || exit 1
STEP="echo status"
wait_completed "$ECHO_ID"
expect_field artifacts.echo.semantic_payload.message hi
echo "echo completed: hi"

STEP="register"
EMAIL="ada-$(date +%s)-$RANDOM@example.com"
json_post /api/auth/register \
  "{\"name\":\"Ada\",\"email\":\"$EMAIL\",\"password\":\"s3cret-passw0rd\"}"
expect_status 201
TOKEN="$(field access_token)" || exit 1
USER_ID="$(field user.id)" || exit 1
expect_field user.email "$EMAIL"
echo "registered $EMAIL"

STEP="upgrade"
call PATCH "/api/session/$SESSION/upgrade" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' -d '{}'
expect_status 200
expect_field user_id "$USER_ID"
# The owner continues under the new session id the upgrade answers; the anonymous id, which
# others may know, no longer works without the token.
ANONYMOUS="$SESSION"
SESSION="$(field session_id)" || exit 1
if [ "$SESSION" = "$ANONYMOUS" ]; then
  echo "FAILED at $STEP: the upgrade kept the anonymous session id" >&2
  exit 1
fi
STEP="the anonymous id after the upgrade"
call GET "/api/session/$ANONYMOUS"
expect_status 404
STEP="upgrade"
echo "session $ANONYMOUS upgraded: $USER_ID continues in $SESSION"

# upload FILE: uploads examples/FILE into the session; prints its file_id.
upload() {
  call POST /api/v1/content/upload -F "file=@$HERE/$1" -F "session_id=$SESSION"
  expect_status 202
  expect_field success true
  expect_field status accepted
  field file_id
}

STEP="upload sales.csv"
SALES="$(upload sales.csv)" || exit 1
echo "uploaded sales.csv: $SALES"

# Parse right after the upload's 202, as the README does.
STEP="parse sales.csv"
json_post /api/intent/submit \
  "{\"intent_type\":\"parse_content\",\"session_id\":\"$SESSION\",\"parameters\":{\"file_id\":\"$SALES\"}}"
expect_status 202
PARSE_ID="$(field execution_id)" || exit 1
STEP="parse status"
wait_completed "$PARSE_ID"
expect_field artifacts.parsed_file.semantic_payload.record_count 8
expect_field artifacts.parsed_file.semantic_payload.columns.1.name customer_id
echo "parsed sales.csv: 8 records"

STEP="save sales.csv"
json_post /api/intent/submit \
  "{\"intent_type\":\"save_materialization\",\"session_id\":\"$SESSION\",\"parameters\":{\"file_id\":\"$SALES\"}}"
expect_status 202
SAVE_ID="$(field execution_id)" || exit 1
STEP="save status"
wait_completed "$SAVE_ID"
expect_field artifacts.materialization.semantic_payload.lifecycle_state active
echo "saved sales.csv: active"

STEP="upload customers.csv"
CUSTOMERS="$(upload customers.csv)" || exit 1
echo "uploaded customers.csv: $CUSTOMERS"

STEP="data mash"
json_post /api/v1/content/data-mash/create \
  "{\"content_refs\":[\"$SALES\",\"$CUSTOMERS\"],\"session_id\":\"$SESSION\"}"
expect_status 202
expect_field success true
MASH_ID="$(field execution_id)" || exit 1
STEP="data mash status"
wait_completed "$MASH_ID"
expect_field artifacts.mash.semantic_payload.join.key customer_id
expect_field artifacts.mash.semantic_payload.record_count 8
echo "mashed sales.csv + customers.csv on customer_id: 8 records"

echo "readme_flow: ok ($EXP)"
