"""A full disk and a read-only folder, on real small file systems where the machine allows."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import text

from leaddesk.cli.main import main
from leaddesk.errors import DataFileError
from leaddesk.storage.database import open_database


def _mount(*args: str) -> bool:
    if shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB file system of its own, mounted for the test."""
    folder = tmp_path / "small"
    folder.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(folder)):
        pytest.skip("mounting a small file system needs root; this machine does not allow it")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def write_leads(path, count: int) -> None:
    rows = "".join(
        f"Person{n},Example{n},person{n}@example.com,{'x' * 300}\n" for n in range(count)
    )
    path.write_text("First Name,Last Name,Email,Notes\n" + rows, encoding="utf-8")


def test_a_full_disk_says_so_and_leaves_no_partial_list(tmp_path, small_disk, capsys):
    data = str(small_disk / "data")
    lead_file = tmp_path / "leads.csv"
    write_leads(lead_file, 20)
    assert main(["--data-dir", data, "import", str(lead_file), "--list", "Small"]) == 0
    write_leads(lead_file, 20_000)
    capsys.readouterr()

    code = main(["--data-dir", data, "import", str(lead_file), "--list", "Too big"])

    err = capsys.readouterr().err
    assert code == 1
    assert "full" in err and "Free some space" in err
    assert "Traceback" not in err
    assert main(["--data-dir", data, "distributions"]) == 0
    database = open_database(small_disk / "data")
    with database.session() as session:
        titles = session.execute(text("SELECT title, lead_count FROM lead_list")).all()
    database.close()
    assert titles == [("Small", 20)]


def test_a_read_only_folder_says_what_to_do(small_disk):
    open_database(small_disk / "data").close()
    if not _mount("-o", "remount,ro", str(small_disk)):
        pytest.skip("remounting read-only is not allowed on this machine")

    with pytest.raises(DataFileError, match="read-only"):
        open_database(small_disk / "data")
