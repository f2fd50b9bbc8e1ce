"""How many CPUs this process may use, which is what sizes a pass's crawler
processes and extraction workers.

os.cpu_count() counts the machine's CPUs. In a container limited to two CPUs
on a 64-core host, or under `taskset`, a large pass would have started a
crawler process per host core, each holding the whole program (about 100 MB)
and all of them sharing two CPUs. So the count is the CPUs this process may
run on (its affinity), capped by its cgroup's CPU quota (`docker --cpus`, a
Kubernetes CPU limit, systemd's CPUQuota), cgroup v2 or v1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
OWN_CGROUP = Path("/proc/self/cgroup")


def usable_cores(root: Path = CGROUP_ROOT, own: Path = OWN_CGROUP) -> int:
    """The CPUs this process may run on, within its cgroup's quota; at least 1.
    A quota of 1.5 CPUs counts as one: a second CPU-bound process would only
    be throttled, and would cost a process's memory."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpus(root, own)
    if quota is not None:
        cores = min(cores, int(quota))
    return max(1, cores)


def cgroup_cpus(root: Path = CGROUP_ROOT, own: Path = OWN_CGROUP) -> float | None:
    """The CPU quota of this process's cgroup and of the cgroups above it, the
    least of them, in CPUs; None without one (or off Linux)."""
    try:
        lines = own.read_text().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:
            if (root / "cgroup.controllers").is_file():  # v2, unified
                limits += _up_from(root, path, _v2)
        elif "cpu" in controllers.split(","):
            for name in (controllers, "cpu", "cpu,cpuacct", "cpuacct,cpu"):
                if (root / name / "cpu.cfs_quota_us").is_file():  # v1
                    limits += _up_from(root / name, path, _v1)
                    break
    return min(limits) if limits else None


def _up_from(base: Path, path: str, read: Callable[[Path], float | None]) -> list[float]:
    """The quotas from the cgroup at `path` up to the hierarchy's root. A path
    that is not under `base` is the host's name for it, seen from inside a
    container whose own cgroup is the root of what it can see."""
    here = base / os.path.normpath("/" + path).lstrip("/")
    if not here.is_dir():
        here = base
    found = []
    while True:
        quota = read(here)
        if quota is not None:
            found.append(quota)
        if here == base:
            return found
        here = here.parent


def _v2(cgroup: Path) -> float | None:
    """cpu.max: "max 100000" (none) or "150000 100000" (1.5 CPUs)."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
        return int(quota) / int(period) if quota != "max" and int(period) > 0 else None
    except (OSError, ValueError):
        return None


def _v1(cgroup: Path) -> float | None:
    """cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us."""
    try:
        quota = int((cgroup / "cpu.cfs_quota_us").read_text())
        period = int((cgroup / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None
