"""Import validation of an RSA-4096 CA: ``inspect_import`` vs. the web page's openssl runs.

The CA to import is made once with the OpenSSL CLI exactly as the appliance makes one
(create_ca.sh with its openssl.cnf: PKCS#8 key, ``CA:TRUE``, no keyUsage).

Ours: ``CaService.inspect_import`` on a long-lived service (as in the TUI or one CLI
run): name rules, duplicate name, reading both files, parsing the certificate and the
key, the key/certificate match (arithmetic, see ``hermes_ca_tui/core/keys.py``), CA:TRUE,
duplicate key, chain and warnings. It writes nothing.

Theirs: the web page's validation script (appliance-facts §1.3 step 4) as subprocesses
(argv lists, no shell): ``openssl x509 -noout -modulus``, ``openssl rsa -noout -modulus``,
the MD5 of both modulus lines compared (in Python, which spares them two ``openssl md5``
processes and the shell the real script forks: a conservative comparison), and
``openssl x509 -noout -text`` searched for ``CA:TRUE``.

The two alternate, medians are compared. Target: median(theirs) / median(ours) >= 2.
For information it also times cryptography's key loading with and without its RSA key
validation, which is why the core skips that validation and checks the arithmetic.

Run: ``.venv/bin/python bench/bench_import.py [--reps N] [--validation-reps N]``
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

from benchlib import (
    OPENSSL,
    Subject,
    describe_ms,
    machine_note,
    median_ms,
    openssl_create_ca,
    openssl_version,
    print_table,
    run,
)
from cryptography.hazmat.primitives import serialization

from hermes_ca_tui.core.ops.importing import ImportRequest
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import embedded_profile, open_service
from hermes_ca_tui.core.validation import CreateRequest

TARGET_RATIO = 2.0
BITS = 4096
IMPORT_NAME = "External Root CA"


def md5(data: bytes) -> bytes:
    """MD5, as the web page's script compares the modulus lines (not for security)."""
    return hashlib.md5(data, usedforsecurity=False).digest()


def web_page_validation(cert: Path, key: Path) -> str:
    """The web page's validate_ca.sh verdict, from the same openssl invocations."""
    try:
        cert_modulus = run([OPENSSL, "x509", "-noout", "-modulus", "-in", str(cert)])
    except RuntimeError:
        return "INVALID_CERT"
    try:
        key_modulus = run([OPENSSL, "rsa", "-noout", "-modulus", "-in", str(key)])
    except RuntimeError:
        return "INVALID_KEY"
    if md5(cert_modulus) != md5(key_modulus):
        return "KEY_MISMATCH"
    text = run([OPENSSL, "x509", "-noout", "-text", "-in", str(cert)])
    if b"CA:TRUE" not in text:
        return "NOT_CA"
    return "VALID"


def make_external_ca(workdir: Path) -> tuple[Path, Path]:
    """An RSA-4096 CA made by the OpenSSL CLI; returns (cert, key) paths."""
    ca_root = workdir / "external"
    ca_root.mkdir()
    openssl_create_ca(ca_root, "ExternalRootCA", BITS, 1825, Subject(common_name=IMPORT_NAME))
    root = ca_root / "ExternalRootCA" / "root_ca"
    return root / "certs" / "cacert.pem", root / "private" / "cakey.pem"


def seed_service(workdir: Path, existing: int) -> CaService:
    """A service on a fresh data folder holding ``existing`` CAs (2048 bits)."""
    service = open_service(embedded_profile(workdir / "data"))
    for index in range(existing):
        service.create(
            CreateRequest(
                common_name=f"Existing CA {index}",
                organization="Bench Org",
                unit="IT",
                state="Berlin",
                country="DE",
                key_size=2048,
            )
        )
    return service


def time_key_loading(key_pem: bytes, reps: int) -> tuple[list[float], list[float]]:
    """Seconds to load the key with cryptography's validation, and with it skipped."""
    validated: list[float] = []
    skipped: list[float] = []
    for _ in range(reps):
        start = time.perf_counter()
        serialization.load_pem_private_key(key_pem, password=None)
        validated.append(time.perf_counter() - start)
        start = time.perf_counter()
        serialization.load_pem_private_key(
            key_pem, password=None, unsafe_skip_rsa_key_validation=True
        )
        skipped.append(time.perf_counter() - start)
    return validated, skipped


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when the target is met, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100, help="timed repetitions per side")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds per side")
    parser.add_argument(
        "--validation-reps",
        type=int,
        default=10,
        help="repetitions of the (slow) key loading with cryptography's validation",
    )
    parser.add_argument(
        "--existing", type=int, default=2, help="CAs already in the data folder (2048 bits)"
    )
    args = parser.parse_args(argv)

    print(f"import validation of an RSA-{BITS} CA; {openssl_version()}")
    print(f"machine at the start: {machine_note()}")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        workdir = Path(tmp)
        cert, key = make_external_ca(workdir)
        service = seed_service(workdir, args.existing)
        request = ImportRequest(name=IMPORT_NAME, cert_file=cert, key_file=key)
        try:
            ours: list[float] = []
            theirs: list[float] = []
            for index in range(-args.warmup, args.reps):
                order = ("ours", "theirs") if index % 2 == 0 else ("theirs", "ours")
                for side in order:
                    start = time.perf_counter()
                    if side == "ours":
                        plan = service.inspect_import(request)
                        elapsed = time.perf_counter() - start
                        if plan.facts.key_bits != BITS or not plan.facts.is_ca:
                            raise RuntimeError(f"unexpected import plan: {plan}")
                        if index >= 0:
                            ours.append(elapsed)
                    else:
                        verdict = web_page_validation(cert, key)
                        elapsed = time.perf_counter() - start
                        if verdict != "VALID":
                            raise RuntimeError(f"the web page's checks said {verdict}")
                        if index >= 0:
                            theirs.append(elapsed)
            warnings = ", ".join(w.code.value for w in plan.warnings) or "none"
        finally:
            service.close()
        validated, skipped = time_key_loading(key.read_bytes(), args.validation_reps)

    ratio = median_ms(theirs) / median_ms(ours)
    with_validation = median_ms(ours) + median_ms(validated) - median_ms(skipped)
    print(f"(existing CAs in the data folder: {args.existing}; plan warnings: {warnings})")
    print(f"machine at the end: {machine_note()}")
    print()
    print_table(
        ["side", "n", "ms median (min-max)"],
        [
            ["ours: CaService.inspect_import", str(len(ours)), describe_ms(ours)],
            ["web page: 3 openssl runs + MD5", str(len(theirs)), describe_ms(theirs)],
        ],
    )
    print()
    print("for information: loading the RSA-4096 key with cryptography")
    print_table(
        ["load_pem_private_key", "n", "ms median (min-max)"],
        [
            ["default (validates the key)", str(len(validated)), describe_ms(validated)],
            ["unsafe_skip_rsa_key_validation=True", str(len(skipped)), describe_ms(skipped)],
        ],
    )
    print(
        f"ours with cryptography's validation would take about {with_validation:.1f} ms: "
        f"ratio {median_ms(theirs) / with_validation:.2f} instead of {ratio:.2f}"
    )
    print()
    ok = ratio >= TARGET_RATIO
    verdict = "ok" if ok else "MISSED"
    print(
        f"RSA-{BITS} import: ratio openssl/ours = {ratio:.2f} (target >= {TARGET_RATIO}) {verdict}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
