"""The appliance configuration: a TOML file, each key overridable from the environment.

```toml
ca_root = "/opt/hermes/CA"
security_conf = "/opt/hermes/config/security.conf"
audit_log = "/var/log/hermes-ca-tui/audit.jsonl"
lock_timeout = 60                # seconds to wait for another operator's change (0: none)
[database]
hermes = "postgresql://..."      # or sqlite:///path
djigzo = "postgresql://..."
[ciphermail]
mode = "docker"                  # or "sql"
docker_url = "unix:///var/run/docker.sock"
container = "hermes_ciphermail"
timeout = 120                    # seconds one CertStore run may take
certstore = ["/usr/bin/java", "-cp", "/usr/share/djigzo/lib/*",
             "mitm.application.djigzo.tools.CertStore"]
```

The file is ``--config PATH``, else ``$HERMES_CA_TUI_CONFIG``, else
``/opt/hermes/config/hermes-ca-tui.toml``. An environment variable
``HERMES_CA_TUI_`` + the upper-case key path (``__`` between table and key, e.g.
``HERMES_CA_TUI_DATABASE__HERMES``) overrides one key. Without a file and without such
variables, the embedded default applies. The ``[tui]`` table belongs to the dashboard
(:mod:`hermes_ca_tui.settings`) and is passed through untouched.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hermes_ca_tui.core.errors import CaError, Code
from hermes_ca_tui.core.locks import DEFAULT_TIMEOUT as DEFAULT_LOCK_TIMEOUT_S
from hermes_ca_tui.core.session import Profile, embedded_profile
from hermes_ca_tui.core.trust.docker_importer import CERTSTORE_COMMAND, DEFAULT_TIMEOUT_S

DEFAULT_CONFIG_PATH = Path("/opt/hermes/config/hermes-ca-tui.toml")
CONFIG_ENV = "HERMES_CA_TUI_CONFIG"
ENV_PREFIX = "HERMES_CA_TUI_"

# key path -> (default, kind). A default of None means "required".
SCHEMA: dict[str, tuple[Any, str]] = {
    "ca_root": ("/opt/hermes/CA", "path"),
    "security_conf": ("/opt/hermes/config/security.conf", "path"),
    "audit_log": ("/var/log/hermes-ca-tui/audit.jsonl", "path"),
    "lock_timeout": (DEFAULT_LOCK_TIMEOUT_S, "wait"),
    "database.hermes": (None, "url"),
    "database.djigzo": (None, "url"),
    "ciphermail.mode": ("docker", "mode"),
    "ciphermail.docker_url": ("unix:///var/run/docker.sock", "str"),
    "ciphermail.container": ("hermes_ciphermail", "str"),
    "ciphermail.timeout": (DEFAULT_TIMEOUT_S, "seconds"),
    "ciphermail.certstore": (list(CERTSTORE_COMMAND), "argv"),
}
"""Every key of the file, with its default and how it is checked."""

_ENV_NAMES = {ENV_PREFIX + k.upper().replace(".", "__"): k for k in SCHEMA}
_PASSTHROUGH_TABLES = {"tui"}


@dataclass(frozen=True)
class Setting:
    """One resolved key: its value and where it came from."""

    key: str
    value: Any
    source: str


@dataclass(frozen=True)
class LoadedConfig:
    """What configured this run."""

    profile: Profile
    path: Path | None
    source: str
    settings: tuple[Setting, ...] = ()
    tables: dict[str, Any] = field(default_factory=dict)


def _invalid(reason: str) -> CaError:
    return CaError(Code.CONFIG_INVALID, reason=reason)


def locate(cli_path: Path | None, env: Mapping[str, str]) -> tuple[Path | None, str]:
    """The configuration file to read, and why.

    Raises:
        CaError: CONFIG_INVALID when an explicitly named file does not exist.
    """
    # exists(), not is_file(): a folder or a special file there is named as unreadable by
    # the read that follows, not reported as missing.
    if cli_path is not None:
        if not Path(cli_path).exists():
            raise _invalid(f"the configuration file {cli_path} (--config) does not exist")
        return Path(cli_path), "--config"
    named = env.get(CONFIG_ENV)
    if named:
        if not Path(named).exists():
            raise _invalid(f"the configuration file {named} (${CONFIG_ENV}) does not exist")
        return Path(named), f"${CONFIG_ENV}"
    if DEFAULT_CONFIG_PATH.exists():
        return DEFAULT_CONFIG_PATH, "default location"
    return None, "none"


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _invalid(f"{path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _invalid(f"{path} is not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _invalid(f"{path} is not valid TOML: {exc}") from None


def _flatten(data: dict[str, Any], path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    flat: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    for name, value in data.items():
        if name in _PASSTHROUGH_TABLES:
            tables[name] = value
        elif isinstance(value, dict):
            for inner, inner_value in value.items():
                flat[f"{name}.{inner}"] = inner_value
        else:
            flat[name] = value
    unknown = sorted(set(flat) - set(SCHEMA))
    if unknown:
        raise _invalid(f"{path}: unknown key(s) {', '.join(unknown)}")
    return flat, tables


def _coerce(key: str, value: Any, kind: str, where: str) -> Any:
    def bad(expected: str) -> CaError:
        return _invalid(f"{key} ({where}) must be {expected}, not {value!r}")

    if kind in ("path", "str", "url"):
        if not isinstance(value, str) or not value.strip():
            raise bad("a non-empty string")
        value = value.strip()
        urls = ("postgresql://", "postgres://", "sqlite:///")
        # A libpq key=value DSN (host=... dbname=...) is accepted too.
        if kind == "url" and not value.startswith(urls) and "=" not in value:
            raise bad("a postgresql://, sqlite:/// URL or a libpq DSN")
        return value
    if kind == "mode":
        if value not in ("docker", "sql"):
            raise bad('"docker" or "sql"')
        return value
    if kind in ("seconds", "wait"):
        # TOML's true/false are no durations, although float(True) == 1.0.
        if isinstance(value, bool):
            raise bad("a number of seconds")
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise bad("a number of seconds") from None
        low = 1 if kind == "seconds" else 0
        if not low <= seconds <= 3600:
            raise bad(f"between {low} and 3600 seconds")
        return seconds
    if kind == "argv":
        if isinstance(value, str):
            value = value.split()
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        return value
    raise bad(kind)  # pragma: no cover - every kind is handled above


def load(
    cli_path: Path | None = None,
    data_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Resolve the profile of this run.

    Args:
        cli_path: ``--config``.
        data_dir: ``--data-dir`` (forces the embedded default there).
        env: The environment (``os.environ`` by default).

    Raises:
        CaError: CONFIG_INVALID naming the file or variable and the key at fault.
    """
    environ = os.environ if env is None else env
    if data_dir is not None:
        return LoadedConfig(embedded_profile(data_dir), None, "--data-dir")
    path, source = locate(cli_path, environ)
    overrides = {key: environ[var] for var, key in _ENV_NAMES.items() if var in environ}
    if path is None and not overrides:
        return LoadedConfig(embedded_profile(None), None, "embedded default")
    flat, tables = _flatten(_read(path), path) if path else ({}, {})
    settings: list[Setting] = []
    values: dict[str, Any] = {}
    for key, (default, kind) in SCHEMA.items():
        if key in overrides:
            where = f"${ENV_PREFIX}{key.upper().replace('.', '__')}"
            raw: Any = overrides[key]
        elif key in flat:
            where = str(path)
            raw = flat[key]
        elif default is not None:
            where, raw = "default", default
        else:
            raise _invalid(f"{key} is not set (in {path or 'the environment'})")
        values[key] = _coerce(key, raw, kind, where)
        settings.append(Setting(key, values[key], where))
    label = str(path) if path else "environment"
    profile = Profile(
        label=label,
        ca_root=Path(values["ca_root"]),
        security_conf=Path(values["security_conf"]),
        audit_log=Path(values["audit_log"]),
        lock_timeout=values["lock_timeout"],
        hermes_url=values["database.hermes"],
        djigzo_url=values["database.djigzo"],
        bridge_mode=values["ciphermail.mode"],
        docker_url=values["ciphermail.docker_url"],
        container=values["ciphermail.container"],
        docker_timeout=values["ciphermail.timeout"],
        certstore=tuple(values["ciphermail.certstore"]),
        embedded=False,
        data_dir=None,
    )
    return LoadedConfig(profile, path, source, tuple(settings), tables)
