"""One CertStore-style exec through a real engine: our exec path vs. the engine's own CLI.

In ``docker`` mode every trust change runs a command in ``hermes_ciphermail`` with a PEM
on its standard input. The appliance's web page does that with the ``docker exec -i`` CLI
(a process per call); the bridge talks to the engine's API itself
(``DockerImporter.run``: exec_create, exec_start with a hijacked socket, the PEM
written, the write half shut, frames read with a deadline, exec_inspect).

Both run here against podman's Docker-compatible API with the container the test tier
builds (``tests/engine/conftest.py``: a minimal rootfs, the host's ``/usr`` bind-mounted),
and the same command, ``/usr/bin/cat``, so that only the exec plumbing is measured, not
CertStore's JVM start:

- **Ours**: ``DockerImporter.run(["/usr/bin/cat"], pem)`` on one long-lived importer (as in
  the TUI or one CLI run); the echoed PEM is checked.
- **CLI**: ``podman --remote --url unix://<socket> exec -i hermes_ciphermail /usr/bin/cat``
  with the PEM on stdin (argv list, no shell), the same API service as ours: what
  ``docker exec -i`` is on the appliance.

The two alternate; medians are compared. Target: median(ours) / median(CLI) <= 1.0.
Needs podman, runc and conmon (``.ci/run`` installs them) and root, like the engine tier.

Run: ``.venv/bin/python bench/bench_bridge.py [--reps N]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import describe_ms, machine_note, median_ms, print_table, timed

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from hermes_ca_tui.core.profile import utc_now  # noqa: E402
from hermes_ca_tui.core.trust.docker_importer import DockerImporter  # noqa: E402
from tests.engine.conftest import (  # noqa: E402
    CONTAINER,
    EngineUnavailable,
    start_engine,
    stop_engine,
)

TARGET = 1.0


def sample_pem() -> bytes:
    """A self-signed RSA-4096 CA certificate: what CertStore is given."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Bench Root CA")])
    now = utc_now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now.replace(year=now.year + 5))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def main() -> int:
    """Run the comparison; exit 1 when the target is missed, 2 when no engine starts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20, help="runs of each side")
    args = parser.parse_args()

    pem = sample_pem()
    with tempfile.TemporaryDirectory(prefix="hermes-bench-engine-") as folder:
        base = Path(folder) / "engine"
        base.mkdir()
        socket_dir = Path(folder) / "pgsock"  # the container mounts it; nothing uses it here
        socket_dir.mkdir()
        try:
            engine = start_engine(base, str(socket_dir))
        except EngineUnavailable as exc:
            print(f"podman engine unavailable: {exc}", file=sys.stderr)
            return 2
        try:
            importer = DockerImporter(engine.url, CONTAINER, timeout=30)
            cli = [
                "podman",
                "--remote",
                "--url",
                engine.url,
                "exec",
                "-i",
                CONTAINER,
                "/usr/bin/cat",
            ]

            def ours() -> None:
                result = importer.run(["/usr/bin/cat"], pem)
                assert result.exit_code == 0 and result.stdout == pem, result

            def theirs() -> None:
                done = subprocess.run(cli, input=pem, capture_output=True, env=engine.env)
                assert done.returncode == 0 and done.stdout == pem, done.stderr

            ours()  # warm-up: the SDK's version handshake, the first exec session
            theirs()
            our_ms: list[float] = []
            cli_ms: list[float] = []
            for _ in range(args.reps):
                our_ms.append(timed(ours))
                cli_ms.append(timed(theirs))
        finally:
            stop_engine(engine)

    ratio = median_ms(our_ms) / median_ms(cli_ms)
    print(machine_note())
    print(f"exec of /usr/bin/cat with a {len(pem)}-byte PEM on stdin, {args.reps} runs each")
    print_table(
        ["side", "time per exec"],
        [
            ["ours (DockerImporter.run)", describe_ms(our_ms)],
            ["podman --remote exec -i", describe_ms(cli_ms)],
        ],
    )
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"ratio ours/CLI = {ratio:.2f} ({verdict} the target <= {TARGET})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
