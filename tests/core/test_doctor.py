"""doctor: every kind of drift, planted by hand, is found; the safe ones are repaired.

Drift is created the way an operator or a broken script would: ``sqlite3`` statements on
the database files, ``chmod``, deleting and overwriting files in the tree, inserting and
deleting CipherMail rows. The core is only used to build the healthy starting point and
to diagnose and repair.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hermes_ca_tui.core import certinfo
from hermes_ca_tui.core.certinfo import thumbprint
from hermes_ca_tui.core.context import STATE_DIR
from hermes_ca_tui.core.doctor import DoctorReport
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.findings import Finding, FindingCode
from hermes_ca_tui.core.ops.importing import ImportRequest
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.session import Profile, open_service
from hermes_ca_tui.core.tree import CaTree
from hermes_ca_tui.core.trust.state import TrustState
from hermes_ca_tui.core.views import CaDetails
from tests.support import build_cert, create_request, rsa_key, write_pair

# --- the lab: two healthy CAs and raw access to every store ---------------------------


@dataclass
class Lab:
    """A data folder with two CAs (Alpha is the default) and raw access to the stores."""

    service: CaService
    profile: Profile
    data_dir: Path
    alpha: CaDetails
    beta: CaDetails

    @property
    def ca_root(self) -> Path:
        return self.profile.ca_root

    def tree(self, ca: CaDetails) -> CaTree:
        return CaTree.at(self.ca_root, ca.summary.directory)

    @contextmanager
    def hermes(self) -> Iterator[sqlite3.Connection]:
        with _connect(self.data_dir / "hermes.sqlite3") as conn:
            yield conn

    @contextmanager
    def djigzo(self) -> Iterator[sqlite3.Connection]:
        with _connect(self.data_dir / "djigzo.sqlite3") as conn:
            yield conn

    def diagnose(self) -> DoctorReport:
        return self.service.doctor()

    def diagnose_afresh(self) -> DoctorReport:
        """Diagnose from a new session, as the next CLI run would."""
        other = open_service(self.profile)
        try:
            return other.doctor()
        finally:
            other.close()


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        with conn:
            yield conn


@pytest.fixture
def lab(service: CaService, profile: Profile, data_dir: Path) -> Lab:
    alpha = service.create(create_request("Alpha Root"))
    beta = service.create(create_request("Beta Root"))
    assert alpha.summary.default and not beta.summary.default
    report = service.doctor()
    assert report.ok, report.findings
    return Lab(service, profile, data_dir, alpha, beta)


def summary(report: DoctorReport) -> set[tuple[FindingCode, str, bool]]:
    """What a report says, without message parameters."""
    return {(f.code, f.ca, f.repairable) for f in report.findings}


def tp_of(ca: CaDetails) -> str:
    """CipherMail's thumbprint of a CA's current certificate."""
    assert ca.facts is not None
    return ca.facts.thumbprint


def only(report: DoctorReport, code: FindingCode) -> Finding:
    found = [f for f in report.findings if f.code is code]
    assert len(found) == 1, report.findings
    return found[0]


def replace_file(path: Path, data: bytes, mode: int | None = None) -> None:
    """Overwrite a file the way an editor does (new inode), keeping its mode."""
    if mode is None:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    tmp = path.with_name(f"{path.name}.planted")
    tmp.write_bytes(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Any) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def foreign_root(cn: str = "Someone Elses Root", index: int = 7) -> x509.Certificate:
    return build_cert(cn, rsa_key(2048, index))


def insert_root_by_hand(lab: Lab, cert: x509.Certificate, *, ctl: bool = True) -> str:
    """Insert a whitelisted roots row for ``cert`` with plain SQL; returns its thumbprint."""
    tp = thumbprint(cert)
    with lab.djigzo() as conn:
        conn.execute(
            "INSERT INTO cm_certificates (cm_subject, cm_certificate, cm_thumbprint, "
            "cm_store_name) VALUES (?, ?, ?, 'roots')",
            (cert.subject.rfc4514_string(), cert.public_bytes(serialization.Encoding.DER), tp),
        )
        if ctl:
            ctl_id = conn.execute(
                "INSERT INTO cm_ctl (cm_name, cm_thumbprint) VALUES ('global', ?)", (tp,)
            ).lastrowid
            conn.executemany(
                "INSERT INTO cm_ctl_cm_name_values (cm_ctl, cm_value, cm_name) VALUES (?, ?, ?)",
                [(ctl_id, "whitelisted", "status"), (ctl_id, "false", "allowExpired")],
            )
    return tp


TrustRows = dict[str, list[dict[str, Any]]]


def copy_trust_rows(lab: Lab, tp: str) -> TrustRows:
    """Every CipherMail row of one certificate, to put back later."""
    with lab.djigzo() as conn:
        return {
            "cm_certificates": [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM cm_certificates WHERE cm_thumbprint = ?", (tp,)
                )
            ],
            "cm_ctl": [
                dict(r) for r in conn.execute("SELECT * FROM cm_ctl WHERE cm_thumbprint = ?", (tp,))
            ],
            "cm_ctl_cm_name_values": [
                dict(r)
                for r in conn.execute(
                    "SELECT v.* FROM cm_ctl_cm_name_values v JOIN cm_ctl t ON t.cm_id = v.cm_ctl "
                    "WHERE t.cm_thumbprint = ?",
                    (tp,),
                )
            ],
        }


def put_back(lab: Lab, rows: TrustRows, tables: tuple[str, ...] | None = None) -> None:
    with lab.djigzo() as conn:
        for table, items in rows.items():
            if tables is not None and table not in tables:
                continue
            for item in items:
                columns = ", ".join(item)
                marks = ", ".join("?" for _ in item)
                conn.execute(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    tuple(item.values()),
                )


def trust_row_count(lab: Lab, tp: str) -> tuple[int, int]:
    """(cm_certificates rows, cm_ctl rows) of one certificate."""
    with lab.djigzo() as conn:
        certs = conn.execute(
            "SELECT COUNT(*) FROM cm_certificates WHERE cm_thumbprint = ?", (tp,)
        ).fetchone()[0]
        ctl = conn.execute("SELECT COUNT(*) FROM cm_ctl WHERE cm_thumbprint = ?", (tp,)).fetchone()[
            0
        ]
    return int(certs), int(ctl)


def snapshot(lab: Lab, *, ignore_expires_of: int | None = None) -> dict[str, Any]:
    """Files (bytes and modes) under the CA root and every row of the stores."""
    files: dict[str, tuple[int, str | None]] = {}
    for path in sorted(lab.ca_root.rglob("*")):
        rel = path.relative_to(lab.ca_root)
        if rel.parts[0] == STATE_DIR:
            continue
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        files[str(rel)] = (stat.S_IMODE(st.st_mode), digest)
    with lab.hermes() as conn:
        rows = [
            tuple(r)
            for r in conn.execute(
                "SELECT id, ca_commonname, ca_directory, default2, ca_djigzo_id, "
                "CASE WHEN id = ? THEN NULL ELSE expires END FROM ca_settings ORDER BY id",
                (ignore_expires_of,),
            )
        ]
    with lab.djigzo() as conn:
        cm = [
            tuple(r)
            for r in conn.execute(
                "SELECT cm_id, cm_thumbprint, cm_store_name FROM cm_certificates ORDER BY cm_id"
            )
        ]
        ctl = [tuple(r) for r in conn.execute("SELECT * FROM cm_ctl ORDER BY cm_id")]
        values = [
            tuple(r)
            for r in conn.execute("SELECT * FROM cm_ctl_cm_name_values ORDER BY cm_ctl, cm_name")
        ]
    return {"files": files, "ca_settings": rows, "cm": cm, "ctl": ctl, "values": values}


# --- drift that doctor repairs ----------------------------------------------------------


def _key_mode(lab: Lab) -> None:
    os.chmod(lab.tree(lab.beta).key_path, 0o644)


def _folder_mode(lab: Lab) -> None:
    os.chmod(lab.tree(lab.beta).folder, 0o755)


def _private_dir_mode(lab: Lab) -> None:
    os.chmod(lab.tree(lab.beta).root / "private", 0o755)


def _check_modes(lab: Lab) -> None:
    tree = lab.tree(lab.beta)
    assert stat.S_IMODE(tree.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tree.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((tree.root / "private").stat().st_mode) == 0o700


def _tree_incomplete(lab: Lab) -> None:
    tree = lab.tree(lab.beta)
    for name in ("serial", "index.txt", "crlnumber", "openssl.cnf"):
        (tree.root / name).unlink()
    (tree.root / "newcerts").rmdir()


def _check_tree_complete(lab: Lab) -> None:
    tree = lab.tree(lab.beta)
    assert tree.missing_parts() == []
    assert tree.serial_path.read_text().strip() == "0100"
    assert f"dir = {tree.root}" in tree.cnf_path.read_text()


def _chain_deleted(lab: Lab) -> None:
    lab.tree(lab.beta).chain_path.unlink()


def _chain_foreign(lab: Lab) -> None:
    replace_file(lab.tree(lab.beta).chain_path, pem(foreign_root()))


def _check_chain(lab: Lab) -> None:
    tree = lab.tree(lab.beta)
    assert tree.read_chain()[0] == tree.read_cert()


def _delete_cm_rows(lab: Lab) -> None:
    tp = tp_of(lab.beta)
    with lab.djigzo() as conn:
        conn.execute(
            "DELETE FROM cm_ctl_cm_name_values WHERE cm_ctl IN "
            "(SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = ?)",
            (tp,),
        )
        conn.execute("DELETE FROM cm_ctl WHERE cm_thumbprint = ?", (tp,))
        conn.execute("DELETE FROM cm_certificates WHERE cm_thumbprint = ?", (tp,))


def _not_in_roots(lab: Lab) -> None:
    with lab.djigzo() as conn:
        conn.execute(
            "UPDATE cm_certificates SET cm_store_name = 'certificates' WHERE cm_thumbprint = ?",
            (tp_of(lab.beta),),
        )


def _ctl_missing(lab: Lab) -> None:
    tp = tp_of(lab.beta)
    with lab.djigzo() as conn:
        conn.execute(
            "DELETE FROM cm_ctl_cm_name_values WHERE cm_ctl IN "
            "(SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = ?)",
            (tp,),
        )
        conn.execute("DELETE FROM cm_ctl WHERE cm_thumbprint = ?", (tp,))


def _ctl_value(name: str, value: str) -> Callable[[Lab], None]:
    def plant(lab: Lab) -> None:
        with lab.djigzo() as conn:
            changed = conn.execute(
                "UPDATE cm_ctl_cm_name_values SET cm_value = ? WHERE cm_name = ? AND cm_ctl IN "
                "(SELECT cm_id FROM cm_ctl WHERE cm_thumbprint = ?)",
                (value, name, tp_of(lab.beta)),
            ).rowcount
        assert changed == 1

    return plant


def _check_trusted(lab: Lab) -> None:
    shown = lab.service.show("Beta Root")
    assert shown.summary.trust is TrustState.TRUSTED
    tp = tp_of(lab.beta)
    assert trust_row_count(lab, tp) == (1, 1)
    with lab.djigzo() as conn:
        cm_id = conn.execute(
            "SELECT cm_id FROM cm_certificates WHERE cm_thumbprint = ?", (tp,)
        ).fetchone()[0]
    assert shown.djigzo_id == cm_id


def _no_default(lab: Lab) -> None:
    with lab.hermes() as conn:
        conn.execute("UPDATE ca_settings SET default2 = 2")


def _two_defaults(lab: Lab) -> None:
    with lab.hermes() as conn:
        conn.execute("DROP INDEX ca_settings_one_default")
        conn.execute("UPDATE ca_settings SET default2 = 1")


def _check_one_default(lab: Lab) -> None:
    with lab.hermes() as conn:
        defaults = [r[0] for r in conn.execute("SELECT id FROM ca_settings WHERE default2 = 1")]
    assert defaults == [lab.alpha.summary.id]


def _expires(value: str | None) -> Callable[[Lab], None]:
    def plant(lab: Lab) -> None:
        with lab.hermes() as conn:
            conn.execute(
                "UPDATE ca_settings SET expires = ? WHERE id = ?", (value, lab.beta.summary.id)
            )

    return plant


def _check_expires(lab: Lab) -> None:
    with lab.hermes() as conn:
        row = conn.execute(
            "SELECT expires FROM ca_settings WHERE id = ?", (lab.beta.summary.id,)
        ).fetchone()
    assert lab.beta.facts is not None
    assert row[0] == lab.beta.facts.not_after.date().isoformat()


def _djigzo_id(lab: Lab) -> None:
    with lab.hermes() as conn:
        conn.execute(
            "UPDATE ca_settings SET ca_djigzo_id = 9999 WHERE id = ?", (lab.beta.summary.id,)
        )


def _check_djigzo_id(lab: Lab) -> None:
    assert lab.service.show("Beta Root").djigzo_id == lab.beta.djigzo_id != 9999


REPAIRABLE = [
    pytest.param(_key_mode, FindingCode.PERMISSIONS, "Beta Root", _check_modes, id="key-0644"),
    pytest.param(_folder_mode, FindingCode.PERMISSIONS, "Beta Root", _check_modes, id="ca-0755"),
    pytest.param(
        _private_dir_mode, FindingCode.PERMISSIONS, "Beta Root", _check_modes, id="private-0755"
    ),
    pytest.param(
        _tree_incomplete,
        FindingCode.TREE_INCOMPLETE,
        "Beta Root",
        _check_tree_complete,
        id="tree-incomplete",
    ),
    pytest.param(
        _chain_deleted, FindingCode.CACHAIN_DIFFERS, "Beta Root", _check_chain, id="chain-deleted"
    ),
    pytest.param(
        _chain_foreign, FindingCode.CACHAIN_DIFFERS, "Beta Root", _check_chain, id="chain-foreign"
    ),
    pytest.param(
        _delete_cm_rows, FindingCode.NOT_TRUSTED, "Beta Root", _check_trusted, id="not-trusted"
    ),
    pytest.param(
        _not_in_roots, FindingCode.NOT_IN_ROOTS, "Beta Root", _check_trusted, id="not-in-roots"
    ),
    pytest.param(
        _ctl_missing, FindingCode.CTL_MISSING, "Beta Root", _check_trusted, id="ctl-missing"
    ),
    pytest.param(
        _ctl_value("status", "blacklisted"),
        FindingCode.NOT_WHITELISTED,
        "Beta Root",
        _check_trusted,
        id="blacklisted",
    ),
    pytest.param(
        _ctl_value("allowExpired", "true"),
        FindingCode.NOT_WHITELISTED,
        "Beta Root",
        _check_trusted,
        id="allow-expired",
    ),
    pytest.param(
        _no_default, FindingCode.DEFAULT_COUNT, "Alpha Root", _check_one_default, id="no-default"
    ),
    pytest.param(
        _two_defaults,
        FindingCode.DEFAULT_COUNT,
        "Alpha Root",
        _check_one_default,
        id="two-defaults",
    ),
    pytest.param(
        _expires("2099-01-01"),
        FindingCode.EXPIRES_MISMATCH,
        "Beta Root",
        _check_expires,
        id="expires-differs",
    ),
    pytest.param(
        _expires(None), FindingCode.EXPIRES_MISMATCH, "Beta Root", _check_expires, id="expires-null"
    ),
    pytest.param(
        _djigzo_id,
        FindingCode.DJIGZO_ID_MISMATCH,
        "Beta Root",
        _check_djigzo_id,
        id="djigzo-id",
    ),
]


@pytest.mark.parametrize(("plant", "code", "ca", "check"), REPAIRABLE)
def test_doctor_finds_hand_made_drift_and_repair_fixes_it_for_good(
    lab: Lab,
    plant: Callable[[Lab], None],
    code: FindingCode,
    ca: str,
    check: Callable[[Lab], None],
) -> None:
    plant(lab)

    report = lab.diagnose()
    assert summary(report) == {(code, ca, True)}
    finding = report.findings[0]
    assert finding.ca_id == (lab.alpha if ca == "Alpha Root" else lab.beta).summary.id

    fixed, after = lab.service.repair()

    assert [f.code for f in fixed] == [code]
    assert after.ok, after.findings
    check(lab)
    assert lab.diagnose_afresh().ok
    last = lab.service.ctx.audit.records()[-1]
    assert (last["operation"], last["outcome"]) == ("repair", "ok")
    assert last["details"]["finding"] == code.value


def test_doctor_reports_every_drift_of_one_ca_at_once(lab: Lab) -> None:
    _key_mode(lab)
    _tree_incomplete(lab)
    _chain_deleted(lab)
    _ctl_missing(lab)
    _expires("2001-02-03")(lab)

    report = lab.diagnose()

    assert {f.code for f in report.findings} == {
        FindingCode.PERMISSIONS,
        FindingCode.TREE_INCOMPLETE,
        FindingCode.CACHAIN_DIFFERS,
        FindingCode.CTL_MISSING,
        FindingCode.EXPIRES_MISMATCH,
    }
    assert all(f.ca == "Beta Root" and f.repairable for f in report.findings)
    fixed, after = lab.service.repair()
    assert len(fixed) == 5
    assert after.ok, after.findings


def test_a_second_session_diagnoses_two_defaults_left_behind_a_dropped_index(lab: Lab) -> None:
    # Opening the embedded databases re-applies the schema; data that breaks the
    # "one default" index must not lock every later session out of doctor.
    _two_defaults(lab)

    report = lab.diagnose_afresh()

    assert summary(report) == {(FindingCode.DEFAULT_COUNT, "Alpha Root", True)}
    assert only(report, FindingCode.DEFAULT_COUNT).params["count"] == 2


# --- drift that doctor only reports -------------------------------------------------------


def _move_tree_away(lab: Lab) -> None:
    shutil.move(lab.tree(lab.beta).folder, lab.data_dir.parent / "moved-away")


def _delete_row(lab: Lab) -> None:
    with lab.hermes() as conn:
        conn.execute("DELETE FROM ca_settings WHERE id = ?", (lab.beta.summary.id,))


def _stray_folder(lab: Lab) -> None:
    (lab.ca_root / "Stray" / "root_ca").mkdir(parents=True)


def _cert_deleted(lab: Lab) -> None:
    lab.tree(lab.beta).cert_path.unlink()


def _cert_garbage(lab: Lab) -> None:
    replace_file(lab.tree(lab.beta).cert_path, b"this is not a certificate\n")


def _key_deleted(lab: Lab) -> None:
    lab.tree(lab.beta).key_path.unlink()


def _key_garbage(lab: Lab) -> None:
    replace_file(
        lab.tree(lab.beta).key_path,
        b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    )


def _key_other(lab: Lab) -> None:
    replace_file(lab.tree(lab.beta).key_path, key_pem(rsa_key(2048, 3)))


def _serial_garbage(lab: Lab) -> None:
    replace_file(lab.tree(lab.beta).serial_path, b"not-hex\n")


def _duplicate_name(lab: Lab) -> None:
    with lab.hermes() as conn:
        conn.execute("DROP INDEX ca_settings_cn_unique")
        conn.execute(
            "UPDATE ca_settings SET ca_commonname = 'ALPHA ROOT' WHERE id = ?",
            (lab.beta.summary.id,),
        )


def _duplicate_directory(lab: Lab) -> None:
    with lab.hermes() as conn:
        conn.execute("DROP INDEX ca_settings_dir_unique")
        conn.execute(
            "INSERT INTO ca_settings (validity, expires, encryption, ca_commonname, "
            "organizationname, unitname, stateprovincename, countryname, applied, default2, "
            "ca_directory, ca_djigzo_id, ca_djigzo_subject) "
            "SELECT validity, expires, encryption, 'Gamma Root', organizationname, unitname, "
            "stateprovincename, countryname, applied, 2, ca_directory, ca_djigzo_id, "
            "ca_djigzo_subject FROM ca_settings WHERE id = ?",
            (lab.alpha.summary.id,),
        )


UNSAFE = [
    pytest.param(_move_tree_away, FindingCode.ROW_WITHOUT_TREE, "Beta Root", id="row-no-tree"),
    pytest.param(_delete_row, FindingCode.TREE_WITHOUT_ROW, "BetaRoot", id="tree-no-row"),
    pytest.param(_stray_folder, FindingCode.TREE_WITHOUT_ROW, "Stray", id="stray-folder"),
    pytest.param(_cert_deleted, FindingCode.CERT_MISSING, "Beta Root", id="cert-missing"),
    pytest.param(_cert_garbage, FindingCode.CERT_UNREADABLE, "Beta Root", id="cert-garbage"),
    pytest.param(_key_deleted, FindingCode.KEY_MISSING, "Beta Root", id="key-missing"),
    pytest.param(_key_garbage, FindingCode.KEY_UNREADABLE, "Beta Root", id="key-garbage"),
    pytest.param(_key_other, FindingCode.KEY_CERT_MISMATCH, "Beta Root", id="key-mismatch"),
    pytest.param(_serial_garbage, FindingCode.SERIAL_INVALID, "Beta Root", id="serial"),
    pytest.param(_duplicate_name, FindingCode.DUPLICATE_NAME, "Alpha Root", id="dup-name"),
    pytest.param(
        _duplicate_directory, FindingCode.DUPLICATE_DIRECTORY, "Alpha Root", id="dup-directory"
    ),
]


@pytest.mark.parametrize(("plant", "code", "ca"), UNSAFE)
def test_doctor_reports_unsafe_drift_as_manual_and_repair_leaves_it_alone(
    lab: Lab, plant: Callable[[Lab], None], code: FindingCode, ca: str
) -> None:
    plant(lab)
    report = lab.diagnose()
    assert summary(report) == {(code, ca, False)}
    with pytest.raises(CaError) as refused:
        lab.service.repair()
    assert refused.value.code is Code.NOTHING_TO_REPAIR

    # Next to a repairable drift, repair fixes that one and touches nothing else.
    with lab.hermes() as conn:
        conn.execute(
            "UPDATE ca_settings SET expires = '2001-02-03' WHERE id = ?", (lab.alpha.summary.id,)
        )
    before = snapshot(lab, ignore_expires_of=lab.alpha.summary.id)
    planted = lab.diagnose()
    assert summary(planted) == {
        (code, ca, False),
        (FindingCode.EXPIRES_MISMATCH, "Alpha Root", True),
    }

    fixed, after = lab.service.repair()

    assert [(f.code, f.ca) for f in fixed] == [(FindingCode.EXPIRES_MISMATCH, "Alpha Root")]
    assert (code, ca, False) in summary(after)
    assert snapshot(lab, ignore_expires_of=lab.alpha.summary.id) == before


def test_repair_of_everything_leaves_manual_findings_and_their_files_untouched(lab: Lab) -> None:
    _key_other(lab)
    _serial_garbage(lab)
    _key_mode(lab)
    tree = lab.tree(lab.beta)
    key_bytes = tree.key_path.read_bytes()

    fixed, after = lab.service.repair()

    assert [f.code for f in fixed] == [FindingCode.PERMISSIONS]
    assert summary(after) == {
        (FindingCode.KEY_CERT_MISMATCH, "Beta Root", False),
        (FindingCode.SERIAL_INVALID, "Beta Root", False),
    }
    assert tree.key_path.read_bytes() == key_bytes
    assert tree.serial_path.read_bytes() == b"not-hex\n"


def test_a_swapped_certificate_is_not_whitelisted_by_repair(lab: Lab) -> None:
    # Someone replaced Beta's certificate with a root of their own: doctor must not
    # register that root in CipherMail on --repair.
    intruder = foreign_root("Intruder Root", 11)
    replace_file(lab.tree(lab.beta).cert_path, pem(intruder))

    report = lab.diagnose()

    assert only(report, FindingCode.KEY_CERT_MISMATCH).repairable is False
    not_trusted = only(report, FindingCode.NOT_TRUSTED)
    assert not_trusted.repairable is False
    lab.service.repair()  # fixes the chain and the expiry row, nothing in CipherMail
    assert trust_row_count(lab, thumbprint(intruder)) == (0, 0)
    assert trust_row_count(lab, tp_of(lab.beta)) == (1, 1)


def test_trust_is_not_restored_for_a_ca_whose_key_is_gone(lab: Lab) -> None:
    _key_deleted(lab)
    _delete_cm_rows(lab)

    report = lab.diagnose()

    assert summary(report) == {
        (FindingCode.KEY_MISSING, "Beta Root", False),
        (FindingCode.NOT_TRUSTED, "Beta Root", False),
    }
    with pytest.raises(CaError):
        lab.service.repair()
    assert trust_row_count(lab, tp_of(lab.beta)) == (0, 0)


# --- trust entries left behind -------------------------------------------------------------


def test_leftover_trust_rows_of_a_deleted_ca_are_orphaned_and_removed(lab: Lab) -> None:
    tp = tp_of(lab.beta)
    rows = copy_trust_rows(lab, tp)
    lab.service.delete("Beta Root")
    assert trust_row_count(lab, tp) == (0, 0)
    assert lab.diagnose().ok

    put_back(lab, rows)
    report = lab.diagnose()

    orphan = only(report, FindingCode.TRUST_ORPHANED)
    assert len(report.findings) == 1
    assert orphan.repairable
    assert "CN=Beta Root" in orphan.ca
    assert orphan.params["reason"] == "its CA was deleted"
    assert orphan.fix["target"] == tp

    fixed, after = lab.service.repair()
    assert [f.code for f in fixed] == [FindingCode.TRUST_ORPHANED]
    assert after.ok
    assert trust_row_count(lab, tp) == (0, 0)
    assert lab.service.show("Alpha Root").summary.trust is TrustState.TRUSTED


def test_a_leftover_trust_list_entry_alone_is_orphaned_too(lab: Lab) -> None:
    tp = tp_of(lab.beta)
    rows = copy_trust_rows(lab, tp)
    lab.service.delete("Beta Root")
    put_back(lab, rows, ("cm_ctl", "cm_ctl_cm_name_values"))

    report = lab.diagnose()

    orphan = only(report, FindingCode.TRUST_ORPHANED)
    assert orphan.fix["target"] == tp
    lab.service.repair()
    assert trust_row_count(lab, tp) == (0, 0)
    assert lab.diagnose().ok


def test_the_old_certificate_left_trusted_after_a_renewal_is_orphaned(lab: Lab) -> None:
    old_tp = tp_of(lab.alpha)
    rows = copy_trust_rows(lab, old_tp)
    renewed, _ = lab.service.renew(lab.service.plan_renew("Alpha Root"), accept_warnings=True)
    new_tp = tp_of(renewed)
    assert new_tp != old_tp
    assert trust_row_count(lab, old_tp) == (0, 0)
    assert lab.diagnose().ok

    put_back(lab, rows)
    report = lab.diagnose()

    orphan = only(report, FindingCode.TRUST_ORPHANED)
    assert len(report.findings) == 1
    assert orphan.params["reason"] == "it was replaced by a renewal"
    assert orphan.fix["target"] == old_tp
    lab.service.repair()
    assert trust_row_count(lab, old_tp) == (0, 0)
    assert trust_row_count(lab, new_tp) == (1, 1)
    assert lab.diagnose().ok


def test_an_older_certificate_of_a_current_key_is_orphaned_even_without_history(lab: Lab) -> None:
    tree = lab.tree(lab.alpha)
    key = serialization.load_pem_private_key(tree.key_path.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    older = build_cert("Alpha Root", key, not_after=datetime.now(UTC) + timedelta(days=30))
    tp = insert_root_by_hand(lab, older)

    orphan = only(lab.diagnose(), FindingCode.TRUST_ORPHANED)

    assert orphan.params["reason"] == "it is an old certificate of Alpha Root"
    lab.service.repair()
    assert trust_row_count(lab, tp) == (0, 0)


def test_an_unrelated_root_in_ciphermail_is_neither_reported_nor_removed(lab: Lab) -> None:
    stranger = insert_root_by_hand(lab, foreign_root())
    lonely_ctl = "AB" * 64
    with lab.djigzo() as conn:
        conn.execute(
            "INSERT INTO cm_ctl (cm_name, cm_thumbprint) VALUES ('global', ?)", (lonely_ctl,)
        )
    # Give repair something to do, so it runs over the whole trust store.
    tp = tp_of(lab.beta)
    rows = copy_trust_rows(lab, tp)
    lab.service.delete("Beta Root")
    put_back(lab, rows)

    report = lab.diagnose()
    assert [f.fix["target"] for f in report.findings] == [tp]
    lab.service.repair()

    assert lab.diagnose().ok
    assert trust_row_count(lab, stranger) == (1, 1)
    assert trust_row_count(lab, lonely_ctl) == (0, 1)


# --- choosing, refusing, and the rest ----------------------------------------------------


def test_repair_with_chosen_keys_fixes_only_those_findings(lab: Lab) -> None:
    _key_mode(lab)
    _expires("2001-02-03")(lab)
    report = lab.diagnose()
    expires = only(report, FindingCode.EXPIRES_MISMATCH)
    permissions = only(report, FindingCode.PERMISSIONS)
    assert expires.key != permissions.key

    fixed, after = lab.service.repair({expires.key})

    assert fixed == [expires]
    assert summary(after) == {(FindingCode.PERMISSIONS, "Beta Root", True)}
    assert stat.S_IMODE(lab.tree(lab.beta).key_path.stat().st_mode) == 0o644
    _check_expires(lab)
    repairs = [r for r in lab.service.ctx.audit.records() if r["operation"] == "repair"]
    assert [r["details"]["finding"] for r in repairs] == ["EXPIRES_MISMATCH"]


def test_repair_refuses_keys_that_match_no_repairable_finding(lab: Lab) -> None:
    _key_mode(lab)
    _cert_garbage(lab)  # CERT_UNREADABLE is not repairable
    report = lab.diagnose()
    manual = only(report, FindingCode.CERT_UNREADABLE)

    for keys in ({"PERMISSIONS:999:/nowhere"}, {manual.key}):
        with pytest.raises(CaError) as refused:
            lab.service.repair(keys)
        assert refused.value.code is Code.NOTHING_TO_REPAIR
    assert stat.S_IMODE(lab.tree(lab.beta).key_path.stat().st_mode) == 0o644


def test_finding_keys_are_stable_between_diagnoses(lab: Lab) -> None:
    _key_mode(lab)
    _ctl_missing(lab)
    first = sorted(f.key for f in lab.diagnose().findings)
    assert first == sorted(f.key for f in lab.diagnose_afresh().findings)
    assert len(set(first)) == 2


def test_a_healthy_folder_with_several_cas_diagnoses_clean(
    lab: Lab, tmp_path: Path, service: CaService
) -> None:
    key = rsa_key(2048, 5)
    files = write_pair(tmp_path / "gamma", build_cert("Gamma Imported Root", key), key)
    service.import_ca(
        service.inspect_import(
            ImportRequest(name="Gamma Imported", cert_file=files.cert, key_file=files.key)
        ),
        accept_warnings=True,
    )
    service.create(create_request("Delta Root"))
    service.renew(service.plan_renew("Beta Root"), accept_warnings=True)
    service.create(create_request("Short Lived"))
    service.delete("Short Lived")

    report = lab.diagnose()
    fresh = lab.diagnose_afresh()

    assert report.ok, report.findings
    assert fresh.ok, fresh.findings
    assert report.checked == 4
    assert [c.trust for c in service.list_cas()] == [TrustState.TRUSTED] * 4


def test_an_empty_data_folder_diagnoses_clean(service: CaService) -> None:
    report = service.doctor()
    assert report.ok
    assert report.checked == 0


def test_the_published_hermes_sample_ca_is_flagged_by_its_fingerprint(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lab.beta.summary.sha256 is not None
    label = "Hermes SEG Root CA (legacy sample)"
    monkeypatch.setitem(certinfo.PUBLISHED_CAS, lab.beta.summary.sha256, label)

    report = lab.diagnose_afresh()

    published = only(report, FindingCode.PUBLISHED_KEY)
    assert (published.ca, published.repairable) == ("Beta Root", False)
    assert published.params["label"] == label
    assert len(report.findings) == 1
    monkeypatch.undo()
    assert lab.diagnose_afresh().ok


def test_an_unreachable_ciphermail_is_reported_and_the_rest_still_checked(lab: Lab) -> None:
    lab.service.close()
    for suffix in ("", "-wal", "-shm"):
        (lab.data_dir / f"djigzo.sqlite3{suffix}").unlink(missing_ok=True)
    (lab.data_dir / "djigzo.sqlite3").write_bytes(b"not a database at all" * 100)
    _key_mode(lab)

    session = open_service(lab.profile)
    try:
        report = session.doctor()
        cas = session.list_cas()
    finally:
        session.close()

    assert summary(report) == {
        (FindingCode.TRUST_UNKNOWN, "CipherMail", False),
        (FindingCode.PERMISSIONS, "Beta Root", True),
    }
    assert [c.trust for c in cas] == [TrustState.UNKNOWN, TrustState.UNKNOWN]


def test_every_finding_code_of_the_core_is_planted_by_a_test_here() -> None:
    planted = {p.values[1] for p in REPAIRABLE} | {p.values[1] for p in UNSAFE}
    planted |= {FindingCode.TRUST_ORPHANED, FindingCode.PUBLISHED_KEY, FindingCode.TRUST_UNKNOWN}
    assert planted == set(FindingCode)
