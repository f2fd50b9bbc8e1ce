"""The CPUs a pass may use, which size its crawler processes and extraction
workers: its affinity (taskset), within its cgroup's CPU quota (a container's
--cpus), not the host's count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from raqib.cores import cgroup_cpus, usable_cores

# What a pass decides from the CPUs it may use, printed by a child process
# that first pins itself to a CPU, or enters a cgroup, as its arguments say
# (in the child itself: a preexec_fn is not safe in a parent with threads).
DECISIONS = """
import json, os, sys
if sys.argv[1] == "cpu":
    os.sched_setaffinity(0, {int(sys.argv[2])})
elif sys.argv[1] == "cgroup":
    with open(sys.argv[2], "w") as procs:
        procs.write(str(os.getpid()))
from raqib.cores import usable_cores
from raqib.crawler.pool import extraction_workers
from raqib.crawler.shards import MIN_WORK_PER_SHARD, certain, shard_count, work
from tests.test_shards import task
many = [task(i) for i in range(2 * MIN_WORK_PER_SHARD)]  # first fetches: work for 8 processes
print(json.dumps({"cores": usable_cores(), "shards": shard_count(many, 0),
                  "certain": certain(5000, 1000, 0), "workers": extraction_workers(work(many))}))
"""
ALONE = {"cores": 1, "shards": 1, "certain": False, "workers": 0}


def decisions(*how: str) -> dict[str, object]:
    # The checkout on the path whatever ran before: a pass that used the
    # forkserver set PYTHONSAFEPATH in this process (crawler.pool.forkserver).
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(
        [sys.executable, "-c", DECISIONS, *(how or ("as is",))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout))


def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_a_pass_pinned_to_one_cpu_starts_no_second_process() -> None:
    assert decisions("cpu", str(cpus()[-1])) == ALONE
    free = decisions()
    cores = free["cores"]
    assert isinstance(cores, int) and 1 <= cores <= len(cpus())
    assert free["shards"] == min(cores, 8)
    assert free["certain"] == (cores > 1)
    assert free["workers"] == min(cores - 1, 2)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def mounted(tmp_path: Path, *mounts: tuple[str, str, str, str]) -> Path:
    """A mountinfo of cgroup mounts: (type, super options, hierarchy path, mount point)."""
    lines = [
        f"{30 + i} 23 0:{26 + i} {root} {point.replace(' ', chr(92) + '040')} rw,relatime - "
        f"{kind} {kind} {options}"
        for i, (kind, options, root, point) in enumerate(mounts)
    ]
    info = tmp_path / "mountinfo"
    write(info, "\n".join(["22 1 0:21 / /sys rw - sysfs sysfs rw", *lines]) + "\n")
    return info


def test_a_cgroup_v2_quota_is_the_least_on_the_way_up(tmp_path: Path) -> None:
    root, own = tmp_path / "cgroup v2", tmp_path / "self-cgroup"  # a space, escaped in mountinfo
    info = mounted(tmp_path, ("cgroup2", "rw,nsdelegate", "/", str(root)))
    write(root / "cpu.max", "max 100000\n")
    write(root / "system.slice" / "cpu.max", "250000 100000\n")
    write(root / "system.slice" / "raqib.service" / "cpu.max", "max 100000\n")
    write(own, "0::/system.slice/raqib.service\n")
    assert cgroup_cpus(own, info) == 2.5
    assert usable_cores(own, info) == min(len(cpus()), 2)
    write(root / "system.slice" / "raqib.service" / "cpu.max", "150000 100000\n")
    assert cgroup_cpus(own, info) == 1.5
    assert usable_cores(own, info) == 1  # a CPU and a half keeps one process busy, not two
    # No quota anywhere: the affinity alone.
    write(root / "system.slice" / "cpu.max", "max 100000\n")
    write(root / "system.slice" / "raqib.service" / "cpu.max", "max 100000\n")
    assert cgroup_cpus(own, info) is None
    assert usable_cores(own, info) == len(cpus())


def test_inside_a_container_its_own_cgroup_is_the_mounts_root(tmp_path: Path) -> None:
    """A cgroup namespace shows the process's cgroup as "/", or a path
    outside it as "/../…"; without one, a container sees the host's path of
    its cgroup while only that cgroup is mounted. Each reads the mount's root."""
    root, own = tmp_path / "cgroup", tmp_path / "self-cgroup"
    info = mounted(tmp_path, ("cgroup2", "rw", "/", str(root)))
    write(root / "cpu.max", "200000 100000\n")
    for path in ("/", "/../../kubepods/burstable/pod1/abc", "/kubepods/pod1/abc"):
        write(own, f"0::{path}\n")
        assert cgroup_cpus(own, info) == 2.0, path
    # The host's cgroup mounted at its path (Docker on cgroup v1, no namespace):
    # a stricter quota in a cgroup below it still counts.
    v1 = tmp_path / "cpu"
    info = mounted(tmp_path, ("cgroup", "rw,cpu,cpuacct", "/docker/abc", str(v1)))
    for where, quota in ((v1, "400000"), (v1 / "sub", "100000")):
        write(where / "cpu.cfs_quota_us", quota + "\n")
        write(where / "cpu.cfs_period_us", "100000\n")
    write(own, "4:cpu,cpuacct:/docker/abc/sub\n")
    assert cgroup_cpus(own, info) == 1.0


def test_a_cgroup_v1_quota_and_a_hybrid_layout(tmp_path: Path) -> None:
    """v1 controllers on a tmpfs, the unified v2 hierarchy beside them: the
    quota is wherever the cpu controller is."""
    v1, unified, own = tmp_path / "cpu,cpuacct", tmp_path / "unified", tmp_path / "self-cgroup"
    info = mounted(
        tmp_path,
        ("cgroup", "rw,memory", "/", str(tmp_path / "memory")),
        ("cgroup", "rw,cpu,cpuacct", "/", str(v1)),
        ("cgroup2", "rw", "/", str(unified)),
    )
    write(unified / "cgroup.controllers", "\n")  # no cpu controller on v2: no cpu.max
    write(v1 / "cpu.cfs_quota_us", "-1\n")
    write(v1 / "cpu.cfs_period_us", "100000\n")
    write(v1 / "docker" / "abc" / "cpu.cfs_quota_us", "100000\n")
    write(v1 / "docker" / "abc" / "cpu.cfs_period_us", "100000\n")
    write(own, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/docker/abc\n")
    assert cgroup_cpus(own, info) == 1.0
    assert usable_cores(own, info) == 1
    write(v1 / "docker" / "abc" / "cpu.cfs_quota_us", "-1\n")
    assert cgroup_cpus(own, info) is None
    # The cpu controller on the unified hierarchy instead.
    write(unified / "docker" / "abc" / "cpu.max", "300000 100000\n")
    assert cgroup_cpus(own, info) == 3.0


def test_what_cannot_be_read_means_no_quota(tmp_path: Path) -> None:
    assert cgroup_cpus(tmp_path / "missing", tmp_path / "missing too") is None
    root, own = tmp_path / "cgroup", tmp_path / "self-cgroup"
    info = mounted(tmp_path, ("cgroup2", "rw", "/", str(root)))
    write(own, "0::/\n")
    write(root / "cpu.max", "garbage\n")
    assert cgroup_cpus(own, info) is None
    write(root / "cpu.max", "150000 100000\n")
    own.write_bytes(b"0::/\xff\xfe\n")  # not UTF-8
    assert cgroup_cpus(own, info) is None
    assert usable_cores(own, info) == len(cpus())


def _cpu_cgroup_v1() -> Path | None:
    for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        base = Path("/sys/fs/cgroup") / name
        if (base / "cpu.cfs_quota_us").is_file() and os.access(base, os.W_OK):
            return base
    return None


@pytest.mark.skipif(os.geteuid() != 0, reason="making a cgroup needs root (CI runs as root)")
def test_a_real_cgroup_quota_caps_the_processes(tmp_path: Path) -> None:
    """A child moved into a cgroup with a quota of a CPU and a half, by the
    kernel's own interface: it counts one CPU whatever its affinity."""
    base = _cpu_cgroup_v1()
    if base is None:
        pytest.skip("no writable cgroup v1 cpu hierarchy here")
    if len(cpus()) < 2:
        pytest.skip("one CPU: a quota cannot lower the count")
    group = base / f"raqib-test-{uuid.uuid4().hex[:8]}"
    group.mkdir()
    try:
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text("150000")
        assert decisions("cgroup", str(group / "cgroup.procs")) == ALONE
    finally:
        _remove(group)


def _remove(group: Path) -> None:
    """Remove the cgroup once the processes left in it (the child's
    forkserver, had it started one) are gone."""
    import select
    import signal

    for pid in (group / "cgroup.procs").read_text().split():
        try:
            fd = os.pidfd_open(int(pid))
        except ProcessLookupError:
            continue
        try:
            os.kill(int(pid), signal.SIGKILL)
            assert select.select([fd], [], [], 30)[0], f"process {pid} outlived SIGKILL"
        finally:
            os.close(fd)
    group.rmdir()
