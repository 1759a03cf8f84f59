"""Create a CA end to end: ``CaService.create`` vs. the OpenSSL CLI as create_ca.sh does it.

Ours, per repetition, on a fresh embedded data folder: ``open_service`` (data folder,
security.conf, state folder), ``create`` (RSA key generation, self-signed certificate,
the tree written with fsync and renamed into place, journal, CipherMail rows in the
djigzo SQLite database, the ca_settings row, the audit record) and ``close``.

Theirs, per repetition, in the same run: appliance-facts §3.3 steps 1-6 (folders one by
one, serial/crlnumber/index.txt, the appliance's openssl.cnf, ``openssl genrsa``,
``openssl req -x509 ... -config openssl.cnf -subj ...``, cachain.pem copied).

RSA key generation time is random (the prime search), so the two sides alternate
(ours first on even repetitions, theirs first on odd ones) to share the machine's noise,
and medians are compared. Target: median(ours) / median(theirs) <= 1.0 for each key size.

Run: ``.venv/bin/python bench/bench_create.py [--reps-2048 N] [--reps-4096 N] [--bits B]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import (
    Phases,
    Subject,
    describe_ms,
    machine_note,
    median_ms,
    openssl_create_ca,
    openssl_version,
    print_table,
)
from cryptography.hazmat.primitives.asymmetric import rsa

from hermes_ca_tui.core import service as service_module
from hermes_ca_tui.core.session import embedded_profile, open_service
from hermes_ca_tui.core.validation import CreateRequest

# The service module's namespace, where CaService.create finds generate_key.
CORE_SERVICE: Any = service_module

TARGET_RATIO = 1.0
YEARS = 5
DAYS = YEARS * 365


@dataclass
class Samples:
    """Per-repetition seconds of one side, total and by phase."""

    total: list[float] = field(default_factory=list)
    keygen: list[float] = field(default_factory=list)
    rest: list[float] = field(default_factory=list)


class KeygenTimer:
    """Wraps the core's key generation to time it separately (it still runs unchanged)."""

    def __init__(self) -> None:
        self.last = 0.0
        self._original: Callable[[int], rsa.RSAPrivateKey] = CORE_SERVICE.generate_key

    def __enter__(self) -> KeygenTimer:
        original = self._original

        def timed_generate_key(bits: int) -> rsa.RSAPrivateKey:
            start = time.perf_counter()
            try:
                return original(bits)
            finally:
                self.last = time.perf_counter() - start

        CORE_SERVICE.generate_key = timed_generate_key
        return self

    def __exit__(self, *exc: object) -> None:
        CORE_SERVICE.generate_key = self._original


def run_ours(workdir: Path, bits: int, index: int, timer: KeygenTimer) -> tuple[float, float]:
    """One ``CaService.create`` on a fresh data folder; returns (total, keygen) seconds."""
    data_dir = workdir / f"ours-{bits}-{index}"
    request = CreateRequest(
        common_name=f"Bench Root CA {index}",
        organization="Bench Org",
        unit="IT",
        state="Berlin",
        country="DE",
        key_size=bits,
        years=YEARS,
    )
    start = time.perf_counter()
    service = open_service(embedded_profile(data_dir))
    try:
        details = service.create(request)
    finally:
        service.close()
    total = time.perf_counter() - start
    if details.summary.key_bits != bits or details.summary.problem is not None:
        raise RuntimeError(f"create produced an unexpected CA: {details.summary}")
    return total, timer.last


def run_theirs(workdir: Path, bits: int, index: int) -> tuple[float, float]:
    """One create_ca.sh-equivalent with the OpenSSL CLI; returns (total, genrsa) seconds."""
    ca_root = workdir / f"theirs-{bits}-{index}" / "CA"
    ca_root.mkdir(parents=True)
    start = time.perf_counter()
    phases: Phases = openssl_create_ca(
        ca_root, f"BenchRootCA{index}", bits, DAYS, Subject(common_name=f"Bench Root CA {index}")
    )
    total = time.perf_counter() - start
    if not (ca_root / f"BenchRootCA{index}" / "root_ca" / "cachain.pem").stat().st_size:
        raise RuntimeError("openssl produced an empty certificate")
    return total, phases.seconds["genrsa"]


def bench_size(workdir: Path, bits: int, reps: int, warmup: int) -> tuple[Samples, Samples]:
    """Alternate ours/theirs ``reps`` times (after ``warmup`` untimed rounds)."""
    ours, theirs = Samples(), Samples()
    with KeygenTimer() as timer:
        for index in range(-warmup, reps):
            order = ("ours", "theirs") if index % 2 == 0 else ("theirs", "ours")
            for side in order:
                if side == "ours":
                    total, keygen = run_ours(workdir, bits, index + warmup, timer)
                    target = ours
                else:
                    total, keygen = run_theirs(workdir, bits, index + warmup)
                    target = theirs
                if index >= 0:
                    target.total.append(total)
                    target.keygen.append(keygen)
                    target.rest.append(total - keygen)
            label = "warm-up" if index < 0 else f"repetition {index + 1}/{reps}"
            print(f"  RSA-{bits}: {label} done", file=sys.stderr, flush=True)
    return ours, theirs


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every key size meets the target, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps-2048", type=int, default=20, help="repetitions for 2048 bits")
    parser.add_argument("--reps-4096", type=int, default=10, help="repetitions for 4096 bits")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds per key size")
    parser.add_argument(
        "--bits", type=int, choices=(2048, 4096), action="append", help="only these key sizes"
    )
    args = parser.parse_args(argv)
    sizes = args.bits or [2048, 4096]
    reps = {2048: args.reps_2048, 4096: args.reps_4096}

    print(f"create a CA end to end; {openssl_version()}")
    print(f"machine at the start: {machine_note()}")
    rows: list[list[str]] = []
    verdicts: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-create-") as tmp:
        workdir = Path(tmp)
        for bits in sizes:
            ours, theirs = bench_size(workdir, bits, reps[bits], args.warmup)
            for label, samples, keygen_label in (
                ("ours (CaService.create)", ours, "keygen"),
                ("openssl CLI (create_ca.sh)", theirs, "genrsa"),
            ):
                rows.append(
                    [
                        str(bits),
                        label,
                        str(len(samples.total)),
                        describe_ms(samples.total),
                        f"{keygen_label} {describe_ms(samples.keygen)}",
                        describe_ms(samples.rest),
                    ]
                )
            verdicts.append((bits, median_ms(ours.total) / median_ms(theirs.total)))
            rest_ratio = median_ms(ours.rest) / median_ms(theirs.rest)
            print(
                f"  {bits}: everything but key generation, ours/openssl = {rest_ratio:.2f}",
                file=sys.stderr,
            )
    print(f"machine at the end: {machine_note()}")
    print()
    print_table(
        ["bits", "side", "n", "total ms median (min-max)", "key generation ms", "rest ms"],
        rows,
    )
    print()
    failed = False
    for bits, ratio in verdicts:
        ok = ratio <= TARGET_RATIO
        failed |= not ok
        verdict = "ok" if ok else "MISSED"
        print(f"RSA-{bits}: ratio ours/openssl = {ratio:.2f} (target <= {TARGET_RATIO}) {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
