"""Messages the dashboard's workers post back to the app (results of core calls)."""

from __future__ import annotations

from textual.message import Message

from hermes_ca_tui.core.doctor import DoctorReport
from hermes_ca_tui.core.findings import Finding
from hermes_ca_tui.core.health import StoreHealth
from hermes_ca_tui.core.ops.delete import DeletePlan
from hermes_ca_tui.core.ops.export import ExportResult
from hermes_ca_tui.core.ops.importing import ImportPlan
from hermes_ca_tui.core.ops.renew import RenewPlan
from hermes_ca_tui.core.security_conf import DownloadGate
from hermes_ca_tui.core.service import CaService
from hermes_ca_tui.core.views import CaDetails, CaSummary


class ServiceOpened(Message):
    """The stores are open and crashed operations were recovered."""

    def __init__(self, service: CaService) -> None:
        super().__init__()
        self.service = service


class CasLoaded(Message):
    """A fresh view of every CA, the download switch and the stores' health."""

    def __init__(
        self,
        cas: list[CaSummary],
        gate: DownloadGate,
        health: list[StoreHealth],
        select: int | None,
    ) -> None:
        super().__init__()
        self.cas = cas
        self.gate = gate
        self.health = health
        self.select = select


class Changed(Message):
    """A change went through; the table reloads with the cursor on ``select``."""

    def __init__(self, text: str, select: int | None, *, form: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.select = select
        self.form = form


class ImportChecked(Message):
    """An import passed its checks; its warnings need a confirmation."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__()
        self.plan = plan


class RenewPlanned(Message):
    """A renewal was computed; it needs a confirmation."""

    def __init__(self, plan: RenewPlan) -> None:
        super().__init__()
        self.plan = plan


class DeletePlanned(Message):
    """A delete was planned (or refused); it needs a confirmation."""

    def __init__(self, plan: DeletePlan) -> None:
        super().__init__()
        self.plan = plan


class DetailsLoaded(Message):
    """Everything about one CA, for the details view."""

    def __init__(self, details: CaDetails) -> None:
        super().__init__()
        self.details = details


class Exported(Message):
    """A file was written."""

    def __init__(self, result: ExportResult) -> None:
        super().__init__()
        self.result = result


class DoctorReported(Message):
    """A diagnosis finished."""

    def __init__(self, report: DoctorReport) -> None:
        super().__init__()
        self.report = report


class Repaired(Message):
    """Repairs were applied; ``report`` is the diagnosis afterwards."""

    def __init__(self, fixed: list[Finding], report: DoctorReport) -> None:
        super().__init__()
        self.fixed = fixed
        self.report = report
