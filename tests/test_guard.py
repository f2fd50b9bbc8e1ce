"""The address guard on every request, in a loopback-only network namespace:
redirects to 10/8, 169.254/16 and fd00::/8 and a name that rebinds are refused
before anything connects (a trap listens on each of those addresses)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _namespaces() -> str | None:
    """Why the test cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root to make a network namespace (CI runs as root)"
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        return "unshare -n is not permitted here"
    return None


@pytest.mark.skipif(_namespaces() is not None, reason=str(_namespaces()))
def test_no_fetch_reaches_outside_its_network() -> None:
    p = subprocess.run(
        ["unshare", "-n", sys.executable, str(ROOT / "tests" / "netns_world.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert p.returncode == 0, p.stderr
    world = json.loads(p.stdout.splitlines()[-1])
    assert world["check"] == 0, world["stderr"]
    # Nothing connected to 10.0.0.1 (but the intranet page's own port), 169.254.169.254 or
    # fd00::1: not a redirected robots.txt either, once the pass had reached 10.0.0.1.
    assert world["caught"] == []
    by_path = {url.split("/", 3)[-1]: log[-1] for url, log in world["logs"].items()}
    for path in ("to-private", "to-metadata", "to-ula"):
        last = by_path[path]
        assert last["outcome"] == "error", (path, last)
        assert last["detail"].startswith("private address guard:"), last["detail"]
        assert "outside the loopback network" in last["detail"]
    assert by_path["intranet"]["outcome"] == "new_version"  # watched by the user: its own network
    # A name that answers 127.0.0.1 once and 10.0.0.1 after: fetched at the address checked.
    assert by_path["to-rebinding-name"]["outcome"] == "new_version"
    # A public name that resolves into the private network: refused, never connected.
    evil = by_path["article"]
    assert evil["outcome"] == "error" and "outside the public network" in evil["detail"]
