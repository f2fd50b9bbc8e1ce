"""How many CPUs this process may use, which is what sizes a pass's crawler
processes and extraction workers.

os.cpu_count() counts the machine's CPUs. In a container limited to two CPUs
on a 64-core host, or under `taskset`, a large pass would have started a
crawler process per host core, each holding the whole program (about 100 MB)
and all of them sharing two CPUs. So the count is the CPUs this process may
run on (its affinity), capped by its cgroup's CPU quota (`docker --cpus`, a
Kubernetes CPU limit, systemd's CPUQuota), cgroup v2 or v1, found where
/proc/self/mountinfo says each hierarchy is mounted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

OWN_CGROUP = Path("/proc/self/cgroup")
MOUNTINFO = Path("/proc/self/mountinfo")

_ESCAPED = re.compile(r"\\([0-7]{3})")  # mountinfo writes a space in a path as \040


def usable_cores(own: Path = OWN_CGROUP, mountinfo: Path = MOUNTINFO) -> int:
    """The CPUs this process may run on, within its cgroup's quota; at least 1.
    A quota of 1.5 CPUs counts as one: a second CPU-bound process would only
    be throttled, and would cost a process's memory."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpus(own, mountinfo)
    if quota is not None:
        cores = min(cores, int(quota))
    return max(1, cores)


def cgroup_cpus(own: Path = OWN_CGROUP, mountinfo: Path = MOUNTINFO) -> float | None:
    """The least CPU quota of this process's cgroup and of those above it, in
    CPUs; None without one, or when it cannot be read (off Linux, a sandbox
    that hides /sys/fs/cgroup): then the affinity alone counts."""
    try:
        mounts = _cgroup_mounts(mountinfo.read_text())
        limits: list[float] = []
        for line in own.read_text().splitlines():
            hierarchy, _, rest = line.partition(":")
            controllers, _, path = rest.partition(":")
            if hierarchy == "0" and not controllers:  # v2: cpu.max where the cpu controller is on
                places, read = [(m, r) for kind, _, r, m in mounts if kind == "cgroup2"], _v2
            elif "cpu" in controllers.split(","):  # v1: the hierarchy that has the cpu controller
                places = [(m, r) for kind, o, r, m in mounts if kind == "cgroup" and "cpu" in o]
                read = _v1
            else:
                continue
            for mount, mount_root in places:
                limits += _up_from(mount, _below(path, mount_root), read)
        return min(limits) if limits else None
    except (OSError, ValueError):  # unreadable (permissions), or not what the kernel writes
        return None


def _cgroup_mounts(text: str) -> list[tuple[str, set[str], str, Path]]:
    """(file system type, super options, the hierarchy's path mounted, mount
    point) of each cgroup mount in a mountinfo."""
    found = []
    for line in text.splitlines():
        before, sep, after = line.partition(" - ")  # the optional fields end at " - "
        mount, fs = before.split(), after.split()  # fs: type, source, super options
        if not sep or len(mount) < 5 or len(fs) < 3 or fs[0] not in ("cgroup", "cgroup2"):
            continue
        root, point = (_ESCAPED.sub(lambda m: chr(int(m[1], 8)), f) for f in mount[3:5])
        found.append((fs[0], set(fs[2].split(",")), root, Path(point)))
    return found


def _below(path: str, mount_root: str) -> str:
    """Where cgroup `path` is under a mount of the hierarchy's `mount_root`:
    "" (the mount itself) when it is not under it, as for a container that
    sees only its own cgroup, mounted, or a path outside its cgroup
    namespace ("/../…")."""
    if path.startswith("/.."):
        return ""
    path, mount_root = os.path.normpath("/" + path), os.path.normpath("/" + mount_root)
    if mount_root == "/":
        return path.lstrip("/")
    if path.startswith(mount_root.rstrip("/") + "/"):
        return path[len(mount_root) :].lstrip("/")
    return ""


def _up_from(mount: Path, below: str, read: Callable[[Path], float | None]) -> list[float]:
    """The quotas from the cgroup at `below` up to the mount's root."""
    here = mount / below
    if not here.is_dir():
        here = mount
    found = []
    while True:
        quota = read(here)
        if quota is not None:
            found.append(quota)
        if here == mount:
            return found
        here = here.parent


def _v2(cgroup: Path) -> float | None:
    """cpu.max: "max 100000" (none) or "150000 100000" (1.5 CPUs); no file:
    the cpu controller is not on here."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
    except (FileNotFoundError, ValueError):
        return None
    return int(quota) / int(period) if quota != "max" and int(period) > 0 else None


def _v1(cgroup: Path) -> float | None:
    """cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us."""
    try:
        quota = int((cgroup / "cpu.cfs_quota_us").read_text())
        period = int((cgroup / "cpu.cfs_period_us").read_text())
    except FileNotFoundError:
        return None
    return quota / period if quota > 0 and period > 0 else None
