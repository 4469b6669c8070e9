"""What a replay run trusts: its configuration, never the content of what it replays.

The streams it may read from and put into, the buckets it may read claim-checks from and the
key the envelopes must be signed with all come from the run's options (flags, the environment's
terraform outputs). A message or object naming anything else is refused with its reason and
stays where it is (see docs/replay.md, "What the replay trusts").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stream_pipeline.replay.model import NotReplayableError, RunOptions
from stream_pipeline.runtime.claim_check import parse_s3_uri
from stream_pipeline.runtime.dlq_mac import UNSIGNED, EnvelopeVerifier


@dataclass(frozen=True, slots=True)
class Trust:
    streams: frozenset[str]
    """Stream ARNs, or Kinesis stream names (``--stream``, the outputs, ``--target``)."""
    buckets: frozenset[str]
    """Claim-check buckets (``--payload-bucket``, the failure bucket)."""
    verifier: EnvelopeVerifier | None
    """VerifyMac with the configured key; None without a key."""
    accept_unsigned: bool = False

    @classmethod
    def configured(cls, options: RunOptions, kms: Any) -> Trust:
        return cls(
            streams=frozenset(options.streams) | ({options.target} if options.target else set()),
            buckets=frozenset(options.buckets) | ({options.bucket} if options.bucket else set()),
            verifier=EnvelopeVerifier(kms, options.mac_key) if options.mac_key else None,
            accept_unsigned=options.accept_unsigned,
        )

    def configured_stream(self, arn: str | None) -> str | None:
        """The configuration's name for the stream ``arn`` (its ARN, or -- for Kinesis -- its
        name), None when it is not configured; an EFO consumer ARN counts as its stream."""
        if not arn:
            return None
        stream = arn.split("/consumer/", 1)[0]
        if stream in self.streams:
            return stream
        _, _, name = stream.partition(":stream/") if stream.startswith("arn:") else ("", "", "")
        return name if name and ":kinesis:" in stream and name in self.streams else None

    def check_stream(self, arn: str | None, what: str) -> str:
        """The configuration's name for ``arn`` -- a stream configured by name is the
        operator's stream of that name, never another account's the message may point at --
        else NotReplayableError; ``what`` the run would do with it ("read", ...)."""
        configured = self.configured_stream(arn)
        if configured is None:
            known = ", ".join(sorted(self.streams)) or "none"
            msg = (
                f"refused: it names stream {arn!r:.300} to {what}, which is not one of the "
                f"configured streams ({known}); pass --stream to allow it"
            )
            raise NotReplayableError(msg)
        return configured

    def check_bucket(self, location: str) -> None:
        """NotReplayableError unless the claim-check ``location`` is in a configured bucket."""
        try:
            bucket, _ = parse_s3_uri(location)
        except ValueError as exc:
            msg = f"refused: {exc}"
            raise NotReplayableError(msg) from exc
        if bucket not in self.buckets:
            known = ", ".join(sorted(self.buckets)) or "none"
            msg = (
                f"refused: its payload is in bucket {bucket!r:.100}, which is not one of the "
                f"configured buckets ({known}); pass --payload-bucket to allow it"
            )
            raise NotReplayableError(msg)

    def untrusted(self, body: str) -> str | None:
        """Why the message must not be trusted (None: its MAC is the configured key's, or it is
        unsigned and ``accept_unsigned`` says so)."""
        if self.verifier is None:
            if self.accept_unsigned:
                return None
            return (
                "refused: no MAC key configured to authenticate it (pass --mac-key, or "
                "--accept-unsigned to replay envelopes without checking who wrote them)"
            )
        problem = self.verifier.problem(body)
        if problem is None or (problem == UNSIGNED and self.accept_unsigned):
            return None
        if problem == UNSIGNED:
            return (
                f"refused: {UNSIGNED} (written before envelopes were signed, or by someone "
                "else); pass --accept-unsigned to replay such messages"
            )
        return f"refused: {problem}"
