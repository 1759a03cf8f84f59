"""Helpers shared by the benchmark scripts in this folder (not a benchmark itself).

The scripts import it as a sibling module: ``python bench/<name>.py`` puts ``bench/`` first
on ``sys.path``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

OPENSSL = shutil.which("openssl") or "openssl"

# The appliance's rootca_openssl.cnf (appliance-facts §3.4), with CA-DIRECTORY filled in:
# the sections and values create_ca.sh's ``openssl req -x509`` reads, and the [ca] part
# the web UI's ``openssl ca`` reads later. No default_md in [req]: OpenSSL 3 uses SHA-256.
APPLIANCE_CNF = """\
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
RANDFILE = $dir/private/.rand
x509_extensions = usr_cert
name_opt = ca_default
cert_opt = ca_default
default_days = 1825
default_crl_days = 30
default_md = sha1
preserve = no
policy = policy_match

[ policy_match ]
commonName = supplied
emailAddress = supplied

[ policy_anything ]
commonName = supplied
emailAddress = optional

[ req ]
default_bits = 4096
default_keyfile = privkey.pem
distinguished_name = req_distinguished_name
x509_extensions = v3_ca
string_mask = nombstr

[ req_distinguished_name ]
commonName = Common Name
commonName_max = 64
emailAddress = Email Address
emailAddress_max = 64

[ usr_cert ]
basicConstraints = CA:FALSE
nsComment = "OpenSSL Generated Certificate"
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer

[ v3_ca ]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer:always
basicConstraints = CA:true

[ v3_req ]
basicConstraints = CA:FALSE
keyUsage = nonRepudiation, digitalSignature, keyEncipherment

[ crl_ext ]
authorityKeyIdentifier = keyid:always,issuer:always
"""

TREE_SUBDIRS = ("certs", "crl", "newcerts", "private", "requests", "PFX")


def run(argv: Sequence[str], cwd: Path | None = None) -> bytes:
    """Run a command (argv list, never a shell) and return its stdout; raise on failure."""
    done = subprocess.run(list(argv), cwd=cwd, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode(errors='replace')}"
        )
    return done.stdout


def openssl_version() -> str:
    """``openssl version``, for the report header."""
    return run([OPENSSL, "version"]).decode().strip()


@dataclass(frozen=True)
class Subject:
    """The five fields of create_ca.sh's ``-subj``."""

    country: str = "DE"
    state: str = "Berlin"
    organization: str = "Bench Org"
    unit: str = "IT"
    common_name: str = "Bench Root CA"

    def subj(self) -> str:
        """``/C=../ST=../O=../OU=../CN=..`` as create_ca.sh passes it."""
        return (
            f"/C={self.country}/ST={self.state}/O={self.organization}"
            f"/OU={self.unit}/CN={self.common_name}"
        )


@dataclass
class Phases:
    """Seconds spent in the named phases of one run."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        """Accumulate ``value`` seconds into phase ``name``."""
        self.seconds[name] = self.seconds.get(name, 0.0) + value


def openssl_create_ca(
    ca_root: Path, directory: str, bits: int, days: int, subject: Subject
) -> Phases:
    """Do what create_ca.sh does (appliance-facts §3.3, steps 1-6) with the OpenSSL CLI.

    Folders one by one, ``serial``/``crlnumber`` = ``0100``, empty ``index.txt``, the
    config, ``openssl genrsa``, ``openssl req -x509``, ``cachain.pem`` copied from the
    certificate. The CipherMail import (step 7) and the web page's database row are not
    part of it. Like the appliance, nothing is fsynced.

    Returns:
        The time of the key generation (``genrsa``) and of the rest (``other``).
    """
    phases = Phases()
    start = time.perf_counter()
    folder = ca_root / directory
    root = folder / "root_ca"
    folder.mkdir()
    root.mkdir()
    for name in TREE_SUBDIRS:
        (root / name).mkdir()
    (root / "serial").write_bytes(b"0100\n")
    (root / "index.txt").touch()
    (root / "crlnumber").write_bytes(b"0100\n")
    (root / "openssl.cnf").write_text(APPLIANCE_CNF.format(root=root))
    phases.add("other", time.perf_counter() - start)

    start = time.perf_counter()
    run([OPENSSL, "genrsa", "-out", "./private/cakey.pem", str(bits)], cwd=root)
    phases.add("genrsa", time.perf_counter() - start)

    start = time.perf_counter()
    run(
        [
            OPENSSL,
            "req",
            "-x509",
            "-days",
            str(days),
            "-new",
            "-key",
            "./private/cakey.pem",
            "-out",
            "./certs/cacert.pem",
            "-config",
            "openssl.cnf",
            "-subj",
            subject.subj(),
        ],
        cwd=root,
    )
    shutil.copyfile(root / "certs" / "cacert.pem", root / "cachain.pem")
    phases.add("other", time.perf_counter() - start)
    return phases


def machine_note() -> str:
    """CPUs and load average: a load above the CPU count means noisy figures."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of ``action`` takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_ms(samples: Sequence[float]) -> float:
    """Median of second samples, in milliseconds."""
    return statistics.median(samples) * 1000.0


def describe_ms(samples: Sequence[float]) -> str:
    """``median (min-max)`` in milliseconds, for a table cell."""
    if not samples:
        return "-"
    return f"{median_ms(samples):9.2f} ({min(samples) * 1000:.2f}-{max(samples) * 1000:.2f})"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a plain left-aligned text table."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
