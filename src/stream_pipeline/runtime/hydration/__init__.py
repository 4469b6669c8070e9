"""The hydrate function's core, shared with the replay: on-failure records of stream event
source mappings (``models``), reading a failed batch back from its stream (``reader``), and the
envelopes it becomes (``hydrator``)."""
