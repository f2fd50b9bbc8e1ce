"""What the tests need beyond Python packages, installed when missing: one
helper for `.ci/run`, the README's test command and the tests that use it.

- Debian's Chromium and its driver (the browser tests), and PostgreSQL's
  server binaries (the tests on both backends start a throwaway cluster);
  installed with apt-get when running as root, never started as services.
- pywb in a virtualenv of its own (`.venv-pywb`): the WACZ test replays an
  export in it. Not beside Raqib: pywb brings brotlipy, whose `brotli`
  module would shadow the one Scrapy decodes responses with.

Standard library only: `.ci/run` calls it before any virtualenv exists.
Run `python3 tests/needs.py` to install everything.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYWB = ROOT / ".venv-pywb"
PYWB_VERSION = "2.10.0"


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    """xdist's workers may each find something missing: one installs it, the
    others wait and find it there (two apt-gets at once fail on dpkg's lock)."""
    with open(Path(tempfile.gettempdir()) / f"raqib-tests-needs-{os.geteuid()}.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _missing_debian() -> list[str]:
    need = []
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        need.append("chromium")
    if not shutil.which("chromedriver"):
        need.append("chromium-driver")
    if not (glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb")):
        need.append("postgresql")
    return need


def debian() -> list[str]:
    """Install the missing Debian packages if we can (root, apt-get); returns
    what is still missing."""
    with _one_at_a_time():
        return _install_debian()


def _install_debian() -> list[str]:
    need = _missing_debian()
    root = os.geteuid() == 0
    # Not root: sudo, if it needs no password (-n); else leave it to the user.
    sudo = [] if root else ["sudo", "-n"]
    if not need or not shutil.which("apt-get") or (not root and not shutil.which("sudo")):
        return need
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # policy-rc.d: PostgreSQL's package must not start its own cluster.
    policy = Path("/usr/sbin/policy-rc.d")
    placed = root and not policy.exists()
    if placed:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            [*sudo, "apt-get", "install", "-y", "-qq", *need], check=True, env=env,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"tests/needs.py: cannot install {', '.join(need)}: {exc}", file=sys.stderr)
    finally:
        if placed:
            policy.unlink(missing_ok=True)
    return _missing_debian()


def pywb() -> Path | None:
    """The bin directory of a virtualenv holding pywb (made when missing);
    None if it cannot be made (no network to PyPI)."""
    with _one_at_a_time():
        return _install_pywb()


def _install_pywb() -> Path | None:
    bin_dir = PYWB / "bin"
    if (bin_dir / "wb-manager").exists() and (bin_dir / "wayback").exists():
        return bin_dir
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PYWB)], check=True)
        subprocess.run(
            [str(bin_dir / "pip"), "install", "-q", f"pywb=={PYWB_VERSION}"],
            check=True, timeout=900,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"tests/needs.py: cannot install pywb: {exc}", file=sys.stderr)
        return None
    return bin_dir


def chromium() -> tuple[str, str] | None:
    """(browser, driver) paths, installing them first if missing and possible."""
    if _missing_debian():
        debian()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


if __name__ == "__main__":
    still = debian()
    if still:
        print(f"tests/needs.py: still missing from Debian: {', '.join(still)}", file=sys.stderr)
    if pywb() is None or still:
        sys.exit(1)
