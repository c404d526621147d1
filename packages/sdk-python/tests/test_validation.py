from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from arc_sdk import InvalidPayloadError, Subjects, payload_error, validate_payload, validate_reply

VECTORS = json.loads(resources.files("arc_sdk").joinpath("contracts", "test-vectors.json").read_text("utf-8"))


def example(subject: str) -> dict[str, Any]:
    vector = next(v for v in VECTORS["payloads"] if v["subject"] == subject and v["name"] == "example")
    return copy.deepcopy(vector["payload"])


def test_missing_field_message_names_it() -> None:
    payload = example(Subjects.BRAIN_REQUEST)
    del payload["user_input"]
    with pytest.raises(InvalidPayloadError) as raised:
        validate_payload(Subjects.BRAIN_REQUEST, payload)
    assert str(raised.value) == "invalid payload for agent.brain.request: user_input: 'user_input' is a required property"
    assert raised.value.subject == Subjects.BRAIN_REQUEST
    assert raised.value.field == "user_input"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"constraints": {"max_tokens": -1}}, "constraints.max_tokens: must be >= 1 (got -1)"),
        ({"user_input": 12345}, "user_input: must be string (got 12345)"),
        ({"user_input": "x" * 20001}, "user_input: must NOT have more than 20000 characters (got 20001 characters)"),
        ({"timestamp": "yesterday"}, 'timestamp: must match format "date-time" (got "yesterday")'),
        ({"context": {"previous_turns": [{"user": "hi"}]}}, "context.previous_turns.0.agent: 'agent' is a required property"),
    ],
)
def test_reasons(change: dict[str, Any], reason: str) -> None:
    error = payload_error(Subjects.BRAIN_REQUEST, {**example(Subjects.BRAIN_REQUEST), **change})
    assert error is not None
    assert error.reason == reason


def test_literal_unions_list_the_allowed_values() -> None:
    error = payload_error(Subjects.BRAIN_ERROR, {**example(Subjects.BRAIN_ERROR), "error_type": "oops"})
    assert error is not None and error.field == "error_type"
    assert error.reason.startswith('error_type: must be one of "') and error.reason.endswith('(got "oops")')


def test_one_of_two_fields_required() -> None:
    payload = {k: v for k, v in example(Subjects.TTS_CANCEL).items() if k not in ("target_room", "request_id")}
    error = payload_error(Subjects.TTS_CANCEL, payload)
    assert error is not None
    assert error.reason == "one of target_room or request_id: is required"


def test_lengths_count_utf16_units_like_javascript() -> None:
    # U+1F600 is one code point, two UTF-16 units: 10000 of them are 20000 units (the limit).
    ok = {**example(Subjects.BRAIN_REQUEST), "user_input": "\U0001F600" * 10000}
    assert payload_error(Subjects.BRAIN_REQUEST, ok) is None
    over = {**ok, "user_input": ok["user_input"] + "x"}
    error = payload_error(Subjects.BRAIN_REQUEST, over)
    assert error is not None and "got 20001 characters" in error.reason


def test_pattern_end_anchor_is_javascripts() -> None:
    payload = {**example(Subjects.BRAIN_REQUEST), "trace_id": "0af7651916cd43dd8448eb211c80319c\n"}
    error = payload_error(Subjects.BRAIN_REQUEST, payload)
    assert error is not None and error.field == "trace_id"


def test_max_depth() -> None:
    deep: dict[str, Any] = {}
    level = deep
    for _ in range(6):
        level["x"] = {}
        level = level["x"]
    payload = example(Subjects.VOICE_TRACK_PUBLISHED)
    payload["metadata"] = deep  # 7 levels, at most 6
    error = payload_error(Subjects.VOICE_TRACK_PUBLISHED, payload)
    assert error is not None and error.reason == "metadata: nested deeper than 6 levels"
    payload["metadata"] = deep["x"]
    assert payload_error(Subjects.VOICE_TRACK_PUBLISHED, payload) is None


def test_unknown_subject_and_dead_letters() -> None:
    error = payload_error("agent.nothing.here", {})
    assert error is not None and error.reason == 'no schema for subject "agent.nothing.here"'
    assert payload_error("agent.tts.request.reply", {}) is not None  # a reply schema, not a subject
    assert payload_error("dlq.agent.brain.request.stale", {"timestamp": "2025-12-14T13:30:00.000Z"}) is not None


def test_reply_validation() -> None:
    reply = {
        "request_id": "req-1",
        "timestamp": "2025-12-14T13:30:00.000000Z",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "instance_id": "tts-1",
        "target_room": "room-1",
        "worker_subject": "agent.tts.worker.tts-1.request",
    }
    assert validate_reply("agent.tts.worker.tts-1.request", reply) == reply
    with pytest.raises(InvalidPayloadError, match="reply to agent.tts.request: worker_subject"):
        validate_reply(Subjects.TTS_REQUEST, {**reply, "worker_subject": "agent.tts.request"})
