"""The extraction-quality gate, in the manner of trafilatura's own eval.

For every saved real page in ../shared/realpages, tests/data/gold/NAME.txt
holds the article's text as a person delimited it by reading the page (lede,
body, data tables; no headline, captions or furniture). Extraction is scored
against it word by word on the matching key: precision (how much of what
Raqib keeps is article) and recall (how much of the article Raqib keeps).

    python -m tests.eval_gate        # the table the README shows
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "data" / "gold"
REALPAGES = ROOT.parent / "shared" / "realpages"


@dataclass
class Score:
    name: str
    extracted: int  # words Raqib kept
    gold: int  # words of the article
    common: int

    @property
    def precision(self) -> float:
        return self.common / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.common / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def words(text: str) -> Counter[str]:
    from raqib.normalize.arabic import matching_key
    from raqib.normalize.sentences import words as split_words

    return Counter(split_words(matching_key(text, fold_numbers=False)))


def score(name: str) -> Score:
    from raqib.extract.page import make_page

    html = (REALPAGES / f"{name}.html").read_text(encoding="utf-8", errors="replace")
    page = make_page(html, None)
    text = "" if not hasattr(page, "snapshot") else page.snapshot.text  # NotArticle: nothing kept
    got, want = words(text), words((GOLD / f"{name}.txt").read_text(encoding="utf-8"))
    return Score(name, sum(got.values()), sum(want.values()), sum((got & want).values()))


def names() -> list[str]:
    return sorted(p.stem for p in GOLD.glob("*.txt"))


def overall(scores: list[Score]) -> Score:
    return Score(
        "all (micro-averaged)",
        sum(s.extracted for s in scores),
        sum(s.gold for s in scores),
        sum(s.common for s in scores),
    )


def table(scores: list[Score]) -> str:
    lines = [f"{'page':<24} {'precision':>9} {'recall':>7} {'F1':>6}  words kept / article"]
    for s in [*scores, overall(scores)]:
        lines.append(
            f"{s.name:<24} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f}  {s.extracted} / {s.gold}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(table([score(n) for n in names()]))
