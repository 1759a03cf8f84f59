"""``list`` issues the same number of database statements for 10 and for 1,000 CAs.

For each size a fresh embedded data folder is filled with real CAs, quickly: one RSA-2048
key is shared by all of them (generating 1,000 keys would take minutes), each CA gets
its own self-signed certificate from the core's profile, a complete tree written by the
core's ``write_tree`` (with fsync), its CipherMail rows through the core's bridge (the
certificate row in the roots store plus the whitelisted CTL entry) and its
``ca_settings`` row through the hermes repository. ``list`` therefore does its real
work: one row, one tree and one trust entry per CA.

Then, on a new service (cold: connections opened, every certificate parsed) and again on
the same service (warm: the certificate cache only stats the files), the statements that
one ``CaService.list_cas()`` runs are counted with ``Database.statements`` on both the
hermes and the djigzo database. The wall time is printed for information.

Target: the statement counts are equal for every size (exit 1 otherwise).

Run: ``.venv/bin/python bench/bench_list.py [--sizes 10 1000] [--reps N]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import machine_note, print_table
from cryptography.hazmat.primitives.asymmetric import rsa

from hermes_ca_tui.core.keys import key_pem
from hermes_ca_tui.core.ops.common import cert_pem
from hermes_ca_tui.core.profile import (
    SubjectFields,
    build_ca_certificate,
    build_subject,
    generate_key,
    utc_now,
)
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import embedded_profile, open_service
from hermes_ca_tui.core.store.records import NewCaRow
from hermes_ca_tui.core.tree import CaTree, write_tree
from hermes_ca_tui.core.trust.state import TrustState

DAYS = 1825


@dataclass(frozen=True)
class Measure:
    """Statements and seconds of one ``list_cas()`` call."""

    hermes: int
    djigzo: int
    seconds: float
    rows: int

    @property
    def counts(self) -> tuple[int, int]:
        """(hermes, djigzo) statements."""
        return self.hermes, self.djigzo


def populate(data_dir: Path, count: int, key: rsa.RSAPrivateKey) -> float:
    """Fill a fresh data folder with ``count`` CAs sharing ``key``; returns seconds taken."""
    start = time.perf_counter()
    service = open_service(embedded_profile(data_dir))
    ctx = service.ctx
    try:
        now = utc_now()
        key_bytes = key_pem(key)
        rows: list[NewCaRow] = []
        for index in range(count):
            name = f"Bench CA {index:05d}"
            directory = f"BenchCA{index:05d}"
            cert = build_ca_certificate(
                key,
                build_subject(
                    SubjectFields(
                        common_name=name,
                        organization="Bench Org",
                        unit="IT",
                        state="Berlin",
                        country="DE",
                    )
                ),
                DAYS,
                now,
            )
            tree = CaTree.at(ctx.paths.ca_root, directory)
            pem = cert_pem(cert)
            write_tree(tree.folder, tree.root, key_pem=key_bytes, cert_pem=pem, chain_pem=pem)
            cm_id = ctx.bridge.register(cert)
            rows.append(
                NewCaRow(
                    common_name=name,
                    directory=directory,
                    validity=str(DAYS),
                    expires=cert.not_valid_after_utc.date(),
                    encryption="2048",
                    organization="Bench Org",
                    unit="IT",
                    state="Berlin",
                    country="DE",
                    applied=2,
                    default=False,
                    djigzo_id=cm_id,
                    djigzo_subject=f"CN={name}, OU=IT, O=Bench Org, ST=Berlin, C=DE",
                )
            )
        with ctx.hermes.database.transaction() as tx:
            ids = [ctx.hermes.insert_ca(tx, row) for row in rows]
            if ids:
                ctx.hermes.make_default(tx, ids[0])
    finally:
        service.close()
    return time.perf_counter() - start


def measure(service: CaService, expected: int) -> Measure:
    """Count the statements of one ``list_cas()`` and check it saw every CA trusted."""
    hermes_db = service.ctx.hermes.database
    djigzo_db = service.ctx.bridge.djigzo.database
    hermes_before, djigzo_before = hermes_db.statements, djigzo_db.statements
    start = time.perf_counter()
    summaries = service.list_cas()
    seconds = time.perf_counter() - start
    result = Measure(
        hermes=hermes_db.statements - hermes_before,
        djigzo=djigzo_db.statements - djigzo_before,
        seconds=seconds,
        rows=len(summaries),
    )
    if len(summaries) != expected:
        raise RuntimeError(f"list returned {len(summaries)} CAs, expected {expected}")
    broken = [s for s in summaries if s.problem or s.trust is not TrustState.TRUSTED]
    if broken:
        raise RuntimeError(f"{len(broken)} CAs are not listed as healthy, e.g. {broken[0]}")
    return result


def bench_size(data_dir: Path, count: int, reps: int) -> tuple[list[Measure], list[Measure]]:
    """``reps`` cold lists (each on a new service) and ``reps`` warm ones (same service)."""
    cold: list[Measure] = []
    warm: list[Measure] = []
    for _ in range(reps):
        service = open_service(embedded_profile(data_dir))
        try:
            cold.append(measure(service, count))
        finally:
            service.close()
    service = open_service(embedded_profile(data_dir))
    try:
        measure(service, count)
        warm.extend(measure(service, count) for _ in range(reps))
    finally:
        service.close()
    return cold, warm


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every size issues the same statements, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10, 1000], help="numbers of CAs to compare"
    )
    parser.add_argument("--reps", type=int, default=5, help="cold and warm lists per size")
    args = parser.parse_args(argv)

    print("list: database statements per list_cas() call")
    print(f"machine at the start: {machine_note()}")
    rows: list[list[str]] = []
    counts: dict[tuple[int, str], tuple[int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-list-") as tmp:
        workdir = Path(tmp)
        key = generate_key(2048)
        for count in args.sizes:
            data_dir = workdir / f"cas-{count}"
            built = populate(data_dir, count, key)
            print(f"  {count} CAs built in {built:.1f} s", file=sys.stderr, flush=True)
            cold, warm = bench_size(data_dir, count, args.reps)
            for label, measures in (("cold", cold), ("warm", warm)):
                distinct = {m.counts for m in measures}
                if len(distinct) != 1:
                    print(f"  {count} {label}: counts vary between calls: {sorted(distinct)}")
                counts[(count, label)] = max(distinct)
                seconds = statistics.median(m.seconds for m in measures)
                per_ca = seconds / count * 1e6 if count else 0.0
                hermes, djigzo = counts[(count, label)]
                rows.append(
                    [
                        str(count),
                        label,
                        str(hermes),
                        str(djigzo),
                        f"{seconds * 1000:.1f}",
                        f"{per_ca:.0f}",
                    ]
                )
    print(f"machine at the end: {machine_note()}")
    print()
    print_table(["CAs", "service", "hermes stmts", "djigzo stmts", "ms median", "µs per CA"], rows)
    print()
    failed = False
    for label in ("cold", "warm"):
        per_size = {count: counts[(count, label)] for count in args.sizes}
        same = len(set(per_size.values())) == 1
        failed |= not same
        shown = ", ".join(f"{c} CAs: {h}+{d}" for c, (h, d) in per_size.items())
        verdict = "ok (same)" if same else "MISSED (differ)"
        print(f"{label} list statements (hermes+djigzo): {shown} {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
