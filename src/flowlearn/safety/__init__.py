"""Data safety, the layer under all others: memory checked before it is allocated, output
places checked before computing, and nothing replaced that flowlearn did not write.

Integrity of what flowlearn reads back lives with each format: checksummed Zarr chunks in
:mod:`flowlearn.data.flow_dataset`, tensor digests in :mod:`flowlearn.training` checkpoints.
"""

from flowlearn.safety.memory import (
    ENV_LIMIT,
    Available,
    MemoryLimitError,
    available_memory,
    format_bytes,
    require_memory,
)
from flowlearn.safety.outputs import (
    MARK,
    OutputError,
    check_folder,
    check_target,
    output_kind,
    write_replacing,
)

__all__ = [
    "ENV_LIMIT",
    "MARK",
    "Available",
    "MemoryLimitError",
    "OutputError",
    "available_memory",
    "check_folder",
    "check_target",
    "format_bytes",
    "output_kind",
    "require_memory",
    "write_replacing",
]
