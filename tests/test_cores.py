"""The CPUs a pass may use, which size its crawler processes and extraction
workers: its affinity (taskset), within its cgroup's CPU quota (a container's
--cpus), not the host's count."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from raqib.cores import cgroup_cpus, usable_cores

# What a pass decides from the CPUs it may use, printed by a child process.
DECISIONS = """
import json
from raqib.cores import usable_cores
from raqib.crawler.pool import extraction_pool
from raqib.crawler.shards import MIN_WORK_PER_SHARD, certain, shard_count
from tests.test_shards import task
many = [task(i) for i in range(2 * MIN_WORK_PER_SHARD)]  # first fetches: work for 8 processes
pool = extraction_pool()
print(json.dumps({"cores": usable_cores(), "shards": shard_count(many, 0),
                  "certain": certain(5000, 1000, 0), "pool": pool is not None}))
if pool is not None:
    pool.shutdown()
"""


def decisions(preexec: object = None) -> dict[str, object]:
    import json

    done = subprocess.run(
        [sys.executable, "-c", DECISIONS],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=preexec,  # type: ignore[arg-type]
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_a_pass_pinned_to_one_cpu_starts_no_second_process() -> None:
    pinned = decisions(lambda: os.sched_setaffinity(0, {cpus()[0]}))
    assert pinned == {"cores": 1, "shards": 1, "certain": False, "pool": False}
    free = decisions()
    expected = len(cpus()) if cgroup_cpus() is None else min(len(cpus()), int(cgroup_cpus() or 1))
    assert free["cores"] == max(1, expected)
    assert free["shards"] == min(max(1, expected), 8)
    assert free["certain"] == free["pool"] == (expected > 1)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_cgroup_v2_quota_is_the_least_on_the_way_up(tmp_path: Path) -> None:
    root, own = tmp_path / "cgroup", tmp_path / "self-cgroup"
    write(root / "cgroup.controllers", "cpu memory\n")
    write(root / "cpu.max", "max 100000\n")
    write(root / "system.slice" / "cpu.max", "250000 100000\n")
    write(root / "system.slice" / "raqib.service" / "cpu.max", "max 100000\n")
    write(own, "0::/system.slice/raqib.service\n")
    assert cgroup_cpus(root, own) == 2.5
    assert usable_cores(root, own) == min(len(cpus()), 2)
    write(root / "system.slice" / "raqib.service" / "cpu.max", "150000 100000\n")
    assert cgroup_cpus(root, own) == 1.5
    assert usable_cores(root, own) == 1  # a CPU and a half keeps one process busy, not two
    # No quota anywhere: the affinity alone.
    write(root / "system.slice" / "cpu.max", "max 100000\n")
    write(root / "system.slice" / "raqib.service" / "cpu.max", "max 100000\n")
    assert cgroup_cpus(root, own) is None
    assert usable_cores(root, own) == len(cpus())


def test_inside_a_container_the_hosts_path_reads_its_own_root(tmp_path: Path) -> None:
    """/proc/self/cgroup may name the cgroup as the host sees it; inside the
    container that path does not exist, and the container's root is its cgroup."""
    root, own = tmp_path / "cgroup", tmp_path / "self-cgroup"
    write(root / "cgroup.controllers", "cpu\n")
    write(root / "cpu.max", "200000 100000\n")
    write(own, "0::/../../kubepods/burstable/pod1/abc\n")
    assert cgroup_cpus(root, own) == 2.0


def test_a_cgroup_v1_quota(tmp_path: Path) -> None:
    root, own = tmp_path / "cgroup", tmp_path / "self-cgroup"
    v1 = root / "cpu,cpuacct"
    write(v1 / "cpu.cfs_quota_us", "-1\n")
    write(v1 / "cpu.cfs_period_us", "100000\n")
    write(v1 / "docker" / "abc" / "cpu.cfs_quota_us", "100000\n")
    write(v1 / "docker" / "abc" / "cpu.cfs_period_us", "100000\n")
    write(own, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n")
    assert cgroup_cpus(root, own) == 1.0
    assert usable_cores(root, own) == 1
    write(v1 / "docker" / "abc" / "cpu.cfs_quota_us", "-1\n")
    assert cgroup_cpus(root, own) is None


def test_no_cgroup_or_unreadable_values_mean_no_quota(tmp_path: Path) -> None:
    assert cgroup_cpus(tmp_path / "none", tmp_path / "missing") is None
    root, own = tmp_path / "cgroup", tmp_path / "self-cgroup"
    write(root / "cgroup.controllers", "cpu\n")
    write(root / "cpu.max", "garbage\n")
    write(own, "0::/\n")
    assert cgroup_cpus(root, own) is None


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
        procs = str(group / "cgroup.procs")

        def enter() -> None:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))

        assert decisions(enter) == {"cores": 1, "shards": 1, "certain": False, "pool": False}
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
