"""`raqib search`: words across every stored version."""

from __future__ import annotations

import click

from raqib.app import search as search_app
from raqib.cli.base import Ctx, emit
from raqib.present import records as rec
from raqib.present import text


@click.command()
@click.argument("words", nargs=-1, required=True)
@click.option(
    "--limit",
    type=click.IntRange(1, 10**6),
    default=50,
    show_default=True,
    help="At most this many articles.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as a JSON list.")
@click.pass_obj
def search(obj: Ctx, words: tuple[str, ...], limit: int, as_json: bool) -> None:
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
    """
    with obj.app() as app:
        hits = search_app.search(app, " ".join(words), limit=limit)
    data = [rec.search_record(h) for h in hits]
    emit(data, as_json, text.search(data))
    if not data and not as_json and search_app.names_a_value(" ".join(words)):
        click.echo(
            "raqib: number words are searched as values (مليار alone is one billion): "
            'give the figure with it ("2 مليار"), or try `raqib changes --search`',
            err=True,
        )
