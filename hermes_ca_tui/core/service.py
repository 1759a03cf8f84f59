"""The core's one entry point: every operation of PRODUCT §3, for the CLI and the TUI alike.

Each mutating method takes the operation lock, first resolves what crashed processes left
in the journal, then runs the operation. Every method raises only
:class:`~hermes_ca_tui.core.errors.CaError` for conditions an operator should read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hermes_ca_tui.core import doctor as doctor_ops
from hermes_ca_tui.core.audit import AuditVerification
from hermes_ca_tui.core.context import OPERATION_LOCK_KEY, Context
from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.findings import Finding
from hermes_ca_tui.core.fsutil import PRIVATE_DIR_MODE, make_dir
from hermes_ca_tui.core.health import StoreHealth, check_stores
from hermes_ca_tui.core.locks import try_file_lock
from hermes_ca_tui.core.ops import create as create_ops
from hermes_ca_tui.core.ops import delete as delete_ops
from hermes_ca_tui.core.ops import export as export_ops
from hermes_ca_tui.core.ops import importing as import_ops
from hermes_ca_tui.core.ops import listing
from hermes_ca_tui.core.ops import renew as renew_ops
from hermes_ca_tui.core.ops import set_default as default_ops
from hermes_ca_tui.core.ops.common import as_ca_error
from hermes_ca_tui.core.ops.placement import place_new_ca
from hermes_ca_tui.core.profile import generate_key
from hermes_ca_tui.core.recovery import Recovered, recover
from hermes_ca_tui.core.security_conf import DownloadGate
from hermes_ca_tui.core.validation import CreateRequest, normalise_create
from hermes_ca_tui.core.views import CaDetails, CaSummary


class CaService:
    """CA lifecycle across the three stores.

    Args:
        ctx: The session's wiring (see :mod:`hermes_ca_tui.core.session`).
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.recovered: list[Recovered] = []
        """What start-up (and later operations) recovered from the journal."""

    # --- session ---------------------------------------------------------------------

    def startup(self) -> list[Recovered]:
        """Resolve crashed operations if no other operator is busy right now."""
        make_dir(self.ctx.paths.state_dir, PRIVATE_DIR_MODE)
        if not self.ctx.journal.pending():
            return []
        with try_file_lock(self.ctx.paths.lock_file) as taken:
            if taken:
                # The other operator's next operation recovers otherwise.
                with self.ctx.hermes.database.operation_lock(
                    OPERATION_LOCK_KEY, self.ctx.lock_timeout
                ):
                    found = recover(self.ctx)
                self.recovered.extend(found)
                return found
        return []

    @contextlib.contextmanager
    def _mutation(self) -> Iterator[None]:
        """Hold the operation lock, after resolving what crashed processes left.

        An operation reads back its result (``show``) before leaving this block: once the
        lock is free another operator may delete the CA or move the default, and a create
        that succeeded must not report CA_NOT_FOUND, nor a set-default a CA that is not
        the default.
        """
        with self.ctx.locked():
            self.recovered.extend(recover(self.ctx))
            yield

    def close(self) -> None:
        """Release connections."""
        self.ctx.close()

    # --- reading ---------------------------------------------------------------------

    def list_cas(self) -> list[CaSummary]:
        """Every CA, sorted by name."""
        return listing.list_cas(self.ctx)

    def show(self, ref: str | int) -> CaDetails:
        """Everything about one CA (by id or name)."""
        return listing.show(self.ctx, ref)

    # --- create / import -------------------------------------------------------------

    def create(self, request: CreateRequest) -> CaDetails:
        """Create an internal CA.

        Raises:
            CaError: a field rule (m=1..16 and ours), DUPLICATE_NAME (m=18), or a store
                failure (CREATE_FAILED m=19, STORAGE_FAILED, TRUST_*); nothing remains.
        """
        request = normalise_create(request)
        create_ops.precheck_create(self.ctx, request)
        key = generate_key(int(request.key_size))
        try:
            with self._mutation():
                new = create_ops.prepare_create(self.ctx, request, key)
                ca_id = place_new_ca(self.ctx, new)
                details = self.show(ca_id)  # under the lock: see _mutation
        except Exception as exc:
            raise as_ca_error(exc, Code.CREATE_FAILED) from exc
        return details

    def inspect_import(self, request: import_ops.ImportRequest) -> import_ops.ImportPlan:
        """Check an import and collect its warnings; writes nothing."""
        return import_ops.inspect_import(self.ctx, request)

    def import_ca(self, plan: import_ops.ImportPlan, *, accept_warnings: bool = False) -> CaDetails:
        """Commit a checked import.

        Raises:
            CaError: WARNINGS_NOT_CONFIRMED unless ``accept_warnings`` when the plan has
                warnings; DUPLICATE_NAME / CA_KEY_EXISTS if another operator got there
                first; store failures. Nothing remains on failure.
        """
        if plan.warnings and not accept_warnings:
            raise CaError(
                Code.WARNINGS_NOT_CONFIRMED,
                count=len(plan.warnings),
                warnings=", ".join(w.code.value for w in plan.warnings),
            )
        try:
            with self._mutation():
                ca_id = place_new_ca(self.ctx, plan.to_new_ca())
                details = self.show(ca_id)  # under the lock: see _mutation
        except Exception as exc:
            raise as_ca_error(exc, Code.IMPORT_FAILED) from exc
        return details

    # --- the others ------------------------------------------------------------------

    def set_default(self, ref: str | int) -> CaDetails:
        """Make a CA the only default."""
        with self._mutation():
            ca_id, _ = default_ops.set_default(self.ctx, ref)
            return self.show(ca_id)  # under the lock: see _mutation

    def plan_renew(self, ref: str | int) -> renew_ops.RenewPlan:
        """Compute a renewal (``--dry-run``); writes nothing."""
        return renew_ops.plan_renew(self.ctx, ref)

    def renew(
        self, plan: renew_ops.RenewPlan, *, accept_warnings: bool = False
    ) -> tuple[CaDetails, list[str]]:
        """Apply a renewal plan; returns the renewed CA and notes for the operator."""
        try:
            with self._mutation():
                notes = renew_ops.apply_renew(self.ctx, plan, accept_warnings=accept_warnings)
                details = self.show(plan.ca_id)  # under the lock: see _mutation
        except Exception as exc:
            raise as_ca_error(exc, Code.INTERNAL) from exc
        return details, notes

    def plan_delete(self, ref: str | int) -> delete_ops.DeletePlan:
        """What deleting a CA would do; writes nothing."""
        return delete_ops.plan_delete(self.ctx, ref)

    def delete(self, ref: str | int) -> delete_ops.DeleteResult:
        """Delete a CA (refused while it has issued certificates)."""
        try:
            with self._mutation():
                return delete_ops.delete(self.ctx, ref)
        except Exception as exc:
            raise as_ca_error(exc, Code.INTERNAL) from exc

    def download_gate(self) -> DownloadGate:
        """Whether security.conf allows CA downloads right now."""
        return export_ops.gate(self.ctx)

    def export(self, request: export_ops.ExportRequest) -> export_ops.ExportResult:
        """Export a certificate or key (gated by ALLOW_CA_DOWNLOAD)."""
        return export_ops.export(self.ctx, request)

    def doctor(self) -> doctor_ops.DoctorReport:
        """Compare the three stores; writes nothing."""
        return doctor_ops.diagnose(self.ctx)

    def repair(self, keys: set[str] | None = None) -> tuple[list[Finding], doctor_ops.DoctorReport]:
        """Fix the chosen (or all) repairable findings."""
        try:
            with self._mutation():
                return doctor_ops.repair(self.ctx, keys)
        except Exception as exc:
            raise as_ca_error(exc, Code.INTERNAL) from exc

    def health(self) -> list[StoreHealth]:
        """Whether each store answers right now; never raises."""
        return check_stores(self.ctx)

    def audit_verify(self) -> AuditVerification:
        """Check the audit log's hash chain."""
        return self.ctx.audit.verify()
