"""Without the ``ledger`` extra (SQLAlchemy, Alembic, psycopg) the command line still routes, and the ledger's
commands answer the one-line MissingExtra message with exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: ``mednet`` with the ledger extra's modules unimportable (as if not installed).
WITHOUT_LEDGER = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("sqlalchemy", "alembic", "psycopg"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from mednet.cli import main
code = main(sys.argv[1:])
print("sqlalchemy loaded" if "sqlalchemy" in sys.modules else "sqlalchemy not loaded", file=sys.stderr)
sys.exit(code)
"""


def mednet(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_LEDGER, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "MEDNET_DATA_DIR": str(data_dir)})


def test_routing_works_without_the_ledger_extra(tmp_path):
    done = mednet("route", "quzhou", "--from", "华埠", "--specialty", "普外科", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "开化县人民医院" in done.stdout
    assert "sqlalchemy not loaded" in done.stderr


@pytest.mark.parametrize("command", [["referrals", "list"], ["referrals", "expire"], ["keys", "list"],
                                     ["db", "upgrade"]])
def test_ledger_commands_name_the_missing_extra(command, tmp_path):
    done = mednet(*command, data_dir=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == ("mednet: error: sqlalchemy is needed for this: install mednet's 'ledger' "
                                           "extra (pip install 'mednet[ledger]')")
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # nothing written
