"""`raqib search`: words across every stored version, spelling variants
included, grouped by article, saying whether the words are still there."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from raqib.app.errors import BadInput
from raqib.app.home import App
from raqib.domain import Version, Watch
from raqib.normalize.arabic import matching_key, search_key, ungroup
from raqib.normalize.holding import NUMBER_CLITICS, holds
from raqib.normalize.numbers import before_scale

MAX_TOKENS = 12
# A number whole (3.5, and و2,500 with its clitic), or a word (f16 too).
_WORD = re.compile(r"[^\W\d_]{0,3}\d+(?:[.,]\d+)*|\w+")
_WRITTEN_ON = re.compile(r"([^\W\d_]{1,3})(\d+(?:[.,]\d+)*)")  # و2500, ال50: a number
# The definite article, alone and with the clitics written onto it: the index
# finds a word from its start, so حكومة would miss الحكومة and للحكومة.
ARTICLE = ("ال", "وال", "بال", "فال", "كال", "وبال", "فبال", "وكال", "لل", "ولل", "فلل")
# What is written onto a word that has its article: والحكومة, بالحكومة; لِ
# and the article contract (للحكومة), so those forms drop its alif.
_ON_ARTICLE = ("و", "ب", "ف", "ك", "وب", "فب", "وك")
_LAM = ("لل", "ولل", "فلل")
_CLITICS = ("و", "ب", "ل", "ف", "ك")  # وحكومة, لحكومة
_ARABIC = re.compile(r"[\u0621-\u064a]")
log = logging.getLogger("raqib")


@dataclass(frozen=True)
class Hit:
    """An article some of whose versions hold the words."""

    watch: Watch
    versions: list[int]  # the matching version numbers, newest first
    in_latest: bool  # False: the words were there once and are gone now
    snippet: str  # the sentence that holds them, as written, from the newest match
    first_seen: str  # when the newest matching version was first seen


def tokens(text: str) -> list[str]:
    """The words and numbers searched for; a number with letters written onto
    it (و2500) is the number, which the search then finds in all its forms."""
    found = []
    for t in _WORD.findall(search_key(text)):
        m = _WRITTEN_ON.fullmatch(t)
        found.append(m.group(2) if m and m.group(1) in NUMBER_CLITICS else t)
    if not found:
        raise BadInput("search for at least one word")
    return found[:MAX_TOKENS]


def forms(word: str) -> tuple[str, ...]:
    """What the index is asked for one word or number: its written forms. A
    word with its article is not asked for without it (التزام is no article
    and تزامن): حكومة finds الحكومة, الحكومة finds والحكومة and للحكومة."""
    if word[0].isdigit():
        written = (*regrouped(word), *scaled(word)[1:])
        return tuple(f for n in written for f in (n, *(c + n for c in NUMBER_CLITICS)))
    if not _ARABIC.match(word):
        return (word,)
    if word.startswith("ال") and len(word) >= 4:  # الحج: the article and two letters
        return (word, *(c + word for c in _ON_ARTICLE), *(c + word[2:] for c in _LAM))
    # A single clitic only on a word of four letters or more: عد would find بعد and وعد.
    clitics = _CLITICS if len(word) >= 4 else ()
    return (word, *(a + word for a in ARTICLE), *(c + word for c in clitics))


PAGE = 1000  # matching versions read at a time, newest first
MAX_READ = 100_000  # and at most, for one search
# Versions an older Raqib keyed, keyed again by each pass: about a second of work.
REKEY_PER_PASS = 500


def scaled(number: str) -> tuple[str, ...]:
    """A figure as printed, and, a decimal one, the values it names before a
    scale word, which the key holds: "3.5" finds "3.5 مليون" (3500000)."""
    if "." not in number:
        return (number,)
    try:
        value = Decimal(number)
    except InvalidOperation:
        return (number,)
    whole = [value * s for s in (1000, 10**6, 10**9)]
    return (number, *(str(int(v)) for v in whole if v >= 1000 and v == v.to_integral_value()))


def regrouped(number: str) -> tuple[str, ...]:
    """A figure as typed, and as it may be printed with or without its
    thousands commas (the index keeps them as written): 2088 finds 2,088."""
    whole, dot, decimals = number.partition(".")
    if "," in whole:
        plain = ungroup(whole)
        return (number, plain + dot + decimals) if plain != whole else (number,)
    if len(whole) < 4 or whole[0] == "0" or not whole.isdigit():
        return (number,)
    return (number, f"{int(whole):,}" + dot + decimals)


def index(app: App, *, rekey: int = REKEY_PER_PASS) -> int:
    """Bring the search index up to date (a pass does this after each run),
    and key again up to `rekey` versions an older spelling of the key keyed."""
    done = app.storage.search.refresh(_key_or_none)
    if rekey:
        app.storage.search.rekey(_key_or_none, limit=rekey)
    return done


def stale(app: App) -> int:
    """How many versions a search may miss: keyed by an older Raqib, not yet again."""
    return app.storage.search.stale()


def reindex(app: App, progress: Callable[[int], None] | None = None) -> int:
    """Key again, now, every version an older spelling of the key keyed."""
    return app.storage.search.rekey(_key_or_none, limit=2**62, progress=progress)


def _key_or_none(text: str) -> str:
    """A version's search key; one whose text the key cannot be made of (a bug
    on a stranger's text) is indexed empty, or it would stop every pass's
    indexing and the notifications after it."""
    try:
        return search_key(text)
    except Exception as exc:
        log.error(
            "search: a version starting %r could not be indexed (%s: %s): search will not find it",
            text[:60], type(exc).__name__, exc,
        )  # fmt: skip
        return ""


def names_a_value(text: str) -> bool:
    """Whether the words hold a number word, which the index holds as its value."""
    return search_key(text) != matching_key(text, fold_numbers=False, keep_grouping=True)


def as_searched(text: str) -> str:
    """The words as the index reads them: number words as their values."""
    return search_key(text)


def search(app: App, text: str, *, limit: int = 50) -> list[Hit]:
    words = tokens(text)
    if not app.readonly:
        index(app, rekey=0)
    asked = [forms(w) for w in words]
    numbers = [w for w in words if w[0].isdigit()]

    def held(found: list[tuple[Watch, Version]]) -> list[tuple[Watch, Version]]:
        # The index finds what starts with the number (50: 500 too, and 2024م)
        # and splits 3.5 into 3 and 5: a number is checked whole in the text.
        return [(w, v) for w, v in found if _has_numbers(v, numbers)] if numbers else found

    # The articles: the newest matching versions a page at a time, until
    # `limit` articles hold the words (a prefix the number is not, 7 in 700,
    # may fill many pages), then every matching version of each.
    chosen: dict[int, Watch] = {}
    before, read = None, 0
    while len(chosen) < limit and read < MAX_READ:
        page = app.storage.search.find(asked, limit=PAGE, before=before)
        read += len(page)
        for w, _v in held(page):
            chosen.setdefault(w.id, w)
        if len(page) < PAGE:
            break
        before = page[-1][1].id
    if read >= MAX_READ and len(chosen) < limit:
        log.warning("search: read the newest %d versions that start like these words", read)
    ids = list(chosen)[:limit]
    by_watch: dict[int, list[Version]] = {wid: [] for wid in ids}
    watches = {wid: chosen[wid] for wid in ids}
    for i in range(0, len(ids), 500):
        for w, v in held(app.storage.search.find(asked, limit=2**31, watches=ids[i : i + 500])):
            by_watch[w.id].append(v)
    for versions in by_watch.values():
        versions.sort(key=lambda v: v.id, reverse=True)
    hits = []
    for wid, versions in by_watch.items():
        if not versions:
            continue  # purged meanwhile
        w, newest = watches[wid], versions[0]
        hits.append(
            Hit(
                watch=w,
                versions=[v.number for v in versions],
                in_latest=newest.number == w.version_count,
                snippet=snippet(newest, asked),
                first_seen=newest.first_seen.isoformat(),
            )
        )
    return hits[:limit]


def _lines(v: Version) -> list[str]:
    return [v.title or "", *v.text.split("\n")]


def _line_holds(line: str, key: str, number: str) -> bool:
    """Whether a line (its search key given) holds `number` as printed, or, a
    decimal one, before a scale word: "3.5 مليون", never a bare 3500."""
    if any(holds(key, n) for n in regrouped(number)):
        return True
    if not any(holds(key, f) for f in scaled(number)[1:]):
        return False
    return before_scale(matching_key(line, fold_numbers=False), number)


def _has_numbers(v: Version, numbers: list[str]) -> bool:
    lines = [(line, search_key(line)) for line in _lines(v)]
    return all(any(_line_holds(line, k, n) for line, k in lines) for n in numbers)


def snippet(v: Version, words: list[tuple[str, ...]], width: int = 300) -> str:
    """The first line of the version (headline included) that holds a form of
    each word (a number: itself, which `holds` reads whole)."""
    for line in _lines(v):
        key = search_key(line)
        if all(
            _line_holds(line, key, w[0]) if w[0][0].isdigit() else any(holds(key, f) for f in w)
            for w in words
        ):
            return line if len(line) <= width else line[: width - 1] + "…"
    return (v.title or "")[:width]
