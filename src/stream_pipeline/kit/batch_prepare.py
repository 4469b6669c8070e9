"""The ``prepare_batch`` hook: work a consumer does once per batch, before its record handler.

A consumer whose records need state from outside (the fraud detector reads each user's
history) would otherwise send requests per record. With the hook, the kit decodes and
validates every record of the batch first (once: the record handler gets the same
:class:`StreamRecord`), hands the valid ones to the hook in stream order, and exposes what the
hook returned as ``consumer.prepared`` while the record handler runs on each record.

Rejected records (bad JSON, schema violations) never reach the hook and are dead-lettered as
usual. If the hook raises, every record it was given becomes a batch item failure (the event
source mapping retries them): the hook must therefore be idempotent, as a record handler is.
A hook that can fail for part of the batch only (one user's requests) returns that in its
result and lets the record handler raise for the records concerned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stream_pipeline.kit.records import Handled, StreamRecord

BatchPreparer = Callable[[Sequence[StreamRecord[Any]]], Any]
"""The team's batch-level code: the batch's valid records -> anything (``consumer.prepared``)."""

Decoded = StreamRecord[Any] | Handled | Exception
"""A record decoded up front: the handler's record, a skip, or why it could not be decoded."""


class BatchPreparationError(RuntimeError):
    """The ``prepare_batch`` hook raised: the record is handed back for retry."""


@dataclass(slots=True)
class DecodedBatch:
    """Every record of one batch decoded once, by the identity of its Lambda record dict
    (Powertools hands the record handler the very dicts of the event)."""

    _decoded: dict[int, tuple[Mapping[str, Any], Decoded]] = field(default_factory=dict)
    error: BaseException | None = None
    """What the hook raised, if it did."""

    @classmethod
    def decode(
        cls,
        records: Sequence[Mapping[str, Any]],
        decode: Callable[[Mapping[str, Any]], StreamRecord[Any] | Handled],
    ) -> DecodedBatch:
        batch = cls()
        for raw in records:
            try:
                decoded: Decoded = decode(raw)
            except Exception as exc:  # re-raised where the record is handled
                decoded = exc
            batch._decoded[id(raw)] = (raw, decoded)
        return batch

    def valid(self) -> list[StreamRecord[Any]]:
        """The records that decoded and validated, in stream order."""
        return [
            decoded for _, decoded in self._decoded.values() if isinstance(decoded, StreamRecord)
        ]

    def lookup(self, raw: Mapping[str, Any]) -> Decoded | None:
        """The record's decoding; None for a record that was not in the batch."""
        entry = self._decoded.get(id(raw))
        if entry is None or entry[0] is not raw:
            return None
        return entry[1]
