"""Writing files so that nothing is lost: a temporary file beside the target, then `os.replace`.

A write that is cut short (Ctrl-C, a killed process, a full disk) leaves the previous file as it
was and at most a stray `.<name>.*.tmp` beside it, never a truncated target.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def write_atomically(path, data: str | bytes) -> Path:
    """Writes `data` (text as UTF-8, or bytes) to `path` through a temporary file in the same folder.

    The folder is created if needed. The target is replaced in one step (`os.replace`), so readers
    see either the old or the new contents, whole.

    Returns:
        `path` as a `Path`.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes):
        raise TypeError(f"`data` must be str or bytes, received {type(data).__name__}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else new_file_mode()
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def new_file_mode() -> int:
    """The permissions `open(path, "w")` gives a new file: 0o666 less the process's umask.

    `tempfile.mkstemp` makes its file readable by its owner only (0o600), right for a secret, wrong
    for a result that a file written the plain way would let the group and others read.
    """
    # The only portable way to read the umask is to set one and put it back. The one set meanwhile is the
    # strictest, so that a file another thread creates in that instant is too private, never too open.
    umask = os.umask(0o077)
    os.umask(umask)
    return 0o666 & ~umask
