"""Durable, atomic file operations with the modes the contract requires."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path

KEY_FILE_MODE = 0o600
"""Files holding private keys (and anything else secret)."""

PRIVATE_DIR_MODE = 0o700
"""Key folders and CA folders."""

PUBLIC_FILE_MODE = 0o644
"""Certificates and OpenSSL bookkeeping files, as the web UI's umask gives them."""


def fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename or create inside it survives power loss."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = PUBLIC_FILE_MODE) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half.

    The data goes to a temporary file in the same folder, created with ``mode`` (so a key
    is never readable by others, not even for a moment), is fsynced, renamed over the
    target, and the folder is fsynced.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # the umask may have narrowed O_CREAT's mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create a file that must not exist yet, durably, with ``mode`` from the start."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, mode)


def make_dir(path: Path, mode: int) -> None:
    """Create a folder (parents too) and set its mode exactly, whatever the umask."""
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    os.chmod(path, mode)


def durable_rename(src: Path, dst: Path) -> None:
    """Rename within one filesystem and flush both parent folders.

    Raises:
        FileExistsError: ``dst`` exists (a rename must never replace another CA's folder).
    """
    if dst.exists() or dst.is_symlink():
        raise FileExistsError(str(dst))
    os.rename(src, dst)
    fsync_dir(dst.parent)
    if src.parent != dst.parent:
        fsync_dir(src.parent)


def remove_tree(path: Path) -> None:
    """Delete a folder we created ourselves and never committed; flush its parent."""
    if path.exists() or path.is_symlink():
        shutil.rmtree(path)
        fsync_dir(path.parent)


def file_mode(path: Path) -> int:
    """The permission bits of a path (without following a final symlink)."""
    return path.lstat().st_mode & 0o777
