"""The OpenSSL tree of a CA: ``<ca_root>/<dir>/root_ca/`` exactly as the appliance has it.

The web UI mints recipient certificates from this tree with ``openssl ca -config
openssl.cnf``, so the layout, the bookkeeping files and the config's sections stay as
the appliance's template has them (appliance-facts §3.2, §3.4). The config is improved
where that cannot break the web UI: SHA-256, ``unique_subject = no`` (so ``index.txt``
need not be truncated), and an S/MIME leaf profile (pki-and-peers §3.5).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from hermes_ca_tui.core.fsutil import (
    KEY_FILE_MODE,
    PRIVATE_DIR_MODE,
    PUBLIC_FILE_MODE,
    atomic_write,
    fsync_dir,
    make_dir,
    write_new,
)

ROOT_CA = "root_ca"
INITIAL_SERIAL = b"0100\n"
"""The web page's first serial and CRL number."""

PUBLIC_DIR_MODE = 0o755
SUBDIRS_PUBLIC = ("certs", "crl", "newcerts", "requests")
SUBDIRS_PRIVATE = ("private", "PFX")

OPENSSL_CNF = """\
# OpenSSL configuration of a Hermes internal CA, written by hermes-ca-tui.
# The Hermes web UI mints recipient certificates with
#   openssl ca -config {root}/openssl.cnf -batch ...
# Sections and names follow the appliance's rootca_openssl.cnf template.
HOME = .

[ ca ]
default_ca = CA_default

[ CA_default ]
dir = {root}
certs = $dir/certs
crl_dir = $dir/crl
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/certs/cacert.pem
serial = $dir/serial
crlnumber = $dir/crlnumber
crl = $dir/crl.pem
private_key = $dir/private/cakey.pem
x509_extensions = usr_cert
name_opt = ca_default
cert_opt = ca_default
default_days = 365
default_crl_days = 30
default_md = sha256
preserve = no
unique_subject = no
policy = policy_match

[ policy_match ]
commonName = supplied
emailAddress = supplied

[ policy_anything ]
commonName = supplied
emailAddress = optional

[ req ]
default_bits = 4096
default_md = sha256
distinguished_name = req_distinguished_name
x509_extensions = v3_ca
string_mask = utf8only

[ req_distinguished_name ]
commonName = Common Name (e.g. the recipient's e-mail address)
commonName_max = 64
emailAddress = Email Address
emailAddress_max = 64

[ usr_cert ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:copy
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ v3_ca ]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
basicConstraints = critical, CA:true
keyUsage = critical, cRLSign, keyCertSign

[ crl_ext ]
authorityKeyIdentifier = keyid:always
"""


def openssl_cnf(root: Path) -> bytes:
    """The ``openssl.cnf`` of a tree whose ``root_ca`` folder is ``root``."""
    return OPENSSL_CNF.format(root=str(root)).encode()


@dataclass(frozen=True)
class CaTree:
    """Paths of one CA's tree.

    Attributes:
        folder: ``<ca_root>/<dir>``.
    """

    folder: Path

    @classmethod
    def at(cls, ca_root: Path, directory: str) -> CaTree:
        """The tree of the CA whose ``ca_directory`` is ``directory``."""
        return cls(Path(ca_root) / directory)

    @property
    def root(self) -> Path:
        """``<folder>/root_ca``, the ``dir`` of ``openssl.cnf``."""
        return self.folder / ROOT_CA

    @property
    def cert_path(self) -> Path:
        """``certs/cacert.pem``."""
        return self.root / "certs" / "cacert.pem"

    @property
    def key_path(self) -> Path:
        """``private/cakey.pem``."""
        return self.root / "private" / "cakey.pem"

    @property
    def chain_path(self) -> Path:
        """``cachain.pem``: the CA certificate followed by its issuers, if any."""
        return self.root / "cachain.pem"

    @property
    def cnf_path(self) -> Path:
        """``openssl.cnf``."""
        return self.root / "openssl.cnf"

    @property
    def serial_path(self) -> Path:
        """``serial``."""
        return self.root / "serial"

    @property
    def index_path(self) -> Path:
        """``index.txt``."""
        return self.root / "index.txt"

    @property
    def history_dir(self) -> Path:
        """``certs/history``: certificates replaced by renewals."""
        return self.root / "certs" / "history"

    def exists(self) -> bool:
        """Whether the CA folder exists."""
        return self.folder.is_dir()

    def read_cert(self) -> x509.Certificate:
        """Parse ``certs/cacert.pem`` (the first certificate in it)."""
        return x509.load_pem_x509_certificates(self.cert_path.read_bytes())[0]

    def read_chain(self) -> list[x509.Certificate]:
        """Parse ``cachain.pem``; empty when missing or unreadable."""
        try:
            return x509.load_pem_x509_certificates(self.chain_path.read_bytes())
        except (OSError, ValueError):
            return []

    def missing_parts(self) -> list[str]:
        """Bookkeeping files and folders the tree lacks (relative to ``root_ca``)."""
        wanted = [*SUBDIRS_PUBLIC, *SUBDIRS_PRIVATE]
        missing = [f"{d}/" for d in wanted if not (self.root / d).is_dir()]
        for name in ("openssl.cnf", "serial", "crlnumber", "index.txt"):
            if not (self.root / name).is_file():
                missing.append(name)
        return missing

    def private_paths(self) -> list[tuple[Path, int]]:
        """Paths whose mode the contract fixes, with that mode."""
        paths = [
            (self.folder, PRIVATE_DIR_MODE),
            (self.root, PRIVATE_DIR_MODE),
            (self.root / "private", PRIVATE_DIR_MODE),
            (self.key_path, KEY_FILE_MODE),
        ]
        return [(p, m) for p, m in paths if p.exists()]


def write_tree(
    staging_folder: Path,
    final_root: Path,
    *,
    key_pem: bytes,
    cert_pem: bytes,
    chain_pem: bytes,
) -> None:
    """Write a complete new tree into ``staging_folder`` (which must not exist).

    Args:
        staging_folder: Where to build it; it is renamed into place afterwards.
        final_root: The ``root_ca`` path the tree will have once in place
            (``openssl.cnf`` names it).
        key_pem: The private key, unencrypted PEM (the web UI's ``openssl ca`` needs it so).
        cert_pem: The CA certificate.
        chain_pem: ``cachain.pem``: the certificate and its issuers.
    """
    make_dir(staging_folder.parent.parent, PRIVATE_DIR_MODE)
    make_dir(staging_folder.parent, PRIVATE_DIR_MODE)
    staging_folder.mkdir(mode=PRIVATE_DIR_MODE)
    os.chmod(staging_folder, PRIVATE_DIR_MODE)
    root = staging_folder / ROOT_CA
    make_dir(root, PRIVATE_DIR_MODE)
    for name in SUBDIRS_PUBLIC:
        make_dir(root / name, PUBLIC_DIR_MODE)
    for name in SUBDIRS_PRIVATE:
        make_dir(root / name, PRIVATE_DIR_MODE)
    write_new(root / "private" / "cakey.pem", key_pem, KEY_FILE_MODE)
    write_new(root / "certs" / "cacert.pem", cert_pem, PUBLIC_FILE_MODE)
    write_new(root / "cachain.pem", chain_pem, PUBLIC_FILE_MODE)
    write_new(root / "openssl.cnf", openssl_cnf(final_root), PUBLIC_FILE_MODE)
    write_new(root / "serial", INITIAL_SERIAL, PUBLIC_FILE_MODE)
    write_new(root / "crlnumber", INITIAL_SERIAL, PUBLIC_FILE_MODE)
    write_new(root / "index.txt", b"", PUBLIC_FILE_MODE)
    write_new(root / "index.txt.attr", b"unique_subject = no\n", PUBLIC_FILE_MODE)
    for folder in (root / "private", root / "certs", root, staging_folder):
        fsync_dir(folder)


def restore_missing_parts(tree: CaTree) -> list[str]:
    """Create missing bookkeeping files and folders with the appliance's defaults.

    Never overwrites anything that exists. Returns what was created.
    """
    created: list[str] = []
    for name in SUBDIRS_PUBLIC:
        if not (tree.root / name).is_dir():
            make_dir(tree.root / name, PUBLIC_DIR_MODE)
            created.append(f"{name}/")
    for name in SUBDIRS_PRIVATE:
        if not (tree.root / name).is_dir():
            make_dir(tree.root / name, PRIVATE_DIR_MODE)
            created.append(f"{name}/")
    defaults = {
        "openssl.cnf": openssl_cnf(tree.root),
        "serial": INITIAL_SERIAL,
        "crlnumber": INITIAL_SERIAL,
        "index.txt": b"",
    }
    for name, data in defaults.items():
        if not (tree.root / name).is_file():
            atomic_write(tree.root / name, data, PUBLIC_FILE_MODE)
            created.append(name)
    return created
