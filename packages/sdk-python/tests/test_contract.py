"""The shared contract: every test vector, the dead-letter subject table, rules, generated files."""

from __future__ import annotations

import json
import re
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

import arc_sdk
from arc_sdk import OWNER_EVENT_SUBJECTS, Subjects, dead_letter_subject, owner_subject, payload_error, worker_subject
from arc_sdk._generate import DEFAULT_CONTRACTS, stale_files
from arc_sdk.subjects import REQUEST_SUBJECTS

VECTORS: dict[str, Any] = json.loads(resources.files("arc_sdk").joinpath("contracts", "test-vectors.json").read_text("utf-8"))
IN_REPO = (DEFAULT_CONTRACTS / "schemas").is_dir()


def vector_id(vector: dict[str, Any]) -> str:
    return f"{vector['subject']}: {vector['name']}"


@pytest.mark.parametrize("vector", VECTORS["payloads"], ids=vector_id)
def test_payload_vector(vector: dict[str, Any]) -> None:
    error = payload_error(vector["subject"], vector["payload"])
    if vector["valid"]:
        assert error is None, str(error)
        return
    assert error is not None, "accepted an invalid payload"
    field = vector["field"]
    assert error.field == field or error.field.endswith(f".{field}"), f"names {error.field!r}, not {field!r}: {error}"
    assert field in str(error)
    assert str(error).startswith(f"invalid payload for {vector['subject']}: ")


@pytest.mark.parametrize("vector", [v for v in VECTORS["payloads"] if v["subject"] in REQUEST_SUBJECTS], ids=vector_id)
def test_worker_subjects_take_their_request_subjects_schema(vector: dict[str, Any]) -> None:
    error = payload_error(worker_subject(vector["subject"], "worker-1"), vector["payload"])
    assert (error is None) == vector["valid"], str(error)


@pytest.mark.parametrize("vector", [v for v in VECTORS["payloads"] if v["subject"] in OWNER_EVENT_SUBJECTS], ids=vector_id)
def test_owner_subjects_take_their_event_subjects_schema(vector: dict[str, Any]) -> None:
    error = payload_error(owner_subject(vector["subject"], "voice-1"), vector["payload"])
    assert (error is None) == vector["valid"], str(error)


def test_every_subject_has_vectors() -> None:
    assert {v["subject"] for v in VECTORS["payloads"]} == set(arc_sdk.KNOWN_SUBJECTS)


@pytest.mark.parametrize("row", VECTORS["dead_letter_subjects"], ids=lambda r: f"{r['subject']} {r['reason']}")
def test_dead_letter_subject(row: dict[str, str]) -> None:
    assert dead_letter_subject(row["subject"], row["reason"]) == row["dead_letter_subject"]


def test_rules() -> None:
    rules = VECTORS["rules"]
    assert arc_sdk.TTL_MS == rules["ttl_ms"]
    assert arc_sdk.MAX_CLOCK_SKEW_MS == rules["max_clock_skew_ms"]
    assert arc_sdk.MAX_PAYLOAD_BYTES == rules["max_payload_bytes"]
    assert arc_sdk.DEAD_LETTER_MAX_BYTES == rules["dead_letter_max_bytes"]
    assert arc_sdk.DEAD_LETTER_PREFIX == rules["dead_letter_prefix"]
    assert list(arc_sdk.DEAD_LETTER_REASONS) == rules["dead_letter_reasons"]
    assert arc_sdk.UNTRACED_SUBJECTS == set(rules["untraced_subjects"])


def test_payload_types_cover_every_subject() -> None:
    assert set(arc_sdk.payloads.SUBJECT_PAYLOADS) == set(arc_sdk.KNOWN_SUBJECTS)
    assert set(arc_sdk.payloads.PUBLISH_INPUTS) == set(arc_sdk.KNOWN_SUBJECTS)
    request = arc_sdk.payloads.BrainRequestPayload.__required_keys__
    assert {"request_id", "timestamp", "trace_id", "session_id", "user_input"} <= request
    assert {"timestamp", "trace_id"} <= arc_sdk.payloads.BrainRequestInput.__optional_keys__
    assert "timestamp" in arc_sdk.payloads.HealthHeartbeatInput.__optional_keys__


@pytest.mark.skipif(not IN_REPO, reason="packages/contracts is not next to this package (installed elsewhere)")
def test_generated_files_are_current() -> None:
    stale = stale_files()
    assert stale == [], f"stale generated files {stale}: run `python -m arc_sdk._generate` in packages/sdk-python"


@pytest.mark.skipif(not IN_REPO, reason="packages/contracts is not next to this package (installed elsewhere)")
def test_subjects_match_subjects_ts() -> None:
    source = (DEFAULT_CONTRACTS / "src" / "subjects.ts").read_text("utf-8")
    block = re.search(r"export const Subjects = \{(.*?)\} as const", source, re.S)
    assert block is not None
    ts = dict(re.findall(r"(\w+): '([^']+)'", block[1]))
    py = {name: value for name, value in vars(Subjects).items() if name.isupper()}
    assert {re.sub(r"([A-Z])", r"_\1", name).upper(): value for name, value in ts.items()} == py
    requests = re.search(r"REQUEST_SUBJECTS = \[(.*?)\]", source)
    assert requests is not None
    assert [ts[name] for name in re.findall(r"Subjects\.(\w+)", requests[1])] == list(REQUEST_SUBJECTS)
    owners = re.search(r"OWNER_EVENT_SUBJECTS = \[(.*?)\]", source)
    assert owners is not None
    assert [ts[name] for name in re.findall(r"Subjects\.(\w+)", owners[1])] == list(OWNER_EVENT_SUBJECTS)


@pytest.mark.skipif(not IN_REPO, reason="packages/contracts is not next to this package (installed elsewhere)")
def test_a_changed_schema_makes_the_generated_files_stale(tmp_path: Path) -> None:
    for part in ("schemas", "vectors"):
        shutil.copytree(DEFAULT_CONTRACTS / part, tmp_path / part)
    schema_file = tmp_path / "schemas" / "agent.brain.cancel.schema.json"
    schema = json.loads(schema_file.read_text("utf-8"))
    schema["properties"]["added_field"] = {"type": "string"}
    schema_file.write_text(json.dumps(schema, indent=2) + "\n")
    assert stale_files(tmp_path) == ["contracts/agent.brain.cancel.schema.json", "payloads.py"]
    (tmp_path / "schemas" / "agent.brain.new.schema.json").write_text(json.dumps({**schema, "$id": "agent.brain.new"}))
    assert {"_contract.py", "contracts/agent.brain.new.schema.json"} <= set(stale_files(tmp_path))
