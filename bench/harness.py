"""Run a benchmark's measurements inside a real Home Assistant test instance.

A bench module holds `test_*` functions that use the fixtures of tests/conftest.py
(a real HA from pytest-homeassistant-custom-component, the fake servers) and call
`record()`; its `__main__` calls `run(__file__)`, which runs pytest on the module in a
child process (HA's test plugin must load before Home Assistant is imported) and
returns what was recorded.

Benches run offline: the child loads tests/offline.py as a plugin, whose guard
fails a measurement that tries to reach anything but loopback (naming the host),
even when the code under test turned the error into a spoken sentence. The public
APIs are served by `FakeWeb` (`use_web`), the LLM servers by the fakes or by real
servers on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
from typing import Any

ROOT = Path(__file__).parent.parent
_RESULT_ENV = "ATHENA_BENCH_RESULT"


def record(**values: Any) -> None:
    """Store measurements (JSON-serialisable) for `run()` to return."""
    path = Path(os.environ[_RESULT_ENV])
    data = json.loads(path.read_text()) if path.stat().st_size else {}
    data.update(values)
    path.write_text(json.dumps(data))


def run(bench_file: str) -> dict[str, Any]:
    """Run the `test_*` functions of `bench_file` in HA; return what they recorded.

    Exits with pytest's status when a measurement fails or leaves loopback.
    """
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        status = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                bench_file,
                "-q",
                "-x",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:logging",
                "-p",
                "tests.offline",
                "-c",
                str(ROOT / "pyproject.toml"),
                "--rootdir",
                str(ROOT),
            ],
            cwd=ROOT,
            env={**os.environ, _RESULT_ENV: result.name},
            stdout=sys.stderr,
            check=False,
        ).returncode
        if status != 0:
            sys.exit(status)
        return dict(json.loads(Path(result.name).read_text()))
