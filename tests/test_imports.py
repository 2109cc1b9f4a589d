"""Every module imports on its own (no import circle), and the answer types come without numba."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for package in ("mednet", "service") for path in (ROOT / package).rglob("*.py")
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_every_module_is_listed() -> None:
    assert {"mednet.routing.answers", "mednet.routing.kernel", "service.app"} <= set(MODULES)


_IMPORT_EACH_ALONE = """
import importlib, sys, traceback
failed = []
for module in sys.argv[1:]:
    for name in [m for m in sys.modules if m.split(".")[0] in ("mednet", "service")]:
        del sys.modules[name]  # the project's modules start afresh; third-party ones stay loaded
    try:
        importlib.import_module(module)
    except Exception:
        failed.append(module + ": " + traceback.format_exc(limit=-3))
print("\\n".join(failed))
"""


def test_each_module_imports_alone() -> None:
    """Each module imported first, with none of the project's modules loaded: an import circle fails here."""
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH_ALONE, *MODULES], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


@pytest.mark.parametrize("module", ["mednet", "mednet.routing", "mednet.routing.answers", "mednet.routing.request"])
def test_answer_types_do_not_import_numba(module: str) -> None:
    done = _run(f"import sys, {module}; from mednet.routing import Referral, Point; "
                "print(sorted(m for m in sys.modules if m == 'numba' or m.startswith('numba.')))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"{module} imported {done.stdout.strip()}"


def test_the_router_does_import_numba() -> None:  # the check above can fail: numba does show in sys.modules
    done = _run("import sys; from mednet.routing import Router; print('numba' in sys.modules)")
    assert done.stdout.strip() == "True", done.stderr
