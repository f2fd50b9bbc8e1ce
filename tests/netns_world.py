"""A world in a loopback-only network namespace, for tests/test_guard.py.

Run inside `unshare -n` as root: it brings up lo, puts the addresses an
attacker would aim at (10.0.0.1, 169.254.169.254, fd00::1) on lo with a trap
listening on each, serves pages on 127.0.0.1 that redirect to them, watches
them with Raqib and runs a pass. It prints, as JSON, every connection a trap
caught (there must be none) and each watch's fetch log.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

TRAPS = ("10.0.0.1", "169.254.169.254", "fd00::1")


@implementer(IResolverSimple)
class RebindingResolver:
    """rebind.test answers 127.0.0.1 once, then 10.0.0.1; evil.test is 10.0.0.1.
    Used by the pass in the namespace (fetch.dns_resolver)."""

    def __init__(self, reactor: Any, *args: Any) -> None:
        self.reactor = reactor
        self.asked: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> RebindingResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        n = self.asked[name] = self.asked.get(name, 0) + 1
        if name == "rebind.test":
            return defer.succeed("127.0.0.1" if n == 1 else "10.0.0.1")
        if name == "evil.test":
            return defer.succeed("10.0.0.1")
        if name.replace(".", "").isdigit():
            return defer.succeed(name)
        return defer.fail(DNSLookupError(f"no such host: {name} (test resolver)"))


def _trap(address: str, port: int, caught: list[str]) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(16)

    def accept() -> None:
        while True:
            conn, peer = s.accept()
            caught.append(f"{address}:{port} from {peer[0]}")
            conn.close()

    threading.Thread(target=accept, daemon=True).start()


class _After:
    """Around each request: wait until `event` is set (at most a minute)."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __enter__(self) -> None:
        self.event.wait(60)

    def __exit__(self, *exc: object) -> None:
        return None


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from raqib.demo.pages import VERSIONS, render
    from raqib.demo.server import PageServer, Route

    for cmd in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "addr", "add", "10.0.0.1/32", "dev", "lo"],
        ["ip", "addr", "add", "169.254.169.254/32", "dev", "lo"],
        ["ip", "-6", "addr", "add", "fd00::1/128", "dev", "lo", "nodad"],
    ):
        subprocess.run(cmd, check=True)
    server = PageServer().start()
    port = int(server.base.rsplit(":", 1)[1])
    caught: list[str] = []
    for address in TRAPS:
        _trap(address, port, caught)  # the page server's port: where a re-resolved name would go
        _trap(address, 80, caught)
    article = render(VERSIONS[0], server.base)
    server.routes["/article"] = Route(article)
    redirects = {
        "/to-private": "http://10.0.0.1/latest",
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-ula": "http://[fd00::1]/x",
        "/to-rebinding-name": f"http://rebind.test:{port}/article",
    }
    for path, target in redirects.items():
        server.routes[path] = Route(b"", 302, {"Location": target})
    # An intranet page the user watched (its own network: allowed), and a
    # robots.txt that redirects to another port of that host once the pass
    # has reached it: refused, as it leaves the network robots.txt was asked in.
    intranet = PageServer(host="10.0.0.1").start()
    intranet.routes["/intranet"] = Route(article)
    server.routes["/robots.txt"] = Route(b"", 302, {"Location": "http://10.0.0.1/secret"})
    server.around = _After(intranet.hit)
    home = Path(tempfile.mkdtemp())
    (home / "raqib.toml").write_text(
        '[fetch]\ndns_resolver = "tests.netns_world.RebindingResolver"\n', encoding="utf-8"
    )
    watches = [server.base + p for p in redirects] + [f"http://evil.test:{port}/article"]
    watches.append(intranet.base + "/intranet")
    env = {**os.environ, "PYTHONPATH": str(root)}
    raqib = [str(Path(sys.executable).with_name("raqib")), "--home", str(home)]
    subprocess.run(
        [*raqib, "watch", "--no-fetch", *watches], check=True, env=env, capture_output=True
    )
    check = subprocess.run(
        [*raqib, "-v", "check", "--all"], env=env, capture_output=True, text=True
    )
    logs = {}
    for url in watches:
        out = subprocess.run(
            [*raqib, "log", url, "--json"], env=env, capture_output=True, text=True, check=True
        )
        logs[url] = json.loads(out.stdout)
    server.stop()
    intranet.stop()
    print(
        json.dumps(
            {"check": check.returncode, "stderr": check.stderr, "caught": caught, "logs": logs}
        )
    )


if __name__ == "__main__":
    main()
