"""export: write a CA's certificate or private key to a file, when security.conf allows.

``ALLOW_CA_DOWNLOAD`` is re-read at every export (appliance-facts §8). Output files are
0600 and never replace an existing file unless the operator confirmed it. The key can
be written encrypted (PKCS#8, AES-256-CBC with PBKDF2). Every attempt is audited.
"""

from __future__ import annotations

import contextlib
import enum
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.context import Context
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.fsutil import KEY_FILE_MODE, atomic_write, fsync_dir
from hermes_ca_tui.core.keys import load_stored_key
from hermes_ca_tui.core.ops.common import ca_ref, fingerprints
from hermes_ca_tui.core.ops.listing import resolve
from hermes_ca_tui.core.security_conf import DownloadGate, download_gate
from hermes_ca_tui.core.store.records import CaRecord
from hermes_ca_tui.core.tree import CaTree


class ExportWhat(enum.Enum):
    """What to export."""

    CERT = "cert"
    KEY = "key"


class ExportFormat(enum.Enum):
    """File encoding."""

    PEM = "pem"
    DER = "der"


@dataclass(frozen=True)
class ExportRequest:
    """An export, as an operator asks for it."""

    ref: str | int
    what: ExportWhat
    out: Path
    format: ExportFormat = ExportFormat.PEM
    passphrase: bytes | None = field(default=None, repr=False)
    overwrite: bool = False


@dataclass(frozen=True)
class ExportResult:
    """What was written."""

    path: Path
    what: ExportWhat
    format: ExportFormat
    encrypted: bool
    ca_id: int
    name: str


def gate(ctx: Context) -> DownloadGate:
    """Whether downloads are allowed right now (the file is read on every call)."""
    return download_gate(ctx.paths.security_conf)


def _write_exclusive(path: Path, data: bytes) -> None:
    """Create ``path`` atomically, failing if it exists (no overwrite without consent)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, KEY_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, KEY_FILE_MODE)
        os.link(tmp, path)  # fails with FileExistsError instead of replacing
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)


def _payload(tree: CaTree, request: ExportRequest) -> bytes:
    encoding = (
        serialization.Encoding.PEM
        if request.format is ExportFormat.PEM
        else serialization.Encoding.DER
    )
    if request.what is ExportWhat.CERT:
        return tree.read_cert().public_bytes(encoding)
    key = load_stored_key(tree.key_path.read_bytes())
    if request.passphrase is not None:
        if not request.passphrase:
            raise CaError(Code.PASSPHRASE_EMPTY, field="passphrase")
        protection: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(request.passphrase)
        )
    else:
        protection = serialization.NoEncryption()
    return key.private_bytes(encoding, serialization.PrivateFormat.PKCS8, protection)


def export(ctx: Context, request: ExportRequest) -> ExportResult:
    """Write the certificate or key of a CA to ``request.out``.

    Raises:
        CaError: DOWNLOADS_DISABLED (m=45), CA_NOT_FOUND, EXPORT_FILE_MISSING (m=47),
            OUTPUT_EXISTS, OUTPUT_UNWRITABLE, PASSPHRASE_EMPTY.
    """
    operation = f"export-{request.what.value}"
    allowed = gate(ctx)
    if not allowed.allowed:
        ctx.audit.append(
            operation,
            f"refused:{Code.DOWNLOADS_DISABLED.name}",
            details={"ref": str(request.ref), "reason": allowed.reason},
        )
        raise CaError(Code.DOWNLOADS_DISABLED, path=str(allowed.path))
    record: CaRecord | None = None
    out = Path(request.out)
    try:
        with ctx.hermes.database.transaction(write=False) as tx:
            record = resolve(ctx, tx, request.ref)
        tree = CaTree.at(ctx.paths.ca_root, record.directory)
        source = tree.cert_path if request.what is ExportWhat.CERT else tree.key_path
        if not source.is_file():
            raise CaError(Code.EXPORT_FILE_MISSING, path=str(source))
        if out.exists() and not request.overwrite:
            raise CaError(Code.OUTPUT_EXISTS, path=str(out))
        data = _payload(tree, request)
        try:
            if request.overwrite:
                atomic_write(out, data, KEY_FILE_MODE)
            else:
                _write_exclusive(out, data)
        except FileExistsError:
            raise CaError(Code.OUTPUT_EXISTS, path=str(out)) from None
        except OSError as exc:
            raise CaError(
                Code.OUTPUT_UNWRITABLE, path=str(out), reason=exc.strerror or type(exc).__name__
            ) from None
    except CaError as exc:
        # Every attempt is audited, refusals included (not only the disabled switch).
        ctx.audit.append(
            operation,
            f"refused:{exc.code.name}",
            ca=ca_ref(record.id, record.common_name) if record else None,
            details={"ref": str(request.ref), "path": str(out)},
        )
        raise
    encrypted = request.what is ExportWhat.KEY and request.passphrase is not None
    loaded = ctx.certs.get(tree.cert_path)
    ctx.audit.append(
        operation,
        "ok",
        ca=ca_ref(record.id, record.common_name),
        fingerprints=fingerprints(loaded[0] if loaded else None),
        details={
            "path": str(out.resolve()),
            "format": request.format.value,
            "encrypted": encrypted,
        },
    )
    return ExportResult(out, request.what, request.format, encrypted, record.id, record.common_name)
