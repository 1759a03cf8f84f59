"""The appliance configuration: where it is looked up, what overrides what, and each error.

Everything runs :func:`hermes_ca_tui.core.config.load` / ``locate`` in-process on files in
``tmp_path``, with an explicit environment mapping. The real default path
``/opt/hermes/config/hermes-ca-tui.toml`` is never created: ``DEFAULT_CONFIG_PATH`` is
pointed into ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hermes_ca_tui.core import config
from hermes_ca_tui.core.config import CONFIG_ENV, load, locate
from hermes_ca_tui.core.errors import CaError, Code, Kind
from hermes_ca_tui.core.locks import DEFAULT_TIMEOUT
from hermes_ca_tui.core.session import default_data_dir
from hermes_ca_tui.core.trust.docker_importer import CERTSTORE_COMMAND, DEFAULT_TIMEOUT_S
from hermes_ca_tui.messages import describe
from tests.config_support import write_config

HERMES_DSN = "host=/run/postgresql dbname=hermes user=hermes"
DJIGZO_DSN = "postgresql://djigzo@/djigzo?host=/run/postgresql"


@pytest.fixture
def default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where this test's "default location" is (nothing there until a test writes it)."""
    path = tmp_path / "opt" / "hermes-ca-tui.toml"
    monkeypatch.setattr(config, "DEFAULT_CONFIG_PATH", path)
    return path


def appliance_file(path: Path, **top: Any) -> Path:
    return write_config(
        path,
        {"ca_root": "/srv/CA", **top},
        database={"hermes": HERMES_DSN, "djigzo": DJIGZO_DSN},
        ciphermail={"mode": "sql"},
    )


def refusal(exc: pytest.ExceptionInfo[CaError]) -> str:
    """The operator-facing text of a configuration error (checked to be one)."""
    assert exc.value.code is Code.CONFIG_INVALID
    assert exc.value.kind is Kind.ENVIRONMENT  # exit code 4
    return describe(exc.value).one_line()


def sources(loaded: config.LoadedConfig) -> dict[str, str]:
    return {s.key: s.source for s in loaded.settings}


# --- lookup order -----------------------------------------------------------------------


def test_the_command_line_file_wins_over_the_environment_and_the_default_location(
    tmp_path: Path, default_path: Path
) -> None:
    cli, named = tmp_path / "cli.toml", tmp_path / "env.toml"
    for path in (cli, named, default_path):
        appliance_file(path)

    assert locate(cli, {CONFIG_ENV: str(named)}) == (cli, "--config")


def test_the_environment_names_the_file_when_there_is_no_command_line_option(
    tmp_path: Path, default_path: Path
) -> None:
    named = appliance_file(tmp_path / "env.toml")
    appliance_file(default_path)

    assert locate(None, {CONFIG_ENV: str(named)}) == (named, "$HERMES_CA_TUI_CONFIG")


def test_the_default_location_is_read_when_nothing_names_a_file(default_path: Path) -> None:
    appliance_file(default_path)

    assert locate(None, {}) == (default_path, "default location")
    loaded = load(None, None, {})
    assert (loaded.path, loaded.source, loaded.profile.embedded) == (
        default_path,
        "default location",
        False,
    )


def test_without_a_file_or_variables_the_embedded_default_applies(default_path: Path) -> None:
    assert locate(None, {}) == (None, "none")

    loaded = load(None, None, {"HERMES_CA_TUI_CRASH_AT": "create.trusted", "HOME": "/root"})

    assert loaded.source == "embedded default"
    assert loaded.profile.embedded
    assert loaded.profile.data_dir == default_data_dir().absolute()
    assert loaded.profile.hermes_url.startswith("sqlite:///")
    assert loaded.settings == ()


def test_data_dir_wins_over_the_command_line_file_and_the_environment(
    tmp_path: Path, default_path: Path
) -> None:
    cli = appliance_file(tmp_path / "cli.toml")
    env = {CONFIG_ENV: str(cli), "HERMES_CA_TUI_DATABASE__HERMES": HERMES_DSN}

    loaded = load(cli, tmp_path / "data", env)

    assert (loaded.source, loaded.path) == ("--data-dir", None)
    assert loaded.profile.embedded
    assert loaded.profile.data_dir == (tmp_path / "data").absolute()
    assert loaded.profile.hermes_url == f"sqlite:///{tmp_path / 'data' / 'hermes.sqlite3'}"


# --- values and where they came from ----------------------------------------------------


def test_a_full_file_gives_the_appliance_profile_and_names_its_source_per_key(
    tmp_path: Path, default_path: Path
) -> None:
    path = write_config(
        tmp_path / "full.toml",
        {
            "ca_root": "/opt/hermes/CA",
            "security_conf": "/etc/security.conf",
            "audit_log": "/var/log/x/audit.jsonl",
            "lock_timeout": 5,
        },
        database={"hermes": HERMES_DSN, "djigzo": DJIGZO_DSN},
        ciphermail={
            "mode": "docker",
            "docker_url": "unix:///run/docker.sock",
            "container": "cm",
            "timeout": 30,
        },
        tui={"theme": "textual-light"},
    )

    loaded = load(path, None, {})

    p = loaded.profile
    assert (p.embedded, p.data_dir, p.label) == (False, None, str(path))
    assert (p.ca_root, p.security_conf, p.audit_log) == (
        Path("/opt/hermes/CA"),
        Path("/etc/security.conf"),
        Path("/var/log/x/audit.jsonl"),
    )
    assert (p.hermes_url, p.djigzo_url) == (HERMES_DSN, DJIGZO_DSN)
    assert (p.bridge_mode, p.docker_url, p.container, p.docker_timeout) == (
        "docker",
        "unix:///run/docker.sock",
        "cm",
        30.0,
    )
    assert p.lock_timeout == 5.0
    assert p.certstore == tuple(CERTSTORE_COMMAND)
    assert sources(loaded) == {
        **dict.fromkeys(config.SCHEMA, str(path)),
        "ciphermail.certstore": "default",
    }
    assert loaded.tables == {"tui": {"theme": "textual-light"}}


def test_keys_left_out_of_the_file_take_their_defaults(tmp_path: Path, default_path: Path) -> None:
    path = write_config(tmp_path / "min.toml", {}, database={"hermes": "a=1", "djigzo": "b=2"})

    p = load(path, None, {}).profile

    assert (p.ca_root, p.security_conf, p.audit_log) == (
        Path("/opt/hermes/CA"),
        Path("/opt/hermes/config/security.conf"),
        Path("/var/log/hermes-ca-tui/audit.jsonl"),
    )
    assert (p.bridge_mode, p.docker_url, p.container) == (
        "docker",
        "unix:///var/run/docker.sock",
        "hermes_ciphermail",
    )
    assert (p.docker_timeout, p.lock_timeout) == (DEFAULT_TIMEOUT_S, DEFAULT_TIMEOUT)


def test_environment_variables_override_single_keys_and_are_named_as_the_source(
    tmp_path: Path, default_path: Path
) -> None:
    path = appliance_file(tmp_path / "file.toml")
    env = {
        "HERMES_CA_TUI_DATABASE__HERMES": "postgresql://ops@/other?host=/tmp",
        "HERMES_CA_TUI_CA_ROOT": "/data/CA",
        "HERMES_CA_TUI_CIPHERMAIL__MODE": "docker",
        "HERMES_CA_TUI_CIPHERMAIL__TIMEOUT": "45",
        "HERMES_CA_TUI_LOCK_TIMEOUT": "0",
        "HERMES_CA_TUI_CIPHERMAIL__CERTSTORE": "/usr/bin/java -jar certstore.jar",
    }

    loaded = load(path, None, env)

    p = loaded.profile
    assert p.hermes_url == "postgresql://ops@/other?host=/tmp"
    assert p.djigzo_url == DJIGZO_DSN  # not overridden: still the file's
    assert (p.ca_root, p.bridge_mode, p.docker_timeout, p.lock_timeout) == (
        Path("/data/CA"),
        "docker",
        45.0,
        0.0,
    )
    assert p.certstore == ("/usr/bin/java", "-jar", "certstore.jar")
    got = sources(loaded)
    assert got["database.hermes"] == "$HERMES_CA_TUI_DATABASE__HERMES"
    assert got["ca_root"] == "$HERMES_CA_TUI_CA_ROOT"
    assert got["ciphermail.mode"] == "$HERMES_CA_TUI_CIPHERMAIL__MODE"
    assert got["lock_timeout"] == "$HERMES_CA_TUI_LOCK_TIMEOUT"
    assert got["database.djigzo"] == str(path)
    assert got["security_conf"] == "default"


def test_environment_variables_alone_configure_the_appliance(default_path: Path) -> None:
    env = {
        "HERMES_CA_TUI_DATABASE__HERMES": HERMES_DSN,
        "HERMES_CA_TUI_DATABASE__DJIGZO": DJIGZO_DSN,
    }

    loaded = load(None, None, env)

    assert (loaded.path, loaded.profile.label, loaded.profile.embedded) == (
        None,
        "environment",
        False,
    )
    assert (loaded.profile.hermes_url, loaded.profile.djigzo_url) == (HERMES_DSN, DJIGZO_DSN)


# --- errors: each its own message, all CONFIG_INVALID (exit code 4) ---------------------


def test_a_missing_command_line_file_is_named_with_its_option(tmp_path: Path) -> None:
    with pytest.raises(CaError) as exc:
        load(tmp_path / "nope.toml", None, {})

    text = refusal(exc)
    assert str(tmp_path / "nope.toml") in text
    assert "(--config) does not exist" in text


def test_a_missing_file_named_by_the_environment_is_named_with_its_variable(
    tmp_path: Path,
) -> None:
    with pytest.raises(CaError) as exc:
        load(None, None, {CONFIG_ENV: str(tmp_path / "gone.toml")})

    assert "gone.toml ($HERMES_CA_TUI_CONFIG) does not exist" in refusal(exc)


def test_a_folder_in_place_of_the_file_is_reported_as_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "conf.d"
    folder.mkdir()

    with pytest.raises(CaError) as exc:
        load(folder, None, {})

    text = refusal(exc)
    assert f"{folder} cannot be read" in text
    assert "does not exist" not in text


def test_a_file_that_is_not_utf8_is_reported_as_such(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'ca_root = "/srv/\xe9t\xe9"\n')

    with pytest.raises(CaError) as exc:
        load(path, None, {})

    assert f"{path} is not UTF-8 text" in refusal(exc)


def test_invalid_toml_is_reported_with_the_file_and_the_parser_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[database]\nhermes = "postgresql://x\n')

    with pytest.raises(CaError) as exc:
        load(path, None, {})

    text = refusal(exc)
    assert f"{path} is not valid TOML" in text
    assert "line 2" in text


def test_unknown_keys_are_named_at_the_top_and_inside_tables(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "typo.toml",
        {"colour": "red"},
        database={"hermes": "a=1", "djigzo": "b=2", "port": 5432},
    )

    with pytest.raises(CaError) as exc:
        load(path, None, {})

    assert "unknown key(s) colour, database.port" in refusal(exc)


@pytest.mark.parametrize(
    ("top", "tables", "expected"),
    [
        ({"ca_root": 5}, {}, "ca_root ({path}) must be a non-empty string, not 5"),
        ({"audit_log": "  "}, {}, "audit_log ({path}) must be a non-empty string"),
        ({}, {"ciphermail": {"mode": "ssh"}}, 'must be "docker" or "sql", not \'ssh\''),
        ({}, {"ciphermail": {"timeout": "soon"}}, "must be a number of seconds, not 'soon'"),
        ({}, {"ciphermail": {"timeout": True}}, "must be a number of seconds, not True"),
        ({}, {"ciphermail": {"timeout": 0}}, "must be between 1 and 3600 seconds"),
        ({"lock_timeout": -1}, {}, "lock_timeout ({path}) must be between 0 and 3600 seconds"),
        ({}, {"ciphermail": {"certstore": [1, 2]}}, "must be a list of strings"),
        ({}, {"database": {"hermes": "mysql://x/y"}}, "a postgresql://, sqlite:/// URL or a"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key_the_file_and_what_it_must_be(
    tmp_path: Path, top: dict[str, Any], tables: dict[str, dict[str, Any]], expected: str
) -> None:
    database = {"hermes": "a=1", "djigzo": "b=2", **tables.pop("database", {})}
    path = write_config(tmp_path / "typed.toml", top, database=database, **tables)

    with pytest.raises(CaError) as exc:
        load(path, None, {})

    assert expected.format(path=path) in refusal(exc)


def test_a_wrong_value_from_the_environment_names_the_variable(
    tmp_path: Path, default_path: Path
) -> None:
    path = appliance_file(tmp_path / "file.toml")

    with pytest.raises(CaError) as exc:
        load(path, None, {"HERMES_CA_TUI_CIPHERMAIL__TIMEOUT": "ten"})

    assert "ciphermail.timeout ($HERMES_CA_TUI_CIPHERMAIL__TIMEOUT) must be a number" in refusal(
        exc
    )


def test_a_missing_database_key_is_named_with_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "half.toml", {}, database={"hermes": HERMES_DSN})

    with pytest.raises(CaError) as exc:
        load(path, None, {})

    assert f"database.djigzo is not set (in {path})" in refusal(exc)


def test_a_missing_database_key_without_a_file_points_at_the_environment(
    default_path: Path,
) -> None:
    with pytest.raises(CaError) as exc:
        load(None, None, {"HERMES_CA_TUI_DATABASE__HERMES": HERMES_DSN})

    assert "database.djigzo is not set (in the environment)" in refusal(exc)


def test_each_error_has_its_own_message(tmp_path: Path) -> None:
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    broken = tmp_path / "broken.toml"
    broken.write_text("= nothing\n")
    cases = [
        tmp_path / "missing.toml",
        folder,
        broken,
        write_config(tmp_path / "unknown.toml", {"colour": 1}),
        write_config(tmp_path / "type.toml", {"ca_root": 1}, database={"hermes": "a=1"}),
        write_config(tmp_path / "nodb.toml", {}),
    ]
    texts = []
    for path in cases:
        with pytest.raises(CaError) as exc:
            load(path, None, {})
        texts.append(refusal(exc).replace(str(path), "<file>"))

    assert len(set(texts)) == len(cases), texts
