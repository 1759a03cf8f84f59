"""Storage: the hermes and djigzo databases behind one repository interface per database.

SQL is written once (``?`` placeholders, portable statements) in the repositories; each
database engine contributes only a :class:`~hermes_ca_tui.core.store.database.Dialect`
(placeholders, schema, locking, error classification) and a connection factory.
"""

from __future__ import annotations
