"""Trace ids and timestamps in the format every ARC client writes (packages/contracts/src/ids.ts)."""

from __future__ import annotations

import calendar
import os
import re
import time

__all__ = ["iso_timestamp", "new_trace_id", "now_ms", "parse_timestamp_ms"]

_ALL_ZEROS = "0" * 32


def new_trace_id() -> str:
    """W3C trace-context trace id: 32 lowercase hex characters, never all zeros."""
    while True:
        trace_id = os.urandom(16).hex()
        if trace_id != _ALL_ZEROS:
            return trace_id


def now_ms() -> float:
    """Wall-clock time in ms, with microseconds."""
    return time.time_ns() / 1_000_000


def iso_timestamp(epoch_ms: float | None = None) -> str:
    """ISO-8601 UTC with microseconds: ``2025-12-14T13:30:00.123456Z``."""
    micros = time.time_ns() // 1000 if epoch_ms is None else int(epoch_ms * 1000 // 1)
    seconds, fraction = divmod(micros, 1_000_000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{fraction:06d}Z"


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))"
)


def parse_timestamp_ms(timestamp: str) -> float:
    """Epoch ms of an RFC 3339 timestamp, keeping the digits below the millisecond; NaN when unparseable."""
    match = _RFC3339.fullmatch(timestamp)
    if match is None:
        return float("nan")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zulu, sign, offset_h, offset_m = match.groups()[6:]
    # timegm does plain arithmetic, so a leap second (":60") lands on the next second, as in JavaScript.
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if not zulu:
        offset = int(offset_h) * 3600 + int(offset_m) * 60
        seconds -= offset if sign == "+" else -offset
    ms = seconds * 1000.0
    if fraction:
        ms += int(fraction[:9].ljust(9, "0")) / 1_000_000
    return ms
