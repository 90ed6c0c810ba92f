"""The limits one program runs under: a section limits.compilation, limits.server or
limits.client of worker-node.yml.

The configuration's schema is made from these fields (their types, minimums and
defaults), so the YAML keys are checked once, when the file is read; the worker then
passes `Limits` to the sandbox and the cgroups, and the guard gets them as plain data
(`as_data`), since it imports nothing written in Python.
"""

import dataclasses

from stechec.common.config import Key
from stechec.common.verdicts import human_bytes

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


def _bounded(minimum, default=dataclasses.MISSING):
    return dataclasses.field(default=default, metadata={"minimum": minimum})


@dataclasses.dataclass(frozen=True)
class Limits:
    cpu_secs: int = _bounded(1)
    wall_secs: float = _bounded(0.1)
    memory_bytes: int = _bounded(16 * MIB)
    processes: int = _bounded(1)
    # Output beyond this kills the program; the log keeps the first log_bytes.
    output_bytes: int = _bounded(KIB, 16 * MIB)
    log_bytes: int = _bounded(KIB, 256 * KIB)
    file_bytes: int = _bounded(KIB, 256 * MIB)
    open_files: int = _bounded(16, 256)
    # What the program may hold in all in the directories it may write.
    disk_bytes: int = _bounded(MIB, 1 * GIB)

    def as_data(self):
        """The limits as a dict of numbers, for the guard."""
        return dataclasses.asdict(self)

    def in_words(self, limit):
        """The value of `limit` (a verdict's "memory", "cpu"...) in words: "1 GiB", "10 s"."""
        if limit == "memory":
            return human_bytes(self.memory_bytes)
        if limit == "cpu":
            return f"{self.cpu_secs:g} s"
        if limit == "wall":
            return f"{self.wall_secs:g} s"
        if limit == "processes":
            return str(self.processes)
        if limit == "output":
            return human_bytes(self.output_bytes)
        if limit == "file_size":
            return human_bytes(self.file_bytes)
        if limit == "disk":
            return human_bytes(self.disk_bytes)
        raise ValueError(f"unknown limit {limit!r}")


def schema(**defaults):
    """The keys of one limits section of worker-node.yml; `defaults` gives those of the
    fields that have none (cpu_secs, wall_secs, memory_bytes, processes) and may
    change the others'."""
    keys = {}
    for field in dataclasses.fields(Limits):
        default = defaults.get(field.name, field.default)
        keys[field.name] = Key(field.type, field.type(default),
                               minimum=field.metadata["minimum"])
    return keys
