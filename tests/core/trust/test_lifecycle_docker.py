"""The whole lifecycle on PostgreSQL with the CipherMail bridge in docker mode (fake engine).

Every operation goes through the real Docker SDK to the fake engine, whose CertStore
stand-in writes CipherMail's row into the test djigzo database. Then every way the
engine can fail, for every operation that imports: the error names what is missing and
how to check it, and the operation is undone in all three stores.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.findings import FindingCode
from hermes_ca_tui.core.ops.importing import ImportRequest
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile, open_service
from hermes_ca_tui.core.trust.docker_importer import CERTSTORE_COMMAND
from hermes_ca_tui.messages import describe
from tests.fake_docker import CertStoreStandIn, FakeDockerEngine
from tests.support import build_cert, create_request, rsa_key, write_pair
from tests.trust_support import (
    assert_one_truth,
    execute,
    read_stores,
    run_cli_config,
    run_lifecycle,
    thumbprint_of,
    write_config,
)

pytestmark = [pytest.mark.docker, pytest.mark.postgres]

CONTAINER = "hermes_ciphermail"


def test_the_whole_lifecycle_through_the_engine(
    docker_profile: Profile,
    fake_engine: FakeDockerEngine,
    certstore: CertStoreStandIn,
    tmp_path: Path,
) -> None:
    run = run_lifecycle(docker_profile, tmp_path / "work")

    # One CertStore run per certificate CipherMail had to learn: create, import, renew.
    execs = fake_engine.exec_records()
    assert [e.stdin for e in execs] == run.imported
    for record in execs:
        assert record.argv == [*CERTSTORE_COMMAND, "--import-certificates"]
        assert record.stdin_closed and record.exit_code == 0
        assert not record.config.get("Env")
    assert [r.outcome.stdout for r in certstore.runs] == [b"1 new certificate(s) imported\n"] * 3
    assert fake_engine.abandoned == []
    assert_one_truth(run.final)


# --- failures: each undone in all three stores ----------------------------------------

FAILURES = ["exit_code", "timeout", "no_row", "no_socket", "no_container", "stopped"]
OPERATIONS = ["create", "import", "renew"]


def break_engine(
    kind: str, profile: Profile, engine: FakeDockerEngine, certstore: CertStoreStandIn
) -> tuple[Profile, Code, list[str]]:
    """Break the engine one way; the profile to use, the expected code and message parts."""
    socket_hint = f"ls -l {engine.socket_path}"
    container_hint = f"docker ps --filter name={CONTAINER}"
    if kind == "exit_code":
        certstore.settings.mode = "fail"
        return profile, Code.TRUST_FAILED, ["CertStore exited with 3: Exception in thread main"]
    if kind == "timeout":
        certstore.settings.mode = "hang"
        return (
            replace(profile, docker_timeout=1.0),
            Code.TRUST_UNAVAILABLE,
            ["CertStore --import-certificates did not finish within 1 s"],
        )
    if kind == "no_row":
        certstore.settings.mode = "silent"
        return profile, Code.TRUST_FAILED, ["did not appear in cm_certificates"]
    if kind == "no_socket":
        missing = engine.folder / "gone.sock"
        return (
            replace(profile, docker_url=f"unix://{missing}"),
            Code.TRUST_UNAVAILABLE,
            [f"the Docker socket {missing} does not exist", f"ls -l {missing}"],
        )
    if kind == "no_container":
        engine.remove_container(CONTAINER)
        return profile, Code.TRUST_UNAVAILABLE, [f"no container named {CONTAINER}", container_hint]
    if kind == "stopped":
        engine.stop_container(CONTAINER)
        return (
            profile,
            Code.TRUST_UNAVAILABLE,
            [f"the container {CONTAINER} is not running", container_hint, socket_hint],
        )
    raise AssertionError(kind)


def audit_outcomes(profile: Profile) -> list[str]:
    lines = profile.audit_log.read_text().splitlines() if profile.audit_log.exists() else []
    return [str(json.loads(line)["outcome"]) for line in lines if line]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("kind", FAILURES)
def test_an_engine_failure_gives_its_error_and_undoes_the_operation(
    docker_profile: Profile,
    fake_engine: FakeDockerEngine,
    certstore: CertStoreStandIn,
    tmp_path: Path,
    kind: str,
    operation: str,
) -> None:
    # A working start: one CA ("Alpha Root", default) trusted through the engine.
    with_engine = open_service(docker_profile)
    try:
        with_engine.create(create_request("Alpha Root"))
    finally:
        with_engine.close()
    before = read_stores(docker_profile)
    assert_one_truth(before)
    old_tp = before.tree_thumbprint(before.rows["alpha root"].directory)
    runs_before = len(certstore.runs)

    profile, code, parts = break_engine(kind, docker_profile, fake_engine, certstore)
    action: Callable[[CaService], object]
    if operation == "create":

        def action(service: CaService) -> object:
            return service.create(create_request("Gamma Root"))

    elif operation == "import":
        key = rsa_key(2048, 31)
        files = write_pair(tmp_path / "input", build_cert("Delta Import CA", key), key)

        def action(service: CaService) -> object:
            plan = service.inspect_import(
                ImportRequest(name="Delta Import", cert_file=files.cert, key_file=files.key)
            )
            return service.import_ca(plan, accept_warnings=True)

    else:

        def action(service: CaService) -> object:
            return service.renew(service.plan_renew("Alpha Root"), accept_warnings=True)

    service = open_service(profile)
    started = time.monotonic()
    try:
        with pytest.raises(CaError) as info:
            action(service)
    finally:
        service.close()
    elapsed = time.monotonic() - started

    error = info.value
    assert error.code is code, error
    text = describe(error).text
    for part in parts:
        assert part in text, text
    assert elapsed < 10, f"blocked {elapsed:.1f} s"
    # Undone in all three stores: the same rows, trees, trust rows, nothing pending.
    after = read_stores(docker_profile)
    assert after == before
    assert after.trusted(old_tp), "the old certificate is still trusted"
    assert after.staging == []
    assert audit_outcomes(docker_profile)[-1] == f"failed:{code.name}"
    ran = certstore.runs[runs_before:]
    if kind in ("exit_code", "no_row"):
        assert len(ran) == 1, "CertStore ran once and failed"
    elif kind != "timeout":
        assert ran == [], "CertStore never ran"


def test_a_certstore_hang_released_later_changes_nothing(
    docker_profile: Profile, fake_engine: FakeDockerEngine, certstore: CertStoreStandIn
) -> None:
    """After the timeout the operation is undone; the killed CertStore leaves nothing."""
    certstore.settings.mode = "hang"
    service = open_service(replace(docker_profile, docker_timeout=1.0))
    try:
        with pytest.raises(CaError) as info:
            service.create(create_request("Slow Root"))
    finally:
        service.close()
    assert info.value.code is Code.TRUST_UNAVAILABLE
    fake_engine.release.set()
    deadline = time.monotonic() + 10
    while not fake_engine.abandoned and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fake_engine.abandoned) == 1, "the engine finished the abandoned exec"
    stores = read_stores(docker_profile)
    assert (stores.rows, stores.trees, stores.cm, stores.ctl) == ({}, {}, [], {})


def test_a_certstore_that_imports_after_its_timeout_is_taken_over_by_the_retry(
    docker_profile: Profile,
    fake_engine: FakeDockerEngine,
    certstore: CertStoreStandIn,
    tmp_path: Path,
) -> None:
    """CertStore finished late: CipherMail holds the certificate, untrusted, without a CA.

    The retried import uses that row (no second CertStore run). (A retry that dies
    before its commit gives the row back as CipherMail had it: test_crash_docker's
    ``import.trusted+known``.)
    """
    key = rsa_key(2048, 32)
    cert = build_cert("Late Import CA", key)
    tp = thumbprint_of(cert)
    files = write_pair(tmp_path / "input", cert, key)
    request = ImportRequest(name="Late Import", cert_file=files.cert, key_file=files.key)
    certstore.settings.mode, certstore.settings.after_hang = "hang", "import"
    slow = open_service(replace(docker_profile, docker_timeout=1.0))
    try:
        with pytest.raises(CaError) as info:
            slow.import_ca(slow.inspect_import(request), accept_warnings=True)
    finally:
        slow.close()
    assert info.value.code is Code.TRUST_UNAVAILABLE
    fake_engine.release.set()
    deadline = time.monotonic() + 10
    while not read_stores(docker_profile).by_thumbprint(tp) and time.monotonic() < deadline:
        time.sleep(0.02)
    late = read_stores(docker_profile)
    assert late.stores_of(tp) == ["certificates"] and tp not in late.ctl
    assert late.rows == {} and late.trees == {}

    # The retry: CertStore is not needed again; the row becomes the CA's trusted root.
    certstore.settings.mode = "ok"
    service = open_service(docker_profile)
    try:
        details = service.import_ca(service.inspect_import(request), accept_warnings=True)
    finally:
        service.close()
    assert len(certstore.runs) == 1, "the retry found the row CipherMail already had"
    stores = read_stores(docker_profile)
    assert_one_truth(stores)
    assert stores.rows["late import"].djigzo_id == late.by_thumbprint(tp)[0].cm_id
    assert details.summary.trust.value == "trusted"


# --- doctor: trust drift found and repaired through the engine ------------------------


def test_doctor_finds_trust_drift_and_repairs_it_through_the_engine(
    docker_service: CaService, docker_profile: Profile, certstore: CertStoreStandIn
) -> None:
    alpha = docker_service.create(create_request("Alpha Root"))
    beta = docker_service.create(create_request("Beta Root"))
    gone = docker_service.create(create_request("Gone Root"))
    delta = docker_service.create(create_request("Delta Root"))
    epsilon = docker_service.create(create_request("Epsilon Root"))
    stores = read_stores(docker_profile)
    alpha_tp = stores.tree_thumbprint(alpha.summary.directory)
    beta_tp = stores.tree_thumbprint(beta.summary.directory)
    delta_tp = stores.tree_thumbprint(delta.summary.directory)
    epsilon_tp = stores.tree_thumbprint(epsilon.summary.directory)
    gone_pem = stores.trees[gone.summary.directory]
    docker_service.delete("Gone Root")
    runs = len(certstore.runs)

    # Alpha: CipherMail lost it entirely. Beta: blacklisted. Gone: trusted again by hand.
    djigzo = docker_profile.djigzo_url
    execute(
        djigzo,
        "DELETE FROM cm_ctl_cm_name_values WHERE cm_ctl IN "
        "(SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = %s)",
        (alpha_tp,),
    )
    execute(djigzo, "DELETE FROM cm_ctl WHERE cm_thumbprint = %s", (alpha_tp,))
    execute(djigzo, "DELETE FROM cm_certificates WHERE cm_thumbprint = %s", (alpha_tp,))
    execute(
        djigzo,
        "UPDATE cm_ctl_cm_name_values SET cm_value = 'blacklisted' WHERE cm_name = 'status' "
        "AND cm_ctl = (SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = %s)",
        (beta_tp,),
    )
    # Delta: its CTL entry is gone. Epsilon: moved back to CipherMail's default store.
    execute(
        djigzo,
        "DELETE FROM cm_ctl_cm_name_values WHERE cm_ctl IN "
        "(SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = %s)",
        (delta_tp,),
    )
    execute(djigzo, "DELETE FROM cm_ctl WHERE cm_thumbprint = %s", (delta_tp,))
    execute(
        djigzo,
        "UPDATE cm_certificates SET cm_store_name = 'certificates' WHERE cm_thumbprint = %s",
        (epsilon_tp,),
    )
    from cryptography import x509

    docker_service.ctx.bridge.register(x509.load_pem_x509_certificate(gone_pem))
    runs_after_drift = len(certstore.runs)
    assert runs_after_drift == runs + 1

    report = docker_service.doctor()
    found = {(f.ca, f.code) for f in report.findings}
    assert ("Alpha Root", FindingCode.NOT_TRUSTED) in found
    assert ("Beta Root", FindingCode.NOT_WHITELISTED) in found
    assert ("Delta Root", FindingCode.CTL_MISSING) in found
    assert ("Epsilon Root", FindingCode.NOT_IN_ROOTS) in found
    assert any(f.code is FindingCode.TRUST_ORPHANED for f in report.findings)
    assert all(f.repairable for f in report.findings), report.findings

    fixed, after = docker_service.repair()
    assert after.ok, after.findings
    assert len(fixed) == len(report.findings)
    stores = read_stores(docker_profile)
    assert_one_truth(stores)
    assert stores.absent(thumbprint_of(gone_pem))
    # Only Alpha needed CertStore again; the other repairs are plain SQL.
    assert [r.stdin for r in certstore.runs[runs_after_drift:]] == [
        stores.trees[alpha.summary.directory]
    ]


# --- config check ----------------------------------------------------------------------


def test_config_check_reports_the_engine_and_the_container(
    docker_profile: Profile, fake_engine: FakeDockerEngine, tmp_path: Path
) -> None:
    config = write_config(docker_profile, tmp_path / "hermes-ca-tui.toml")

    def ciphermail() -> tuple[int, dict[str, object]]:
        result = run_cli_config(config, "config", "check", "--json")
        doc = json.loads(result.stdout)
        [store] = [s for s in doc["stores"] if s["name"] == "ciphermail"]
        return result.returncode, store

    assert ciphermail() == (
        0,
        {"name": "ciphermail", "ok": True, "detail": f"docker {fake_engine.url} -> {CONTAINER}"},
    )

    fake_engine.stop_container(CONTAINER)
    code, store = ciphermail()
    assert code == 4 and store["ok"] is False
    assert str(store["detail"]).startswith(f"the container {CONTAINER} is exited. Check that")
    assert f"docker ps --filter name={CONTAINER}" in str(store["detail"])

    fake_engine.remove_container(CONTAINER)
    code, store = ciphermail()
    assert code == 4
    assert str(store["detail"]).startswith(f"there is no container named {CONTAINER}.")

    missing = fake_engine.folder / "gone.sock"
    write_config(replace(docker_profile, docker_url=f"unix://{missing}"), config)
    code, store = ciphermail()
    assert code == 4
    assert f"the Docker socket {missing} does not exist" in str(store["detail"])
    assert f"ls -l {missing}" in str(store["detail"])

    text = run_cli_config(config, "config", "check")
    assert text.returncode == 4
    assert f"ciphermail: FAILED (the Docker socket {missing} does not exist" in text.stdout
    assert "Traceback" not in text.stdout + text.stderr
