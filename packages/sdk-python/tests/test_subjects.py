from __future__ import annotations

import pytest

from arc_sdk import (
    TENANT_ID_PATTERN,
    TENANT_SUBJECT_PREFIX,
    ArcError,
    InvalidSubjectError,
    InvalidTenantError,
    Subjects,
    Wildcards,
    assert_valid_subject,
    assert_valid_tenant,
    dead_letter_subject,
    event_subject_of,
    is_valid_subject,
    is_valid_tenant,
    owner_subject,
    request_subject_of,
    subject_in_tenant,
    subject_matches,
    tenant_inbox_prefix,
    tenant_permissions,
    tenant_subject,
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


# ----------------------------------------------------------------------------- tenants


def test_tenant_subjects() -> None:
    assert TENANT_SUBJECT_PREFIX == "t" and TENANT_ID_PATTERN == "^[a-z0-9][a-z0-9_-]{0,31}$"
    assert tenant_subject("acme", Subjects.BRAIN_REQUEST) == "t.acme.agent.brain.request"
    assert tenant_subject("acme", Wildcards.ALL_AGENT) == "t.acme.agent.>"
    assert tenant_subject("acme", dead_letter_subject(Subjects.BRAIN_REQUEST, "stale")) == "t.acme.dlq.agent.brain.request.stale"
    assert subject_in_tenant("acme", "t.acme.agent.brain.request") == Subjects.BRAIN_REQUEST
    assert subject_in_tenant("acme", tenant_subject("acme", "audit.agent.tts.request")) == "audit.agent.tts.request"
    assert tenant_inbox_prefix("acme") == "_INBOX_acme"
    assert tenant_permissions("acme") == {
        "publish": ["t.acme.>", "_INBOX_acme.>"],
        "subscribe": ["t.acme.>", "_INBOX_acme.>"],
    }


@pytest.mark.parametrize("wire", ["agent.brain.request", "t.other.agent.brain.request", "t.acme", "t.acmex.agent.brain.request", "_INBOX_acme.x"])
def test_subject_outside_the_tenant(wire: str) -> None:
    with pytest.raises(InvalidSubjectError, match='not in tenant "acme"'):
        subject_in_tenant("acme", wire)


@pytest.mark.parametrize("tenant", ["a", "0", "acme", "acme_1-eu", "a" * 32, "9lives"])
def test_valid_tenant_ids(tenant: str) -> None:
    assert is_valid_tenant(tenant)
    assert_valid_tenant(tenant)


@pytest.mark.parametrize("tenant", ["", "Acme", "-acme", "_acme", "a" * 33, "ac.me", "ac me", "ac*", ">", "acmé", "acme\n"])
def test_invalid_tenant_ids(tenant: str) -> None:
    assert not is_valid_tenant(tenant)
    message = f'invalid tenant id "{tenant}": 1 to 32 of a-z 0-9 _ -, starting with a letter or digit'
    for helper in (assert_valid_tenant, tenant_inbox_prefix, tenant_permissions, lambda t: tenant_subject(t, "agent.>"), lambda t: subject_in_tenant(t, "t.x.y")):
        with pytest.raises(InvalidTenantError) as raised:
            helper(tenant)
        assert str(raised.value) == message and raised.value.tenant == tenant
    assert isinstance(InvalidTenantError("x"), ArcError)
