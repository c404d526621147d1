"""Payload validation against the packaged JSON Schemas (draft-07), as the TypeScript bus does it.

The validator is jsonschema's Draft7Validator with date-time format checking, plus what Ajv does
differently from Python, so both languages accept and reject the same payloads:

- string lengths count UTF-16 code units (JavaScript's ``String.length``), not code points;
- ``$`` in a pattern matches only at the very end (Python's also before a final newline), and
  ``\\d``/``\\w`` are ASCII only;
- the ``maxDepth`` keyword (nesting depth of free-form objects) is enforced.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any, cast

from jsonschema import Draft7Validator, FormatChecker, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend
from rfc3339_validator import validate_rfc3339  # type: ignore[import-untyped]

from ._contract import KNOWN_SUBJECTS
from .errors import InvalidPayloadError
from .subjects import event_subject_of, is_dead_letter_subject, request_subject_of

__all__ = [
    "DEAD_LETTER_SCHEMA",
    "has_schema",
    "load_schema",
    "payload_error",
    "schema_name_for",
    "validate_dead_letter",
    "validate_payload",
    "validate_reply",
]

DEAD_LETTER_SCHEMA = "dlq"
_REPLY_SUFFIX = ".reply"


@functools.cache
def load_schema(name: str) -> dict[str, Any] | None:
    """The packaged schema ``<name>.schema.json`` (a subject, ``dlq`` or ``<subject>.reply``), or None."""
    file = resources.files("arc_sdk").joinpath("contracts", f"{name}.schema.json")
    if not file.is_file():
        return None
    schema: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return schema


def schema_name_for(subject: str) -> str | None:
    """The schema governing a concrete subject: its own, its request subject's (worker subjects), its
    event subject's (owner subjects), or ``dlq``."""
    if subject in KNOWN_SUBJECTS:
        return subject
    request_subject = request_subject_of(subject)
    if request_subject is not None:
        return request_subject
    event_subject = event_subject_of(subject)
    if event_subject is not None:
        return event_subject
    if is_dead_letter_subject(subject):
        return DEAD_LETTER_SCHEMA
    return None


def has_schema(subject: str) -> bool:
    return schema_name_for(subject) is not None


def payload_error(subject: str, value: object) -> InvalidPayloadError | None:
    """What is wrong with ``value`` as a payload for ``subject``, or None when it is valid. Never raises."""
    name = schema_name_for(subject)
    validator = _validator(name) if name else None
    if validator is None:
        return InvalidPayloadError(subject, "", f'no schema for subject "{subject}"')
    return _first_error(subject, validator, value)


def validate_payload(subject: str, value: object) -> Any:
    """Returns ``value`` when it is a valid payload for ``subject``; raises InvalidPayloadError otherwise."""
    error = payload_error(subject, value)
    if error is not None:
        raise error
    return value


def validate_reply(subject: str, value: object) -> Any:
    """Validates the reply to a request sent on ``subject`` (a request subject or a worker subject).

    A request subject whose reply schema is not published accepts any JSON object.
    """
    label = f"reply to {subject}"
    name = schema_name_for(subject)
    validator = _validator(f"{name}{_REPLY_SUFFIX}") if name else None
    if validator is None:
        if isinstance(value, dict):
            return value
        return _raise(InvalidPayloadError(label, "", f"(root): must be object{_got(value)}"))
    error = _first_error(label, validator, value)
    if error is not None:
        raise error
    return value


def validate_dead_letter(value: object) -> Any:
    """Validates a dead letter (what is published on ``dlq.>``)."""
    return validate_payload(f"{DEAD_LETTER_SCHEMA}.unroutable.invalid_payload", value)


def _raise(error: Exception) -> Any:
    raise error


# ----------------------------------------------------------------------------- the validator


def _utf16_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _min_length(validator: Validator, limit: int, instance: object, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if isinstance(instance, str) and _utf16_length(instance) < limit:
        yield ValidationError(f"must NOT have fewer than {limit} characters")


def _max_length(validator: Validator, limit: int, instance: object, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if isinstance(instance, str) and _utf16_length(instance) > limit:
        yield ValidationError(f"must NOT have more than {limit} characters")


@functools.lru_cache(maxsize=256)
def _js_regex(pattern: str) -> re.Pattern[str]:
    """A JavaScript pattern as Python reads it: ``$`` (outside classes) → ``\\Z``, ASCII classes."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return re.compile("".join(out), re.ASCII)


def _pattern(validator: Validator, pattern: str, instance: object, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _js_regex(pattern).search(instance):
        yield ValidationError(f'must match pattern "{pattern}"')


def _depth(value: object, stop_at: int, depth: int = 0) -> int:
    if depth >= stop_at or not isinstance(value, (dict, list)):
        return depth
    deepest = depth + 1
    for child in value.values() if isinstance(value, dict) else value:
        deepest = max(deepest, _depth(child, stop_at, depth + 1))
        if deepest >= stop_at:
            break
    return deepest


def _max_depth(validator: Validator, limit: int, instance: object, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if isinstance(instance, dict) and _depth(instance, limit + 1) > limit:
        yield ValidationError(f"nested deeper than {limit} levels")


_format_checker = FormatChecker(formats=())
_format_checker.checks("date-time")(lambda value: not isinstance(value, str) or validate_rfc3339(value))

_ArcValidator = extend(  # type: ignore[no-untyped-call]
    Draft7Validator,
    {"minLength": _min_length, "maxLength": _max_length, "pattern": _pattern, "maxDepth": _max_depth},
)


@functools.cache
def _validator(name: str) -> Validator | None:
    schema = load_schema(name)
    if schema is None:
        return None
    validator: Validator = _ArcValidator(schema, format_checker=_format_checker)
    return validator


# ----------------------------------------------------------------------------- error messages


def _first_error(subject: str, validator: Validator, value: object) -> InvalidPayloadError | None:
    errors = list(validator.iter_errors(cast(Any, value)))
    if not errors:
        return None
    # "one of target_room or request_id" beats anything else; then the shallowest, first in schema order.
    chosen = next((e for e in errors if e.validator == "anyOf" and not e.absolute_path and _required_only(e.validator_value)), None)
    if chosen is None:
        chosen = min(errors, key=lambda e: (len(e.absolute_path), e.validator in ("anyOf", "oneOf")))
    field, reason = _describe(chosen)
    return InvalidPayloadError(subject, field, reason)


def _required_only(alternatives: object) -> bool:
    return isinstance(alternatives, list) and all(isinstance(a, dict) and set(a) <= {"required"} for a in alternatives)


def _describe(error: ValidationError) -> tuple[str, str]:
    """(field path, reason naming it): ``constraints.max_tokens: must be >= 1 (got -1)``."""
    path = ".".join(str(p) for p in error.absolute_path)
    keyword, limit, instance = error.validator, cast(Any, error.validator_value), error.instance
    if keyword == "required":
        missing = next((p for p in limit if error.message == f"{p!r} is a required property"), str(limit))
        field = f"{path}.{missing}" if path else missing
        return field, f"{field}: {missing!r} is a required property"
    if keyword == "anyOf" and _required_only(limit):
        alternatives = " or ".join("+".join(a["required"]) for a in limit)
        return path, f"{path + ': ' if path else ''}one of {alternatives}: is required"
    got = _got(instance)
    if keyword in ("anyOf", "oneOf") and all(isinstance(a, dict) and "const" in a for a in limit):
        detail = "must be one of " + ", ".join(_json(a["const"]) for a in limit)
    elif keyword == "enum":
        detail = "must be one of " + ", ".join(_json(v) for v in limit)
    elif keyword == "const":
        detail = f"must be equal to {_json(limit)}"
    elif keyword == "type":
        detail = "must be " + (" or ".join(limit) if isinstance(limit, list) else str(limit))
    elif keyword == "minimum":
        detail = f"must be >= {limit}"
    elif keyword == "maximum":
        detail = f"must be <= {limit}"
    elif keyword == "exclusiveMinimum":
        detail = f"must be > {limit}"
    elif keyword == "exclusiveMaximum":
        detail = f"must be < {limit}"
    elif keyword == "maxLength" and isinstance(instance, str):
        detail, got = f"must NOT have more than {limit} characters", f" (got {_utf16_length(instance)} characters)"
    elif keyword == "format":
        detail = f'must match format "{limit}"'
    elif keyword in ("minItems", "maxItems", "minProperties", "maxProperties"):
        things = "items" if keyword.endswith("Items") else "properties"
        detail = f"must NOT have {'fewer' if keyword.startswith('min') else 'more'} than {limit} {things}"
    elif keyword == "maxDepth":
        detail, got = error.message, ""
    else:  # minLength, pattern and anything else: the message the validator wrote
        detail = error.message if len(error.message) <= 200 else f"{error.message[:197]}..."
    return path, f"{path or '(root)'}: {detail}{got}"


def _json(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _got(value: object) -> str:
    """`` (got -1)``: the offending value, shortened, so logs show what was sent."""
    text = _json(value)
    return f" (got {text if len(text) <= 80 else text[:77] + '...'})"
