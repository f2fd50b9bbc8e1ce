"""raqib — watch news articles, keep every version, highlight silent edits.

Each command parses its arguments, calls one use case (raqib.app) and
renders what it returns through one serializer (raqib.present). Errors the
use cases raise carry their exit code: 0 success, 1 failure, 2 bad input,
4 unknown watch, 75 another pass is running.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

import click
from platformdirs import user_data_dir

from raqib import console, loading
from raqib.cli.base import Ctx, Guarded

# Each command lives in a module of raqib.cli and is imported when it runs.
COMMANDS = {
    "watch": "raqib.cli.history:watch",
    "watches": "raqib.cli.manage:watches_cmd",
    "unwatch": "raqib.cli.manage:unwatch",
    "pause": "raqib.cli.manage:pause",
    "resume": "raqib.cli.manage:resume",
    "tag": "raqib.cli.manage:tag",
    "preview": "raqib.cli.history:preview_cmd",
    "versions": "raqib.cli.history:versions",
    "changes": "raqib.cli.history:changes",
    "log": "raqib.cli.history:log_cmd",
    "diff": "raqib.cli.history:diff",
    "check": "raqib.cli.passes:check",
    "schedule": "raqib.cli.passes:schedule",
    "daemon": "raqib.cli.passes:daemon",
    "source": "raqib.cli.discovery:source",
    "discover": "raqib.cli.discovery:discover",
    "outlet": "raqib.cli.outlets:outlet",
    "search": "raqib.cli.search:search",
    "robots": "raqib.cli.robots:robots",
    "notify": "raqib.cli.notify:notify",
    "report": "raqib.cli.publish:report",
    "serve": "raqib.cli.publish:serve",
    "feed": "raqib.cli.publish:feed",
    "export": "raqib.cli.publish:export",
    "import": "raqib.cli.publish:import_cmd",
    "gc": "raqib.cli.publish:gc",
    "config": "raqib.cli.publish:config_cmd",
    "demo": "raqib.cli.publish:demo",
}


@click.group(
    cls=Guarded,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="RAQIB_HOME",
    default=lambda: user_data_dir("raqib", appauthor=False),
    show_default="the platform's user data dir",
    help="Where the database (raqib.db), raqib.toml and archives live. Also RAQIB_HOME.",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(package_name="raqib")
@click.pass_context
def main(ctx: click.Context, home: Path, verbose: int) -> None:
    """Raqib (رقيب) watches news articles, keeps every version and tells
    cosmetic edits from substantive ones — and silent edits from announced ones.

    \b
    Typical use:
      raqib watch https://example.com/news/story --story my-story
      raqib check                 # from cron, or `raqib daemon`
      raqib changes --json        # what changed, classified
      raqib diff URL              # the highlighted edit

    Set RAQIB_NOW=<ISO 8601> to make every command act as if it were that time.
    """
    console.setup(max(logging.WARNING - 10 * verbose, logging.DEBUG))
    ctx.obj = Ctx(home.expanduser(), verbose)


def run() -> None:
    """The `raqib` program: the command, then a quick exit.

    An interpreter holding SQLAlchemy, Scrapy and trafilatura takes a quarter
    of a second to tear itself down, longer than a pass with nothing due
    takes to run. Once the command has returned (its storage closed, its
    output written), the exit handlers run and the process ends without that
    teardown; while a non-daemon thread still works, the normal exit waits.
    """
    loading.own_process()
    try:
        main(prog_name="raqib")
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()[1:]):
        raise SystemExit(code)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # what a normal exit would run (the crawl session's stop, …)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass  # the reader stopped reading (`| head`): what it wanted, it has
        except (OSError, ValueError):
            code = code or 1  # output lost: say so in the exit code
    os._exit(code or 0)
