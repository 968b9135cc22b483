"""`leaddesk offer add`, `offer export` and `offer import`: options, secrets and errors."""

from __future__ import annotations

import getpass
import io
import json
import logging
import sys

import pytest

from leaddesk.cli.main import main
from leaddesk.core.offer_config import (
    AUTH_SECRET,
    AuthKind,
    BodyFormat,
    Header,
    Method,
    SourceKind,
)
from leaddesk.services import directory, offer_secrets
from leaddesk.storage.database import open_database

API_KEY = "sk-live-4f1c9e7a2b"


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data_dir), *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def stored(data_dir):
    """The configuration and secrets of a stored offer, read from the data file."""

    def read(name: str):
        database = open_database(data_dir)
        try:
            with database.session() as session:
                offer = directory.offer_by_name(session, name)
                config = directory.offer_config(offer)
                secrets = offer_secrets.load(session, offer.id, config.secret_names())
                return config, secrets, offer.product.name if offer.product else None
        finally:
            database.close()

    return read


def test_offer_add_takes_the_endpoint_options_and_a_secret_from_the_environment(
    cli, stored, monkeypatch, memory_keyring, caplog
):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SOLAR_KEY", API_KEY)
    code, out, err = cli(
        "offer", "add", "Solar", "--url", "http://api.example.com/in", "--product", "Energy",
        "--method", "put", "--body", "form", "--header", "X-Source: web",
        "--header", "X-Campaign:  spring 24 ", "--auth", "header", "--auth-name", "X-Api-Key",
        "--secret-env", "SOLAR_KEY", "--allow-http",
    )  # fmt: skip

    assert code == 0, err
    assert "Added offer 'Solar'" in out and "kept in the system keyring" in out
    config, secrets, product = stored("Solar")
    endpoint = config.endpoint
    assert (endpoint.method, endpoint.body_format) == (Method.PUT, BodyFormat.FORM)
    assert endpoint.headers == (Header("X-Source", "web"), Header("X-Campaign", "spring 24"))
    assert (endpoint.auth, endpoint.auth_name) == (AuthKind.HEADER, "X-Api-Key")
    assert endpoint.allow_plain_http and product == "Energy"
    assert secrets == {AUTH_SECRET: API_KEY}
    assert API_KEY not in out + err + caplog.text


def test_offer_add_asks_for_the_secret_unseen_and_warns_without_a_keyring(
    cli, stored, monkeypatch
):
    prompts = []

    def typed(prompt: str) -> str:
        prompts.append(prompt)
        return API_KEY

    monkeypatch.setattr(getpass, "getpass", typed)
    code, out, err = cli(
        "offer", "add", "Solar", "--url", "https://api.example.com/in",
        "--auth", "bearer", "--secret",
    )  # fmt: skip

    assert code == 0, err
    assert prompts == ["Bearer token: "]
    assert "kept in the data file" in out
    assert "no system keyring" in err
    assert API_KEY not in out + err
    assert stored("Solar")[1] == {AUTH_SECRET: API_KEY}


def test_offer_add_from_a_preset_keeps_what_the_options_do_not_change(cli, stored):
    code, _, err = cli(
        "offer", "add", "Solar", "--url", "https://api.example.com/in",
        "--preset", "form_area_code", "--auth-name", "X-Key",
    )  # fmt: skip

    assert code == 0
    config = stored("Solar")[0]
    assert config.preset == "form_area_code"
    assert config.endpoint.body_format is BodyFormat.FORM
    assert (config.endpoint.auth, config.endpoint.auth_name) == (AuthKind.HEADER, "X-Key")
    assert SourceKind.PASSWORD in [rule.source for rule in config.fields]
    assert "No secret was given" in err and "API key (header X-Key)" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--url", "http://api.example.com/in"), "unencrypted over http://"),
        (("--url", "https://a.example.com", "--method", "GET"), "query string"),
        (("--url", "https://a.example.com", "--header", "X-Source"), "'Name: value'"),
        (("--url", "https://a.example.com", "--auth", "query"), "Name the header, field"),
        (("--url", "https://a.example.com", "--secret-env", "KEY"), "needs an authentication"),
        (
            ("--url", "https://a.example.com", "--auth", "bearer", "--secret-env", "NO_SUCH"),
            "NO_SUCH is not set",
        ),
        (("--url", "https://a.example.com", "--preset", "Nope"), "no preset named 'Nope'"),
    ],
)
def test_offer_add_refuses_what_cannot_send_and_adds_nothing(cli, args, message):
    code, out, err = cli("offer", "add", "Solar", *args)
    assert code == 1 and message in err and out == ""
    assert cli("offer", "export", "Solar")[0] == 1


def test_a_secret_is_never_taken_as_a_plain_argument(cli):
    with pytest.raises(SystemExit):
        cli("offer", "add", "Solar", "--url", "https://a.example.com", "--secret", API_KEY)


def test_export_to_stdout_and_import_under_another_name(cli, stored, tmp_path, monkeypatch):
    monkeypatch.setenv("SOLAR_KEY", API_KEY)
    cli(
        "offer", "add", "Solar", "--url", "https://api.example.com/in", "--product", "Energy",
        "--auth", "basic", "--auth-name", "partner", "--secret-env", "SOLAR_KEY",
    )  # fmt: skip

    code, out, err = cli("offer", "export", "Solar")
    assert code == 0 and API_KEY not in out
    assert json.loads(out)["name"] == "Solar"
    assert "Left out 1 secret the receiver must enter: Password of the user partner." in err

    path = tmp_path / "solar.json"
    code, out, _ = cli("offer", "export", "Solar", "-o", str(path))
    assert code == 0 and out.strip() == f"Exported offer 'Solar' to {path}."

    code, _, err = cli("offer", "import", str(path))
    assert code == 1 and "already an offer named 'Solar'" in err

    code, out, _ = cli("offer", "import", str(path), "--name", "Solar copy")
    assert code == 0
    assert "Imported offer 'Solar copy' (ID 2)" in out
    assert "Enter its secrets in the app" in out and "Password of the user partner" in out
    copy_config, copy_secrets, product = stored("Solar copy")
    assert copy_config == stored("Solar")[0]
    assert copy_secrets == {} and product == "Energy"


def test_import_reads_standard_input(cli, tmp_path, monkeypatch):
    cli("offer", "add", "Solar", "--url", "https://api.example.com/in")
    text = cli("offer", "export", "Solar")[1]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))

    code, out, _ = cli("offer", "import", "-", "--name", "Solar 2")
    assert code == 0 and "Imported offer 'Solar 2'" in out


def test_import_of_a_broken_or_newer_file_changes_nothing(cli, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    code, out, err = cli("offer", "import", str(broken))
    assert code == 1 and "is not valid JSON (line 1, column 2" in err and out == ""

    cli("offer", "add", "Solar", "--url", "https://api.example.com/in")
    data = json.loads(cli("offer", "export", "Solar")[1])
    data["version"] = 2
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = cli("offer", "import", str(newer), "--name", "Solar 2")
    assert code == 1 and "exported by a newer LeadDesk" in err
    assert cli("offer", "export", "Solar 2")[0] == 1
