"""`raqib search`: words across every stored version."""

from __future__ import annotations

import click

from raqib.app import search as search_app
from raqib.app.home import App
from raqib.cli.base import Ctx, emit
from raqib.cli.progress import counting
from raqib.present import records as rec
from raqib.present import text


@click.command()
@click.argument("words", nargs=-1)
@click.option(
    "--limit",
    type=click.IntRange(1, 10**6),
    default=50,
    show_default=True,
    help="At most this many articles.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as a JSON list.")
@click.option(
    "--reindex",
    is_flag=True,
    help="First index again, now, every version an older Raqib indexed (passes do "
    f"{search_app.REKEY_PER_PASS:,} a pass). Alone, it only indexes.",
)
@click.pass_obj
def search(obj: Ctx, words: tuple[str, ...], limit: int, as_json: bool, reindex: bool) -> None:
    """Find articles whose text, in any stored version, holds these words.

    Words are compared by matching key, so spelling variants match (hamza,
    ta marbuta, tashkeel, Arabic-Indic digits, numbers written as words),
    and each word matches the words it begins. Each hit lists the matching
    versions and says whether the words are still in the latest one: a
    "gone" hit is text an edit removed. A number is found by its value, in
    any form: مليار alone is one billion, and "2 مليار" finds 2000000000 and
    ملياري too (`changes --search` also finds مليار after any figure).

    \b
    raqib search الضحايا 12
    raqib search "وزير الزراعة" --json

    A newer Raqib may read some text differently (numbers written as words,
    mostly): versions indexed by an older one are indexed again by each
    pass, 500 at a time, and a search says how many are left.
    """
    if not words and not reindex:
        raise click.UsageError("give the words to search for (or --reindex)")
    with obj.app() as app:
        if reindex:
            _reindex(app)
            if not words:
                return
        hits = search_app.search(app, " ".join(words), limit=limit)
        if left := search_app.stale(app):
            click.echo(
                f"raqib: {_versions(left)} indexed by an older Raqib may be missed (numbers "
                f"written as words, mostly): each pass indexes {search_app.REKEY_PER_PASS} again, "
                "`raqib search --reindex` all of them now",
                err=True,
            )
    data = [rec.search_record(h) for h in hits]
    emit(data, as_json, text.search(data))
    if not data and not as_json and search_app.names_a_value(" ".join(words)):
        read = search_app.as_searched(" ".join(words))
        click.echo(
            f"raqib: number words are searched as values, so this searched for {read!r} "
            '(مليار alone is one billion: give the figure with it, "2 مليار"); '
            "`raqib changes --search` reads the words as written too",
            err=True,
        )


def _reindex(app: App) -> None:
    with counting("indexing again", search_app.stale(app)) as advance:
        done = search_app.reindex(app, progress=advance)
    click.echo(f"raqib: indexed {_versions(done)} again", err=True)


def _versions(n: int) -> str:
    return f"{n:,} version" + ("" if n == 1 else "s")
