"""``config check`` and ``db init`` run for real in a subprocess, and every configuration error.

Runs go through :func:`app`, which starts ``python -m hermes_ca_tui`` without
``--data-dir`` (or with the default configuration path moved into ``tmp_path``), with no
``HERMES_CA_TUI_*`` variable inherited, and checks that no traceback is ever printed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hermes_ca_tui.core.session import Profile
from tests.config_support import profile_config, run_app, write_config
from tests.core.store import raw

SECRET = "secret"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def text(self) -> str:
        return self.out + self.err


def app(*args: str, env: dict[str, str] | None = None, default_config: Path | None = None) -> Run:
    """Run the CLI; never a traceback, and with ``--json`` always one JSON document."""
    done = run_app(*args, env=env, default_config=default_config)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    if "--json" in args:
        json.loads(done.stdout)
    return Run(done.returncode, done.stdout, done.stderr)


def stores(run: Run) -> dict[str, tuple[bool, str]]:
    return {s["name"]: (s["ok"], s["detail"]) for s in run.json["stores"]}


def sqlite_config(tmp_path: Path, **ciphermail: str) -> Path:
    """A configuration on SQLite files in ``tmp_path/db`` (created), CA root in tmp_path."""
    (tmp_path / "db").mkdir(exist_ok=True)
    return write_config(
        tmp_path / "sqlite.toml",
        {
            "ca_root": str(tmp_path / "CA"),
            "security_conf": str(tmp_path / "security.conf"),
            "audit_log": str(tmp_path / "log" / "audit.jsonl"),
        },
        database={
            "hermes": f"sqlite:///{tmp_path / 'db' / 'hermes.sqlite3'}",
            "djigzo": f"sqlite:///{tmp_path / 'db' / 'djigzo.sqlite3'}",
        },
        ciphermail={"mode": "sql", **ciphermail},
    )


# --- config check -----------------------------------------------------------------------


@pytest.mark.postgres
def test_config_check_prints_each_key_with_its_source_and_every_store_ok(
    pg_profile: Profile, tmp_path: Path
) -> None:
    config = profile_config(tmp_path / "hermes-ca-tui.toml", pg_profile)

    text = app("--config", str(config), "config", "check")
    doc = app("--config", str(config), "config", "check", "--json")

    assert (text.code, doc.code) == (0, 0)
    assert f"configuration: {config} (--config)" in text.out
    line = rf"^\s+ca_root\s+{re.escape(str(pg_profile.ca_root))}\s+\[{re.escape(str(config))}\]$"
    assert re.search(line, text.out, re.MULTILINE), text.out
    assert re.search(
        r"^\s+ciphermail\.container\s+hermes_ciphermail\s+\[default\]$", text.out, re.M
    )
    assert "hermes: ok (postgresql)" in text.out
    assert "djigzo: ok (postgresql)" in text.out
    assert "ciphermail: ok (sql mode)" in text.out
    assert doc.json["ok"] is True
    assert (doc.json["config"], doc.json["source"], doc.json["embedded"]) == (
        str(config),
        "--config",
        False,
    )
    sources = {s["key"]: s["source"] for s in doc.json["settings"]}
    assert sources["database.hermes"] == str(config)
    assert sources["ciphermail.docker_url"] == "default"
    assert stores(doc) == {
        "hermes": (True, "postgresql"),
        "djigzo": (True, "postgresql"),
        "ciphermail": (True, "sql mode"),
    }


@pytest.mark.postgres
def test_config_check_names_an_environment_override_as_the_source(
    pg_profile: Profile, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "partial.toml",
        {"ca_root": str(tmp_path / "CA")},
        database={"hermes": pg_profile.hermes_url, "djigzo": "host=/nowhere dbname=x"},
        ciphermail={"mode": "docker"},
    )
    env = {
        "HERMES_CA_TUI_CONFIG": str(config),
        "HERMES_CA_TUI_DATABASE__DJIGZO": pg_profile.djigzo_url,
        "HERMES_CA_TUI_CIPHERMAIL__MODE": "sql",
        "HERMES_CA_TUI_AUDIT_LOG": str(tmp_path / "log" / "audit.jsonl"),
    }

    run = app("config", "check", "--json", env=env)

    assert run.code == 0, run.text
    assert run.json["source"] == "$HERMES_CA_TUI_CONFIG"
    sources = {s["key"]: s["source"] for s in run.json["settings"]}
    assert sources["database.djigzo"] == "$HERMES_CA_TUI_DATABASE__DJIGZO"
    assert sources["ciphermail.mode"] == "$HERMES_CA_TUI_CIPHERMAIL__MODE"
    assert sources["database.hermes"] == str(config)
    assert stores(run)["djigzo"] == (True, "postgresql")


@pytest.mark.postgres
def test_a_dsn_password_never_appears_in_output_or_log(pg_profile: Profile, tmp_path: Path) -> None:
    # The throwaway server trusts local connections: the password is sent and ignored.
    hermes = f"{pg_profile.hermes_url} password={SECRET}"
    unreachable = f"host={tmp_path / 'nosocket'} dbname=djigzo user=postgres password={SECRET}"
    config = write_config(
        tmp_path / "with-password.toml",
        {"ca_root": str(tmp_path / "CA"), "audit_log": str(tmp_path / "log" / "audit.jsonl")},
        database={"hermes": hermes, "djigzo": unreachable},
        ciphermail={"mode": "sql"},
    )
    url_config = write_config(
        tmp_path / "url.toml",
        {"ca_root": str(tmp_path / "CA"), "audit_log": str(tmp_path / "log" / "audit.jsonl")},
        database={
            "hermes": f"postgresql://postgres:{SECRET}@/x?host={tmp_path / 'nosocket'}",
            "djigzo": unreachable,
        },
        ciphermail={"mode": "sql"},
    )

    runs = [
        app("--config", str(config), "config", "check"),
        app("--config", str(config), "config", "check", "--json"),
        app("--config", str(url_config), "config", "check", "--json"),
        app("--config", str(url_config), "list", "--json"),
    ]

    assert [r.code for r in runs] == [4, 4, 4, 4]
    for run in runs:
        assert SECRET not in run.text
    assert "password=***" in runs[0].out
    assert stores(runs[1])["hermes"] == (True, "postgresql")
    assert stores(runs[1])["djigzo"][0] is False
    log = (tmp_path / "log" / "hermes-ca-tui.log").read_text()
    assert SECRET not in log


def test_an_unreachable_database_fails_config_check_and_any_command_with_exit_4(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "no-server"
    folder.mkdir()
    config = write_config(
        tmp_path / "down.toml",
        {"ca_root": str(tmp_path / "CA"), "audit_log": str(tmp_path / "log" / "audit.jsonl")},
        database={
            "hermes": f"host={folder} dbname=hermes user=postgres",
            "djigzo": f"host={folder} dbname=djigzo user=postgres",
        },
        ciphermail={"mode": "sql"},
    )

    check = app("--config", str(config), "config", "check")
    listed = app("--config", str(config), "list", "--json")
    text = app("--config", str(config), "list")

    assert check.code == 4
    assert "hermes: FAILED" in check.out and "djigzo: FAILED" in check.out
    assert f'socket "{folder}/.s.PGSQL.5432" failed' in check.out
    assert listed.code == 4
    assert listed.json["error"]["code"] == "DATABASE_UNAVAILABLE"
    assert "The hermes database cannot be used" in listed.json["error"]["message"]
    assert text.code == 4
    assert text.out == ""
    assert text.err.startswith("Database Unavailable: The hermes database cannot be used")
    assert len(text.err.strip().splitlines()) == 1


def test_config_check_in_docker_mode_names_the_missing_socket_and_exits_4(
    tmp_path: Path,
) -> None:
    config = sqlite_config(tmp_path, mode="docker", docker_url="unix:///nonexistent.sock")
    assert app("--config", str(config), "db", "init").code == 0

    text = app("--config", str(config), "config", "check")
    doc = app("--config", str(config), "config", "check", "--json")

    assert (text.code, doc.code) == (4, 4)
    assert doc.json["ok"] is False
    result = stores(doc)
    assert result["hermes"] == (True, "sqlite") and result["djigzo"] == (True, "sqlite")
    ok, detail = result["ciphermail"]
    assert not ok
    assert detail.startswith("the Docker socket /nonexistent.sock does not exist.")
    assert "ciphermail: FAILED" in text.out


def test_a_listing_in_docker_mode_without_the_socket_still_works_for_the_rest(
    tmp_path: Path,
) -> None:
    config = sqlite_config(tmp_path, mode="docker", docker_url="unix:///nonexistent.sock")
    assert app("--config", str(config), "db", "init").code == 0

    listed = app("--config", str(config), "list", "--json")

    assert (listed.code, listed.json) == (0, [])


# --- configuration errors: one clear message each, exit 4, never a traceback -------------


def _broken_files(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    invalid = tmp_path / "invalid.toml"
    invalid.write_text("[database\nhermes = 1\n")
    return {
        "missing --config file": (
            ["--config", str(tmp_path / "absent.toml")],
            f"{tmp_path / 'absent.toml'} (--config) does not exist",
        ),
        "a folder": (["--config", str(folder)], f"{folder} cannot be read: Is a directory"),
        "invalid TOML": (["--config", str(invalid)], f"{invalid} is not valid TOML"),
        "unknown key": (
            ["--config", str(write_config(tmp_path / "unknown.toml", {"colour": "red"}))],
            "unknown key(s) colour",
        ),
        "wrong type": (
            [
                "--config",
                str(
                    write_config(
                        tmp_path / "type.toml",
                        {"lock_timeout": "soon"},
                        database={"hermes": "a=1", "djigzo": "b=2"},
                    )
                ),
            ],
            "lock_timeout",
        ),
        "missing database key": (
            [
                "--config",
                str(write_config(tmp_path / "nodb.toml", {}, database={"hermes": "a=1"})),
            ],
            "database.djigzo is not set",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing --config file",
        "a folder",
        "invalid TOML",
        "unknown key",
        "wrong type",
        "missing database key",
    ],
)
@pytest.mark.parametrize("command", [["config", "check"], ["list"], ["db", "init"]])
def test_a_bad_configuration_is_one_clear_line_and_exit_4(
    tmp_path: Path, case: str, command: list[str]
) -> None:
    options, expected = _broken_files(tmp_path)[case]

    text = app(*options, *command)
    doc = app(*options, *command, "--json")

    assert (text.code, doc.code) == (4, 4)
    assert text.out == ""
    assert text.err.startswith("Configuration Error: ")
    assert expected in text.err
    assert text.err.strip().endswith("(CONFIG_INVALID)")
    assert len(text.err.strip().splitlines()) == 1
    assert doc.json["error"]["code"] == "CONFIG_INVALID"
    assert expected in doc.json["error"]["message"]


def test_the_configuration_named_by_the_environment_is_used_and_reported(
    tmp_path: Path,
) -> None:
    config = sqlite_config(tmp_path)

    run = app("config", "check", "--json", env={"HERMES_CA_TUI_CONFIG": str(config)})

    assert run.json["source"] == "$HERMES_CA_TUI_CONFIG"
    assert run.json["config"] == str(config)


def test_the_default_location_is_used_when_nothing_else_names_a_file(tmp_path: Path) -> None:
    config = sqlite_config(tmp_path)

    run = app("config", "check", "--json", default_config=config)

    assert (run.json["source"], run.json["config"]) == ("default location", str(config))


def test_without_any_configuration_the_embedded_default_checks_ok_on_a_fresh_machine(
    tmp_path: Path,
) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}

    run = app("config", "check", default_config=tmp_path / "none.toml", env=env)
    doc = app("config", "check", "--json", default_config=tmp_path / "none.toml", env=env)

    folder = tmp_path / "xdg" / "hermes-ca-tui"
    assert run.code == 0, run.text
    assert "configuration: none (embedded default)" in run.out
    assert f"embedded default in {folder}" in run.out
    assert "hermes: ok (sqlite)" in run.out
    assert (doc.json["embedded"], doc.json["profile"], doc.json["ok"]) == (True, str(folder), True)
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert (folder / "security.conf").read_text().strip().endswith("ALLOW_CA_DOWNLOAD=no")


def test_data_dir_wins_over_a_broken_configuration(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("not toml at all [\n")
    env = {"HERMES_CA_TUI_CONFIG": str(broken), "HERMES_CA_TUI_DATABASE__HERMES": "x=1"}

    run = app("--data-dir", str(tmp_path / "data"), "config", "check", "--json", env=env)

    assert run.code == 0, run.text
    assert (run.json["source"], run.json["embedded"]) == ("--data-dir", True)
    assert run.json["profile"] == str(tmp_path / "data")


# --- db init ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_db_init_creates_the_tables_with_their_constraints_on_postgresql_twice_over(
    pg_databases: tuple[str, str], tmp_path: Path
) -> None:
    hermes, djigzo = pg_databases
    profile = Profile(
        "pg", tmp_path / "CA", tmp_path / "s.conf", tmp_path / "a.jsonl", hermes, djigzo
    )
    config = profile_config(tmp_path / "pg.toml", profile)
    before = app("--config", str(config), "config", "check", "--json")

    first = app("--config", str(config), "db", "init", "--json")
    second = app("--config", str(config), "db", "init")
    after = app("--config", str(config), "config", "check", "--json")

    assert before.code == 4
    assert "create the tables with: hermes-ca-tui db init" in stores(before)["hermes"][1]
    assert (first.code, second.code, after.code) == (0, 0, 0)
    assert first.json == {
        "ok": True,
        "databases": [
            "hermes: tables created (postgresql)",
            "djigzo: tables created (postgresql)",
        ],
    }
    assert "hermes: tables already there, left unchanged (postgresql)" in second.out
    assert raw.tables(hermes) == ["ca_settings", "recipient_certificates"]
    assert raw.tables(djigzo) == [
        "cm_certificates",
        "cm_certificates_email",
        "cm_ctl",
        "cm_ctl_cm_name_values",
    ]
    assert raw.unique_indexes(hermes, "ca_settings") == [
        "ca_settings_cn_unique",
        "ca_settings_dir_unique",
        "ca_settings_one_default",
    ]


def test_db_init_creates_the_tables_on_sqlite_twice_over(tmp_path: Path) -> None:
    config = sqlite_config(tmp_path)

    first = app("--config", str(config), "db", "init", "--json")
    second = app("--config", str(config), "db", "init", "--json")
    data_dir = app("--data-dir", str(tmp_path / "data"), "db", "init", "--json")

    assert (first.code, second.code, data_dir.code) == (0, 0, 0)
    assert first.json == {
        "ok": True,
        "databases": ["hermes: tables created (sqlite)", "djigzo: tables created (sqlite)"],
    }
    assert second.json == {
        "ok": True,
        "databases": [
            "hermes: tables already there, left unchanged (sqlite)",
            "djigzo: tables already there, left unchanged (sqlite)",
        ],
    }
    assert data_dir.json == first.json
    hermes = f"sqlite:///{tmp_path / 'db' / 'hermes.sqlite3'}"
    assert raw.tables(hermes) == ["ca_settings", "recipient_certificates"]
    assert raw.unique_indexes(hermes, "ca_settings") == [
        "ca_settings_cn_unique",
        "ca_settings_dir_unique",
        "ca_settings_one_default",
    ]
    assert "cm_ctl" in raw.tables(f"sqlite:///{tmp_path / 'data' / 'djigzo.sqlite3'}")


def test_db_init_against_an_unreachable_server_exits_4(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "down.toml",
        {"audit_log": str(tmp_path / "audit.jsonl")},
        database={
            "hermes": f"host={tmp_path} dbname=hermes user=postgres",
            "djigzo": f"host={tmp_path} dbname=djigzo user=postgres",
        },
    )

    run = app("--config", str(config), "db", "init", "--json")

    assert run.code == 4
    assert run.json["error"]["code"] == "DATABASE_UNAVAILABLE"
