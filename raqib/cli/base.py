"""What every command shares: the home it acts on, one way to fail, one way
to print a document."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from raqib.app.errors import AppError, describe
from raqib.loading import importing

if TYPE_CHECKING:
    from raqib.app.home import App

EXIT_FAIL, EXIT_USAGE = 1, 2


class Once(click.Option):
    """An option that takes one value: given twice it is refused, where click
    keeps the last (`changes --tag oil --tag iraq` listed iraq's alone)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)

    def process_value(self, ctx: click.Context, value: Any) -> Any:
        values = super().process_value(ctx, value)
        if len(values) > 1:
            shown = ", ".join(repr(v) for v in values)
            raise click.BadParameter(
                f"given {len(values)} times ({shown}): it takes one", ctx, self
            )
        return values[0] if values else None


def fail(message: str, code: int = EXIT_FAIL) -> NoReturn:
    click.echo(f"raqib: {message}", err=True)
    sys.exit(code)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def emit(data: Any, as_json: bool, lines: Iterable[str]) -> None:
    """Print a document: as JSON, or as the lines its text form gives."""
    if as_json:
        emit_json(data)
        return
    for line in lines:
        click.echo(line)


def emit_each(
    records: Iterable[Any], as_json: bool, lines: Callable[[Iterable[Any]], Iterable[str]]
) -> None:
    """`emit` for records read as they are printed: the JSON list is written
    an element at a time, as json.dumps(list, indent=2) would write it."""
    if not as_json:
        for line in lines(records):
            click.echo(line)
        return
    opened = False
    for r in records:
        item = json.dumps(r, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        click.echo(("[\n  " if not opened else ",\n  ") + item, nl=False)
        opened = True
    click.echo("\n]" if opened else "[]")


EXIT_BUSY = 75
EXIT_STOPPED = 130  # a signal stopped a pass: as a shell reports a command Ctrl-C stopped


@contextmanager
def stopped_by_signals(message: str) -> Iterator[None]:
    """SIGTERM as Ctrl-C outside a crawl (which stops gracefully on both, and
    restores this after): `finally` blocks run, so a pass lets its leases go,
    and the command exits 130, where SIGTERM killed it with its leases held
    and Ctrl-C printed "Aborted!" with exit 1."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, interrupt) if main else None
    try:
        yield
    except KeyboardInterrupt:
        fail(message, EXIT_STOPPED)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def busy(exc: BaseException) -> None:
    """Another process held the database's write lock past the busy timeout:
    the same answer as a pass that finds its work taken (try again later)."""
    if "database is locked" in str(exc):
        fail(
            "the database is busy: another process (a raqib pass, a backup, a sqlite3 shell) "
            "held its write lock too long; try again (cron will)",
            EXIT_BUSY,
        )


class Ctx:
    def __init__(self, home: Path, verbose: int) -> None:
        self.home = home
        self.verbose = verbose

    @contextmanager
    def app(self, *, readonly: bool = False, existing: bool = False) -> Iterator[App]:
        """The home's app (`existing`: refuse to make one); an error becomes
        one line on stderr and its exit code."""
        with importing():
            from raqib.app.home import open_app
            from raqib.storage import StoreError, StoreFailure

            try:
                app = open_app(self.home, readonly=readonly, existing=existing)
            except AppError as exc:
                fail(str(exc), exc.exit_code)
            except StoreError as exc:
                fail(str(exc))
            except Exception as exc:  # a database that cannot be opened or migrated
                busy(exc)
                fail(f"{self.disk_hint()}cannot open the database in {self.home}: {describe(exc)}")
        from raqib.present import when

        when.use(app.config.display.timezone)
        try:
            yield app
        except AppError as exc:
            if exc.__cause__ is not None:  # a pass stopped by a lock held past its timeout
                busy(exc.__cause__)
            fail(str(exc), exc.exit_code)
        except StoreError as exc:
            fail(str(exc))
        except BrokenPipeError:
            raise  # the reader left: Guarded.invoke ends quietly
        except (OSError, StoreFailure) as exc:
            busy(exc)
            fail(self.disk_hint() + describe(exc))
        finally:
            app.close()

    def disk_hint(self) -> str:
        """SQLite reports a full disk as a mere I/O error at times: say what it is."""
        try:
            free = shutil.disk_usage(self.home).free
        except OSError:
            return ""
        return f"the disk is full ({free:,} bytes free): " if free < 1_000_000 else ""


def reader_left() -> NoReturn:
    """stdout's reader closed it (`raqib changes | head`): it has what it
    wanted, so exit 0 quietly. Later writes, the final flush included, go to
    /dev/null instead of raising again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # no real stdout (a test runner's buffer): nothing to redirect
    sys.exit(0)


def _shown_bytes(exc: UnicodeEncodeError) -> str:
    """The bytes a lone surrogate stands for (an argument's), else its escape."""
    chars = exc.object[exc.start : exc.end]
    try:
        return repr(chars.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:  # not from bytes: a file's own \ud800
        return chars.encode("ascii", "backslashreplace").decode("ascii")


class Guarded(click.Group):
    """Unexpected errors become one line on stderr and exit 1 (-v shows the traceback).

    Commands load on first use (`lazy`: name → "module:attribute"): a pass
    imports what a pass needs, not the report, discovery or feed code.
    """

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (
            click.exceptions.Exit,
            click.ClickException,
            click.Abort,
            SystemExit,
            KeyboardInterrupt,
        ):
            raise
        except AppError as exc:
            fail(str(exc), exc.exit_code)
        except BrokenPipeError:
            reader_left()
        except Exception as exc:
            if ctx.params.get("verbose"):
                raise
            if isinstance(exc, UnicodeEncodeError) and "surrogates" in exc.reason:
                # Bytes that are not UTF-8 (an argument from a terminal or script
                # in another encoding, or such text in a file) as lone surrogates.
                fail(
                    f"text that is not UTF-8 ({_shown_bytes(exc)}): give the arguments, "
                    "and the files' text, in UTF-8",
                    2,
                )
            fail(f"unexpected error: {describe(exc)} (run with -v for the details)")
