"""A skip whose reason starts "needs-system:" is a failure where MEDNET_REQUIRE_SYSTEM=1 (as in CI)."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path


def test_system_skip_fails_only_when_required(tmp_path):
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_x.py").write_text(textwrap.dedent("""
        import pytest
        def test_needs_a_server():
            pytest.skip("needs-system: a server that is not here")
        def test_other():
            pytest.skip("some other reason")
    """), encoding="utf-8")

    def summary(required: str) -> str:
        env = {**os.environ, "MEDNET_REQUIRE_SYSTEM": required}
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark",
                              str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path)
        return run.stdout.strip().splitlines()[-1]

    assert "2 skipped" in summary("0") and "failed" not in summary("0")
    strict = summary("1")
    assert "1 failed" in strict and "1 skipped" in strict
