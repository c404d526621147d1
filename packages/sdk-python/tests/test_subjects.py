from __future__ import annotations

import pytest

from arc_sdk import (
    InvalidSubjectError,
    Subjects,
    Wildcards,
    assert_valid_subject,
    dead_letter_subject,
    event_subject_of,
    is_valid_subject,
    owner_subject,
    request_subject_of,
    subject_matches,
    worker_subject,
)


def test_worker_subject() -> None:
    assert worker_subject(Subjects.TTS_REQUEST, "tts-1") == "agent.tts.worker.tts-1.request"
    assert worker_subject(Subjects.VOICE_TRACK_PUBLISHED, "v_2") == "agent.voice.track.worker.v_2.published"
    assert request_subject_of("agent.tts.worker.tts-1.request") == Subjects.TTS_REQUEST
    assert request_subject_of("agent.brain.worker.x.request") is None
    assert request_subject_of(Subjects.TTS_REQUEST) is None
    with pytest.raises(InvalidSubjectError, match="instance id"):
        worker_subject(Subjects.TTS_REQUEST, "a.b")
    with pytest.raises(InvalidSubjectError, match="not a request subject"):
        worker_subject(Subjects.BRAIN_REQUEST, "x")


def test_owner_subject() -> None:
    assert owner_subject(Subjects.BRAIN_RESPONSE, "voice-1") == "agent.brain.to.voice-1.response"
    assert owner_subject(Subjects.TTS_COMPLETED, "v_2") == "agent.tts.to.v_2.completed"
    assert event_subject_of("agent.brain.to.voice-1.partial") == Subjects.BRAIN_PARTIAL
    assert event_subject_of("agent.brain.to.x.request") is None
    with pytest.raises(InvalidSubjectError, match="instance id"):
        owner_subject(Subjects.BRAIN_RESPONSE, "a.b")
    with pytest.raises(InvalidSubjectError, match="no owner subject"):
        owner_subject(Subjects.BRAIN_REQUEST, "x")


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("", "empty"),
        ("a..b", "token 2 is empty"),
        ("a.b.c.d.e.f.g.h.i", "9 tokens, at most 8 allowed"),
        ("a.b c", 'token 2 "b c" has characters'),
        ("a.*", 'wildcard "*" not allowed here'),
        ("agent.$x", 'token 2 "$x"'),
    ],
)
def test_invalid_subjects(subject: str, reason: str) -> None:
    with pytest.raises(InvalidSubjectError) as raised:
        assert_valid_subject(subject)
    assert reason in str(raised.value)
    assert not is_valid_subject(subject)


def test_wildcards() -> None:
    patterns = [value for name, value in vars(Wildcards).items() if name.isupper()]
    assert len(patterns) == 11
    for pattern in patterns:
        assert_valid_subject(pattern, wildcards=True)
    with pytest.raises(InvalidSubjectError, match="must be the last token"):
        assert_valid_subject("a.>.b", wildcards=True)
    assert subject_matches("agent.>", "agent.brain.request")
    assert not subject_matches("agent.>", "agent")
    assert subject_matches("agent.*.worker.*.*", "agent.tts.worker.t1.request")
    assert not subject_matches("*.*.error", "agent.tts.worker.error")


def test_dead_letter_subject_falls_back_to_unroutable() -> None:
    assert dead_letter_subject("agent.brain.request", "stale") == "dlq.agent.brain.request.stale"
    assert dead_letter_subject("a.b.c.d.e.f.g", "stale") == "dlq.unroutable.stale"
    assert dead_letter_subject("a.b.c.d.e.f", "stale") == "dlq.a.b.c.d.e.f.stale"
