"""Inter-process file locks (``flock``) with a deadline."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from hermes_ca_tui.core.errors import CaError, Code

DEFAULT_TIMEOUT = 60.0
"""How long an operation waits for another operator's change to finish."""

_POLL = 0.05


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created 0600 if missing).

    The kernel drops the lock when the holder dies, so a SIGKILLed operation never
    leaves a stale lock behind.

    Raises:
        CaError: LOCK_TIMEOUT when another process holds it past ``timeout``.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                if time.monotonic() >= deadline:
                    raise CaError(Code.LOCK_TIMEOUT, path=str(path)) from None
                time.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def try_file_lock(path: Path) -> contextlib.AbstractContextManager[bool]:
    """Take the lock only if it is free; yields whether it was taken."""

    @contextlib.contextmanager
    def _cm() -> Iterator[bool]:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    return _cm()
