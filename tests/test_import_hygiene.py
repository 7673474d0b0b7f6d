"""The layers, checked at run time: feeds never load Textual; widgets never load the
transports. (pyproject's import-linter contracts check the same statically.)"""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def modules(package: str) -> list[str]:
    found = [package]
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=package + "."):
        found.append(info.name)
    return found


def loaded_after_import(*names: str) -> set[str]:
    imports = "; ".join(f"import {m}" for m in names)
    code = f"import sys; {imports}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_feeds_never_import_textual() -> None:
    # Importing every feeds module at once: if any of them pulls Textual in, it shows.
    loaded = loaded_after_import(*modules("feeds"))
    assert "textual" not in loaded
    assert not {m for m in loaded if m.startswith(("widgets", "tui"))}


@pytest.mark.parametrize(
    "module",
    ["feeds.model", "feeds.core.store", "feeds.btc.parse", "feeds.core.decode", "feeds.core.text"],
)
def test_pure_feed_modules_do_not_even_load_rich(module: str) -> None:
    assert "rich" not in loaded_after_import(module)


def test_widgets_never_import_transports() -> None:
    loaded = loaded_after_import(*modules("widgets"))
    assert not {"websockets", "httpx", "tui"} & loaded
    assert not {m for m in loaded if m.startswith("feeds.core.poll")}


def test_no_tls_verification_switch_anywhere() -> None:
    """G-S-2: there is no code path that turns certificate checks off."""
    for package in ("feeds", "widgets", "tui"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            assert "verify=False" not in text, path
            assert "CERT_NONE" not in text, path
            assert "check_hostname = False" not in text, path


def test_no_eval_or_pickle_on_data() -> None:
    banned = re.compile(r"(?<![\w.])(?:eval|exec)\(|\bpickle\b|yaml\.load\(|shell=True")
    for package in ("feeds", "widgets", "tui"):
        for path in (ROOT / package).rglob("*.py"):
            found = banned.search(path.read_text())
            assert found is None, (path, found.group(0) if found else "")
