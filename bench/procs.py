"""Processes as the benchmarks run and measure them, from /proc (Linux): the
processes below a process (what memory is summed over, and what the crash
tests check for survivors), their memory, the machine's CPU time, and
`raqib` run on a home."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before their children."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def compiled(raqib: str | Path) -> None:
    """Byte-compile the Raqib that the program `raqib` runs, as pip does when it
    installs a wheel. An editable install otherwise compiles its modules in
    every process it starts, wherever PYTHONDONTWRITEBYTECODE is set (as on the
    machine these figures come from): about 0.06 s of a pass with nothing due
    and 0.08 s of a split pass's forkserver."""
    python = Path(raqib).with_name("python")
    code = (
        "import compileall, os, raqib, raqib.crawler, raqib.diffs, raqib.storage\n"
        "for m in (raqib, raqib.crawler, raqib.diffs, raqib.storage):\n"
        "    compileall.compile_dir(os.path.dirname(m.__file__), quiet=1)\n"
    )
    subprocess.run([str(python), "-c", code], check=True, capture_output=True)


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (from /proc/stat).

    A pass's work runs in processes the benchmark never reaps (extraction
    workers under a forkserver, crawler processes), so their CPU never shows
    in RUSAGE_CHILDREN; the machine's busy time minus the benchmark's own
    (the page server) counts all of it on an otherwise idle machine.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages split among their sharers, so the
    sum over a process tree is what the tree really occupies."""
    return _kb(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")


def rss_kb(pid: int) -> int:
    """Resident set size of one process (its shared pages counted whole)."""
    return _kb(Path(f"/proc/{pid}/status"), "VmRSS:")


def _kb(path: Path, field: str) -> int:
    """A kB figure of a /proc file; 0 once the process is gone."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Samples the summed PSS of a process and its descendants; keeps the peak."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid, self.every, self.peak_kb = pid, every, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(self.every):  # a sampling period, not synchronisation
            self.peak_kb = max(
                self.peak_kb, sum(pss_kb(p) for p in (self.pid, *descendants(self.pid)))
            )

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.peak_kb


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def stages_line(cpu_seconds: dict[str, float] | None, indent: str) -> str:
    """A pass's CPU by stage (its `cpu_seconds`) as a line to print after its
    figures; nothing for an install that does not report it."""
    shown = ", ".join(f"{k} {v:.2f}" for k, v in (cpu_seconds or {}).items() if v)
    return f"\n{indent}CPU by stage (s): {shown}" if shown else ""


def command(home: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The `raqib` beside this Python, on `home`; the environment without a
    pinned clock or home."""
    exe = Path(sys.executable).with_name("raqib")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-P", "-m", "raqib"]
    env = {k: v for k, v in os.environ.items() if k not in ("RAQIB_NOW", "RAQIB_HOME")}
    return [*cmd, "--home", str(home), *args], env


def raqib(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd, env = command(home, *args)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
