"""Textual validators that call the core's own field rules (one rule, one place)."""

from __future__ import annotations

from collections.abc import Callable

from textual.validation import ValidationResult, Validator

from hermes_ca_tui.core.errors import FieldError
from hermes_ca_tui.messages import describe_code

Rule = Callable[[str], FieldError | None]


class CoreRule(Validator):
    """Validate an input with a core ``check_*`` function; fail with its operator wording."""

    def __init__(self, rule: Rule) -> None:
        super().__init__()
        self.rule = rule

    def validate(self, value: str) -> ValidationResult:
        """Run the core rule."""
        failure = self.rule(value)
        if failure is None:
            return self.success()
        return self.failure(describe_code(failure.code, failure.params).text)
