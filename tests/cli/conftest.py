"""Fixtures of the command line's tests."""

import pytest

from leaddesk.cli.main import main


@pytest.fixture
def cli(tmp_path, capsys):
    """Run `leaddesk` on the test's data folder (the `database` fixture's too); returns
    the exit code, standard output and standard error."""
    data = str(tmp_path / "data")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", data, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
