"""The processes below a process, read from /proc (Linux): what the benchmark
sums memory over and what the crash tests check for survivors."""

from __future__ import annotations

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
    import subprocess

    python = Path(raqib).with_name("python")
    code = (
        "import compileall, os, raqib, raqib.crawler, raqib.diffs, raqib.storage\n"
        "for m in (raqib, raqib.crawler, raqib.diffs, raqib.storage):\n"
        "    compileall.compile_dir(os.path.dirname(m.__file__), quiet=1)\n"
    )
    subprocess.run([str(python), "-c", code], check=True, capture_output=True)
