"""The Create and Import forms: every field checked with the core's own rules.

A field is checked when it loses focus and when the form is submitted; submitting checks
every field first and puts the cursor on the first one refused. Enter in a text field
submits. The messages are the core's operator wording, shown under the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Collapsible, Input, Select

from hermes_ca_tui.core.errors import Code, FieldError
from hermes_ca_tui.core.ops.importing import ImportRequest, check_input_file
from hermes_ca_tui.core.validation import (
    KEY_SIZES,
    MAX_NAME_LENGTH,
    VALIDITY_YEARS,
    CreateRequest,
    check_common_name,
    check_country,
    check_import_name,
    check_organization,
    check_state,
    check_unit,
)
from hermes_ca_tui.widgets.form_field import FormField
from hermes_ca_tui.widgets.validators import CoreRule, Rule


@dataclass(frozen=True)
class TextSpec:
    """One text field of a form."""

    name: str
    label: str
    rule: Rule
    hint: str
    placeholder: str = ""
    max_length: int = MAX_NAME_LENGTH
    password: bool = False


class CoreForm(Vertical):
    """What both forms share: text fields checked by core rules, submit, field errors."""

    SPECS: tuple[TextSpec, ...] = ()
    ALIASES: dict[str, str] = {}
    """Core field names that mean one of ours (``name`` -> ``common_name`` in create)."""
    DEFAULT_BOX = ""
    """The id of the form's make-default checkbox."""

    def text_field(self, spec: TextSpec) -> FormField:
        """A field for a spec; the input's id is the spec's name."""
        control = Input(
            placeholder=spec.placeholder,
            id=spec.name,
            max_length=spec.max_length,
            password=spec.password,
            validators=[CoreRule(spec.rule)],
            validate_on=["blur", "submitted"],
            compact=True,
        )
        return FormField(spec.label, control, hint=spec.hint, id=f"field-{spec.name}")

    def field(self, name: str) -> FormField:
        """The field of a (core or form) field name."""
        name = self.ALIASES.get(name, name)
        return self.query_one(f"#field-{name}", FormField)

    def value(self, name: str) -> str:
        """A text field's value."""
        return self.query_one(f"#{name}", Input).value

    def check(self, name: str) -> bool:
        """Run a text field's rule and show the result under it."""
        control = self.query_one(f"#{name}", Input)
        result = control.validate(control.value)
        failure = None if result is None or result.is_valid else result.failure_descriptions[0]
        self.field(name).show_error(failure)
        return failure is None

    def check_all(self) -> bool:
        """Check every field; focus the first refused one. Returns whether all passed."""
        first: str | None = None
        for spec in self.SPECS:
            if not self.check(spec.name) and first is None:
                first = spec.name
        if first is not None:
            self.query_one(f"#{first}", Input).focus()
            return False
        return True

    def show_field_error(self, field_name: str | None, text: str) -> bool:
        """Show a refusal from the core under its field; False if no field matches."""
        if not field_name:
            return False
        try:
            target = self.field(field_name)
        except Exception:
            return False
        target.show_error(text)
        target.control.focus()
        return True

    def clear_errors(self) -> None:
        """Remove every message."""
        for field in self.query(FormField):
            field.show_error(None)

    def reset(self) -> None:
        """Empty the form after a success: fields, messages, make-default (unless forced)."""
        for control in self.query(Input):
            control.value = ""
        for box in self.query(Checkbox):
            if not box.disabled:
                box.value = False
        self.clear_errors()

    def force_default(self, forced: bool) -> None:
        """With no default CA yet, the new one becomes default: show it, ticked and locked."""
        box = self.query_one(f"#{self.DEFAULT_BOX}", Checkbox)
        if forced:
            box.value = True
            box.label = "Make this the default CA (required: there is no default yet)"
        elif box.disabled:
            # The tick was ours, not the operator's: a default exists now, so the next CA
            # must not take it over unasked.
            box.value = False
            box.label = "Make this the default CA"
        box.disabled = forced

    def focus_first(self) -> None:
        """Put the cursor in the first field."""
        self.query_one(f"#{self.SPECS[0].name}", Input).focus()

    def is_closed(self) -> bool:
        """Whether the form's Collapsible is collapsed (the form was left or reset)."""
        return any(isinstance(a, Collapsible) and a.collapsed for a in self.ancestors)

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        # Leaving the form (Escape, or the reset after a success) blurs its last field:
        # that is no answer to check, and a message there would greet the next use.
        if self.is_closed():
            return
        if event.input.id and any(s.name == event.input.id for s in self.SPECS):
            self.check(event.input.id)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        """Check everything, then post the request."""
        raise NotImplementedError


class CreateForm(CoreForm):
    """Create Internal CA: CN, O, OU, ST, C, key size, validity, make default."""

    SPECS = (
        TextSpec(
            "common_name",
            "Common name",
            check_common_name,
            "Letters, numbers and spaces",
            "e.g. My Organization Root CA",
        ),
        TextSpec(
            "organization", "Organisation", check_organization, "Letters, numbers, spaces, commas"
        ),
        TextSpec("unit", "Unit", check_unit, "Letters, numbers, spaces, _"),
        TextSpec("state", "State", check_state, "Letters and spaces"),
        TextSpec("country", "Country", check_country, "2-letter ISO code", "US", max_length=2),
    )
    ALIASES = {"name": "common_name"}
    DEFAULT_BOX = "create-default"

    class Submitted(Message):
        """The operator asked to create a CA."""

        def __init__(self, request: CreateRequest) -> None:
            super().__init__()
            self.request = request

    def compose(self) -> ComposeResult:
        """The fields in two columns, then the options and the button."""
        with Grid(classes="form-grid"):
            for spec in self.SPECS:
                yield self.text_field(spec)
            yield FormField(
                "Key size",
                Select(
                    [
                        (f"{bits}-bit{' (Recommended)' if bits == 4096 else ''}", bits)
                        for bits in KEY_SIZES
                    ],
                    value=4096,
                    allow_blank=False,
                    id="key_size",
                    compact=True,
                ),
                id="field-key_size",
            )
            yield FormField(
                "Validity",
                Select(
                    [
                        (f"{y} Year{'s' if y > 1 else ''}{' (Recommended)' if y == 5 else ''}", y)
                        for y in VALIDITY_YEARS
                    ],
                    value=5,
                    allow_blank=False,
                    id="years",
                    compact=True,
                ),
                id="field-years",
            )
        with Horizontal(classes="form-actions"):
            yield Checkbox("Make this the default CA", id="create-default", compact=True)
            yield Button("Create CA", id="create-submit", variant="primary", compact=True)

    def request(self) -> CreateRequest:
        """The form as a core request."""
        return CreateRequest(
            common_name=self.value("common_name"),
            organization=self.value("organization"),
            unit=self.value("unit"),
            state=self.value("state"),
            country=self.value("country"),
            key_size=int(self.query_one("#key_size", Select).value),  # type: ignore[arg-type]
            years=int(self.query_one("#years", Select).value),  # type: ignore[arg-type]
            make_default=self.query_one("#create-default", Checkbox).value,
        )

    def submit(self) -> None:
        """Check everything, then ask for the CA."""
        if self.check_all():
            self.post_message(self.Submitted(self.request()))


class ImportForm(CoreForm):
    """Import External CA: name, certificate + key files or a PKCS#12 file, passphrase."""

    ALIASES = {"cert": "cert_file", "key": "key_file", "pkcs12": "pkcs12_file"}
    DEFAULT_BOX = "import-default"

    class Submitted(Message):
        """The operator asked to import a CA."""

        def __init__(self, request: ImportRequest) -> None:
            super().__init__()
            self.request = request

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.SPECS = (
            TextSpec(
                "import_name",
                "Name",
                check_import_name,
                "Letters, numbers and spaces",
                "e.g. External Root CA",
            ),
            TextSpec(
                "cert_file",
                "Certificate",
                self._file_rule(Code.CERT_FILE_MISSING, "cert"),
                "PEM or DER file",
                "/path/to/cacert.pem",
                max_length=4096,
            ),
            TextSpec(
                "key_file",
                "Private key",
                self._file_rule(Code.KEY_FILE_MISSING, "key"),
                "PEM or DER, PKCS#1 or PKCS#8",
                "/path/to/cakey.pem",
                max_length=4096,
            ),
            TextSpec(
                "pkcs12_file",
                "or PKCS#12",
                self._pkcs12_rule,
                "Instead of the two files above",
                "/path/to/bundle.p12",
                max_length=4096,
            ),
            TextSpec(
                "passphrase",
                "Passphrase",
                lambda _value: None,
                "For an encrypted key or the bundle",
                "",
                max_length=1024,
                password=True,
            ),
        )
        self.ALIASES = {**ImportForm.ALIASES, "name": "import_name"}

    def _uses_pkcs12(self) -> bool:
        try:
            return bool(self.value("pkcs12_file").strip())
        except Exception:
            return False

    def _file_rule(self, missing: Code, name: str) -> Callable[[str], FieldError | None]:
        def rule(value: str) -> FieldError | None:
            if self._uses_pkcs12():
                return None
            return check_input_file(value, missing, name)

        return rule

    def _pkcs12_rule(self, value: str) -> FieldError | None:
        if not value.strip():
            return None
        return check_input_file(value, Code.CERT_FILE_MISSING, "pkcs12")

    def compose(self) -> ComposeResult:
        """The fields in two columns, then the option and the button."""
        with Grid(classes="form-grid"):
            for spec in self.SPECS:
                yield self.text_field(spec)
        with Horizontal(classes="form-actions"):
            yield Checkbox("Make this the default CA", id="import-default", compact=True)
            yield Button("Check and import", id="import-submit", variant="primary", compact=True)

    def request(self) -> ImportRequest:
        """The form as a core request (the passphrase leaves the widget only here)."""
        p12 = self.value("pkcs12_file").strip()
        passphrase = self.value("passphrase")
        return ImportRequest(
            name=self.value("import_name"),
            cert_file=None if p12 else Path(self.value("cert_file").strip()).expanduser(),
            key_file=None if p12 else Path(self.value("key_file").strip()).expanduser(),
            pkcs12_file=Path(p12).expanduser() if p12 else None,
            passphrase=passphrase.encode() if passphrase else None,
            make_default=self.query_one("#import-default", Checkbox).value,
        )

    def submit(self) -> None:
        """Check everything, then ask for the import check."""
        if self.check_all():
            self.post_message(self.Submitted(self.request()))


def first_control(widget: Widget) -> Widget | None:
    """The first focusable control inside a widget."""
    for child in widget.query("Input, Select, Checkbox, Button"):
        if child.focusable:
            return child
    return None
