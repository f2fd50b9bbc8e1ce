"""Test hosts in network namespaces the test makes itself (root only).

A switch namespace holds a bridge; each host namespace is joined to it by a
veth pair and has its own address on 10.77.0.0/24 (nothing leaves the
machine: no host has a route anywhere else). `link(name, up)` pulls a host's
cable out and plugs it back in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "needs root to make network namespaces (CI runs as root)"
    for tool in ("ip", "unshare", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = subprocess.run(["ip", "netns", "add", f"rqprobe{os.getpid()}"], capture_output=True)
    if probe.returncode != 0:
        return f"ip netns is not permitted here: {probe.stderr.decode().strip()}"
    subprocess.run(["ip", "netns", "del", f"rqprobe{os.getpid()}"], capture_output=True)
    return None


def _ip(*args: str) -> None:
    p = subprocess.run(["ip", *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {p.stderr.strip()}")


class Network:
    def __init__(self, hosts: dict[str, str]) -> None:
        """`hosts`: name → address (10.77.0.x)."""
        tag = f"rq{os.getpid() % 100000}"
        self.switch = f"{tag}sw"
        self.ns = {name: f"{tag}{name}" for name in hosts}
        self.addresses = dict(hosts)
        self.made: list[str] = []
        try:
            self._build(tag)
        except BaseException:
            self.teardown()
            raise

    def _build(self, tag: str) -> None:
        _ip("netns", "add", self.switch)
        self.made.append(self.switch)
        self.exec_switch("ip", "link", "add", "br0", "type", "bridge")
        self.exec_switch("ip", "link", "set", "br0", "up")
        for i, (name, ns) in enumerate(self.ns.items()):
            _ip("netns", "add", ns)
            self.made.append(ns)
            host_end, switch_end = f"{tag}h{i}", f"{tag}s{i}"
            _ip("link", "add", host_end, "type", "veth", "peer", "name", switch_end)
            _ip("link", "set", host_end, "netns", ns)
            _ip("link", "set", switch_end, "netns", self.switch)
            self.exec_switch("ip", "link", "set", switch_end, "master", "br0")
            self.exec_switch("ip", "link", "set", switch_end, "up")
            self.run(name, "ip", "link", "set", "lo", "up")
            self.run(name, "ip", "link", "set", host_end, "name", "eth0")
            self.run(name, "ip", "addr", "add", f"{self.addresses[name]}/24", "dev", "eth0")
            self.run(name, "ip", "link", "set", "eth0", "up")

    def prefix(self, name: str) -> list[str]:
        """The command prefix that runs something on host `name`, under its own
        host name (so its lease owners read as another machine's)."""
        return ["ip", "netns", "exec", self.ns[name], "unshare", "--uts", "sh", "-c",
                f'hostname {name} && exec "$@"', "--"]  # fmt: skip

    def run(self, name: str, *cmd: str) -> None:
        p = subprocess.run(
            ["ip", "netns", "exec", self.ns[name], *cmd], capture_output=True, text=True
        )
        if p.returncode != 0:
            raise RuntimeError(f"{name}: {' '.join(cmd)}: {p.stderr.strip()}")

    def exec_switch(self, *cmd: str) -> None:
        p = subprocess.run(
            ["ip", "netns", "exec", self.switch, *cmd], capture_output=True, text=True
        )
        if p.returncode != 0:
            raise RuntimeError(f"switch: {' '.join(cmd)}: {p.stderr.strip()}")

    def link(self, name: str, up: bool) -> None:
        """Pull out (or plug back) host `name`'s cable, at the switch."""
        i = list(self.ns).index(name)
        tag = self.switch[: -len("sw")]
        self.exec_switch("ip", "link", "set", f"{tag}s{i}", "up" if up else "down")

    def popen(self, name: str, cmd: Sequence[str], **kw: object) -> subprocess.Popen[str]:
        return subprocess.Popen([*self.prefix(name), *cmd], text=True, **kw)  # type: ignore[call-overload]

    def teardown(self) -> None:
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "pids", ns], capture_output=True)
            pids = subprocess.run(
                ["ip", "netns", "pids", ns], capture_output=True, text=True
            ).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.made.clear()
