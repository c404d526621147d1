#!/usr/bin/env bash
# Seed 002 T019: tests a running ARC stack over core NATS with the NATS CLI (`nats pub`, `nats sub`).
# Needs at least one brain worker on the bus. Checks:
#   1. agent.brain.request → an agent.brain.response with the same request_id (the round trip);
#   2. an agent.brain.request 2 minutes old → a dead letter naming it on dlq.agent.brain.request.stale
#      (the bus TTL is 60 s; the receiving worker dead-letters stale messages);
#   3. every subject's example payload (packages/contracts/vectors/test-vectors.json), with a fresh
#      timestamp and trace_id, arrives unchanged at a subscriber started before the publish.
# One PASS/FAIL line per check, then a summary; exit 0 when all pass, 1 when one fails, 2 when the
# test cannot run (no nats CLI, no node, no examples).
#
# Environment:
#   NATS_URL                 server to test (default nats://127.0.0.1:4222)
#   NATS_CLI                 nats binary (default .tools/bin/nats, else `nats` on PATH; build it
#                            with scripts/install-natscli.sh)
#   TEST_NATS_TIMEOUT_S      seconds a published message or dead letter may take (default 5)
#   TEST_NATS_BRAIN_TIMEOUT_S seconds the brain may take to answer (default 30)
#   TEST_NATS_VECTORS        test vectors file (default packages/contracts/vectors/test-vectors.json)
#
# Subscriptions are confirmed before each publish: every `nats sub` also listens on a private probe
# subject, and the message is published only once a probe has come back through that subscriber
# (the server registers one connection's subscriptions in order). Workers publish on the same
# subjects (heartbeats every few seconds, the brain's answers), so a check waits for its own
# message, found by its fresh trace_id, instead of taking the first message that arrives.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
TIMEOUT_S="${TEST_NATS_TIMEOUT_S:-5}"
BRAIN_TIMEOUT_S="${TEST_NATS_BRAIN_TIMEOUT_S:-30}"
VECTORS="${TEST_NATS_VECTORS:-$ROOT/packages/contracts/vectors/test-vectors.json}"

if [ -n "${NATS_CLI:-}" ]; then
  NATS="$NATS_CLI"
elif [ -x "$ROOT/.tools/bin/nats" ]; then
  NATS="$ROOT/.tools/bin/nats"
elif command -v nats >/dev/null; then
  NATS="$(command -v nats)"
else
  echo "the NATS CLI is missing: build it with bash scripts/install-natscli.sh (or set NATS_CLI)" >&2
  exit 2
fi
command -v node >/dev/null || { echo "node is required (JSON editing)" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/arc-test-nats.XXXXXX")"
cleanup() {
  local pid
  # this shell's own background subscribers that still run
  for pid in $(jobs -pr); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RUN_ID="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
PASSED=0
FAILED=0
PROBES=0

pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
now_ms() { local us="${EPOCHREALTIME//[.,]/}"; echo $((us / 1000)); }
nats_cli() { "$NATS" --server "$NATS_URL" "$@"; }

# JSON editing in node: payloads are built from the examples and dead letters read back here.
cat >"$WORK/json.mjs" <<'EOF'
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [command, ...args] = process.argv.slice(2);
const out = (...lines) => process.stdout.write(lines.join('\n') + '\n');

async function loadExamples() {
  const vectors = process.env.VECTORS;
  if (existsSync(vectors)) {
    const found = JSON.parse(readFileSync(vectors, 'utf8')).payloads.filter((v) => v.name === 'example' && v.valid === true);
    return Object.fromEntries(found.map((v) => [v.subject, v.payload]));
  }
  // Not generated yet (npm run schemas writes it): the compiled contracts hold the same examples.
  const dist = `${process.env.ROOT}/packages/contracts/dist/index.js`;
  if (existsSync(dist)) return (await import(pathToFileURL(dist).href)).ExamplePayloads;
  throw new Error(`no example payloads: ${vectors} is missing and packages/contracts is not built`);
}
const examples = () => JSON.parse(readFileSync(process.env.EXAMPLES, 'utf8'));

const traceId = () => crypto.randomUUID();

switch (command) {
  case 'load': // every subject's example, into EXAMPLES; prints the subjects, one a line
    writeFileSync(process.env.EXAMPLES, JSON.stringify(await loadExamples()));
    out(...Object.keys(examples()));
    break;
  case 'payload': {
    // payload SUBJECT AGE_MS [REQUEST_ID [TIMEOUT_MS]] → the marker to look for, then the compact JSON.
    // The example with a timestamp AGE_MS old and a fresh trace_id (when the example carries one:
    // heartbeats and service errors carry none, and their timestamp is the marker).
    const [subject, ageMs, requestId, timeoutMs] = args;
    const payload = examples()[subject];
    if (!payload) throw new Error(`no example for ${subject}`);
    payload.timestamp = new Date(Date.now() - Number(ageMs)).toISOString();
    if ('trace_id' in payload) payload.trace_id = traceId();
    if (requestId) payload.request_id = requestId;
    if (timeoutMs) payload.constraints = { ...payload.constraints, timeout_ms: Number(timeoutMs) };
    out(payload.trace_id ?? payload.timestamp, JSON.stringify(payload));
    break;
  }
  case 'dead-letter': {
    // dead-letter LETTER SENT → the reason it does not name the message SENT on agent.brain.request, or its summary
    const [line, sent] = args;
    const letter = JSON.parse(line);
    const original = Buffer.from(letter.original_payload_base64 ?? '', 'base64').toString('utf8');
    const problems = [];
    if (letter.original_subject !== 'agent.brain.request') problems.push(`original_subject is ${letter.original_subject}`);
    if (letter.error_type !== 'stale') problems.push(`error_type is ${letter.error_type}`);
    if (letter.trace_id !== JSON.parse(sent).trace_id) problems.push('trace_id differs');
    if (original !== sent) problems.push('original_payload_base64 is not the message sent');
    if (problems.length) {
      out(`bad ${problems.join('; ')}`);
    } else {
      out(`ok from ${letter.service}/${letter.instance_id}: ${letter.reason}`);
    }
    break;
  }
  case 'brain-answer': {
    // brain-answer LINE REQUEST_ID → "ok <answer>" for an agent.brain.response to REQUEST_ID, else "bad <why>"
    const [line, requestId] = args;
    const answer = JSON.parse(line);
    if (answer.request_id !== requestId) out(`bad request_id is ${answer.request_id}`);
    else if (typeof answer.agent_response === 'string') out(`ok "${answer.agent_response.slice(0, 80)}"`);
    else out(`bad agent.brain.error ${answer.error_type}: ${answer.error_message}`);
    break;
  }
  default:
    throw new Error(`unknown command ${command}`);
}
EOF
json() { VECTORS="$VECTORS" ROOT="$ROOT" EXAMPLES="$WORK/examples.json" node "$WORK/json.mjs" "$@"; }

# start_sub OUT SUBJECT... — `nats sub --raw` in the background (one message per line in OUT);
# returns once its subscription is live at the server. Sets SUB_PID.
start_sub() {
  local out="$1"
  shift
  PROBES=$((PROBES + 1))
  local probe="arc-test-nats.probe.${RUN_ID}.${PROBES}"
  : >"$out"
  # `timeout`: a subscriber left behind by an interrupted run ends by itself
  timeout "$((TIMEOUT_S + BRAIN_TIMEOUT_S + 30))" "$NATS" --server "$NATS_URL" sub --raw "$@" "$probe" >"$out" 2>"$out.err" &
  SUB_PID=$!
  local deadline=$(($(now_ms) + 10000))
  while (($(now_ms) < deadline)); do
    nats_cli pub --no-templates "$probe" "$probe" >/dev/null 2>&1 || true
    sleep 0.05
    if grep -qxF -e "$probe" "$out"; then return 0; fi
    kill -0 "$SUB_PID" 2>/dev/null || break
  done
  echo "  nats sub $* did not start: $(tail -c 500 "$out.err")" >&2
  return 1
}

stop_sub() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# wait_line OUT PATTERN SECONDS [exact] — the first line of OUT containing PATTERN (or equal to
# it, with "exact"), into LINE; returns 1 when none arrived in time.
wait_line() {
  local out="$1" pattern="$2" deadline=$(($(now_ms) + $3 * 1000)) mode="${4:-}"
  local flags=(-m1 -F)
  [ "$mode" = exact ] && flags+=(-x)
  while :; do
    LINE="$(grep "${flags[@]}" -e "$pattern" "$out" || true)"
    [ -n "$LINE" ] && return 0
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}

publish() { # publish SUBJECT PAYLOAD — verbatim (no Go templates)
  local errors
  if ! errors="$(nats_cli pub --no-templates "$1" "$2" 2>&1)"; then
    echo "  nats pub $1 failed: $errors" >&2
    return 1
  fi
}

if ! subjects="$(json load)"; then
  echo "no example payloads to publish" >&2
  exit 2
fi
mapfile -t SUBJECTS <<<"$subjects"

echo "testing ARC on $NATS_URL with $("$NATS" --version 2>&1 | head -n1 | sed 's/^/nats CLI /')"
# Nagios-style: 0 OK, 1 WARNING (slow connect or round trip, e.g. on a loaded machine), 2 CRITICAL
connection_status=0
connection="$(nats_cli server check connection 2>&1)" || connection_status=$?
if [ "$connection_status" -gt 1 ]; then
  fail "connect to $NATS_URL: ${connection#CRITICAL Connection Crit:}"
  echo "summary: $PASSED passed, $FAILED failed"
  exit 1
fi
pass "connect to $NATS_URL: $(grep -o 'connected to [^ ]* in [^ ]*' <<<"$connection" || echo "$connection")"

# --- 1. brain round trip ------------------------------------------------------------------------
# Sent first, while the brain is idle: the examples below include an agent.brain.request too.
check_brain_round_trip() {
  local rid="test-nats-${RUN_ID}" made marker payload out="$WORK/brain.out" verdict started
  made="$(json payload agent.brain.request 0 "$rid" "$((BRAIN_TIMEOUT_S * 1000))")"
  marker="\"request_id\":\"$rid\""
  payload="$(sed -n 2p <<<"$made")"
  if ! start_sub "$out" agent.brain.response agent.brain.error; then
    fail "agent.brain.request → agent.brain.response: could not subscribe"
    return
  fi
  started="$(now_ms)"
  if ! publish agent.brain.request "$payload"; then
    fail "agent.brain.request → agent.brain.response: could not publish"
  elif ! wait_line "$out" "$marker" "$BRAIN_TIMEOUT_S"; then
    fail "agent.brain.request → agent.brain.response: no answer to request_id $rid within ${BRAIN_TIMEOUT_S} s (is a brain worker running?)"
  else
    verdict="$(json brain-answer "$LINE" "$rid")"
    if [[ "$verdict" == ok* ]]; then
      pass "agent.brain.request → agent.brain.response: request_id $rid answered in $(($(now_ms) - started)) ms: ${verdict#ok }"
    else
      fail "agent.brain.request → agent.brain.response: ${verdict#bad }"
    fi
  fi
  stop_sub "$SUB_PID"
}

# --- 2. stale request → dead letter -------------------------------------------------------------
check_stale_dead_letter() {
  local rid="test-nats-stale-${RUN_ID}" made marker payload out="$WORK/stale.out" verdict
  made="$(json payload agent.brain.request 120000 "$rid")"
  marker="\"trace_id\":\"$(sed -n 1p <<<"$made")\""
  payload="$(sed -n 2p <<<"$made")"
  if ! start_sub "$out" dlq.agent.brain.request.stale; then
    fail "stale agent.brain.request → dlq.agent.brain.request.stale: could not subscribe"
    return
  fi
  if ! publish agent.brain.request "$payload"; then
    fail "stale agent.brain.request → dlq.agent.brain.request.stale: could not publish"
  elif ! wait_line "$out" "$marker" "$TIMEOUT_S"; then
    fail "stale agent.brain.request → dlq.agent.brain.request.stale: no dead letter for request_id $rid within ${TIMEOUT_S} s"
  else
    verdict="$(json dead-letter "$LINE" "$payload")"
    if [[ "$verdict" == ok* ]]; then
      pass "stale agent.brain.request → dlq.agent.brain.request.stale: request_id $rid dead-lettered ${verdict#ok }"
    else
      fail "stale agent.brain.request → dlq.agent.brain.request.stale: ${verdict#bad }"
    fi
  fi
  stop_sub "$SUB_PID"
}

# --- 3. every example, unchanged ----------------------------------------------------------------
# None is skipped. Running workers act on some (the brain answers the agent.brain.request example
# and the agent.brain.cancel example after it stops that answer; the voice worker joins the
# example room on agent.voice.track.published and leaves it on agent.voice.track.unpublished;
# TTS speaks agent.tts.request and agent.tts.notice there and agent.tts.cancel stops it; a monitor
# shows the example heartbeat's service). Each example has its own fresh trace_id, so what the
# workers publish in return never passes for an example.
check_example() {
  local subject="$1" made marker payload out="$WORK/example.out"
  made="$(json payload "$subject" 0)"
  marker="$(sed -n 1p <<<"$made")"
  payload="$(sed -n 2p <<<"$made")"
  if ! start_sub "$out" "$subject"; then
    fail "$subject example: could not subscribe"
    return
  fi
  if ! publish "$subject" "$payload"; then
    fail "$subject example: could not publish"
  elif wait_line "$out" "$payload" "$TIMEOUT_S" exact; then
    pass "$subject example arrived unchanged ($(printf %s "$payload" | wc -c) bytes)"
  elif LINE="$(grep -m1 -F -e "$marker" "$out")"; then
    fail "$subject example arrived changed: $LINE"
  else
    fail "$subject example: not received within ${TIMEOUT_S} s"
  fi
  stop_sub "$SUB_PID"
}

check_brain_round_trip
check_stale_dead_letter
for subject in "${SUBJECTS[@]}"; do
  check_example "$subject"
done

echo "summary: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
