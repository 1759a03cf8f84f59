"""create: a new self-signed internal CA (appliance-facts §1.2, pki-and-peers §3.5)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

from hermes_ca_tui.core.context import Context
from hermes_ca_tui.core.ops.placement import NewCa, RowValues, check_name_free
from hermes_ca_tui.core.profile import SubjectFields, build_ca_certificate, build_subject
from hermes_ca_tui.core.validation import DAYS_PER_YEAR, CreateRequest


def precheck_create(ctx: Context, request: CreateRequest) -> None:
    """Refuse a duplicate name before the (slow) key generation; checked again under lock."""
    with ctx.hermes.database.transaction(write=False) as tx:
        check_name_free(ctx, tx, request.common_name)


def prepare_create(ctx: Context, request: CreateRequest, key: rsa.RSAPrivateKey) -> NewCa:
    """Build the certificate of a normalised request.

    Args:
        ctx: The session.
        request: Output of :func:`~hermes_ca_tui.core.validation.normalise_create`.
        key: A freshly generated key of the requested size.
    """
    days = int(request.years) * DAYS_PER_YEAR
    subject = build_subject(
        SubjectFields(
            common_name=request.common_name,
            organization=request.organization,
            unit=request.unit,
            state=request.state,
            country=request.country,
        )
    )
    certificate = build_ca_certificate(key, subject, days, ctx.clock())
    return NewCa(
        operation="create",
        name=request.common_name,
        key=key,
        certificate=certificate,
        chain=(),
        row=RowValues(
            validity=str(days),
            encryption=str(request.key_size),
            organization=request.organization,
            unit=request.unit,
            state=request.state,
            country=request.country,
            applied=2,
            # The web page swapped O and OU here (appliance-facts §1.2); we write the truth.
            djigzo_subject=(
                f"CN={request.common_name}, OU={request.unit}, O={request.organization}, "
                f"ST={request.state}, C={request.country}"
            ),
        ),
        make_default=request.make_default,
    )
