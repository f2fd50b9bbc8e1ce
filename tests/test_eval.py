"""The extraction-quality gate (tests/eval_gate.py): precision and recall
against gold text read from each saved real page, with floors pinned here.
A change to extraction that loses article text, or keeps furniture, fails."""

from __future__ import annotations

import pytest

from tests.conftest import REALPAGES
from tests.eval_gate import GOLD, names, overall, score

# (precision, recall) floors: the figures measured at raqib-extract 8, less 0.02.
FLOORS = {
    "ar_akhbarelyom_eg": (0.98, 0.98),
    "ar_albayan_ae": (0.98, 0.98),
    "ar_almadenahnews_jo": (0.82, 0.98),  # a publication-time line and a credit are kept
    "ar_alyaum_sa": (0.98, 0.98),
    "ar_assabah_tn": (0.97, 0.98),
    "ar_beirutobserver_lb": (0.98, 0.98),
    "ar_cnnarabic": (0.98, 0.98),
    "ar_elbaladtv_eg": (0.98, 0.98),
    "ar_sputnik_arabic": (0.98, 0.98),
    "ar_youm7_eg": (0.98, 0.98),
    "fa_aryanews": (0.96, 0.98),  # its lede, loose after its photo's <div>, is kept
    "fa_khabaronline_ir": (0.97, 0.98),
    "fa_yjc_ir": (0.98, 0.98),
}
OVERALL = (0.98, 0.98)


def _shared() -> None:
    if not REALPAGES.exists():
        pytest.skip("../shared/realpages is not beside the checkout")


def test_every_real_page_has_gold_and_a_floor() -> None:
    _shared()
    pages = {p.stem for p in REALPAGES.glob("*.html")}
    assert pages == set(names()) == set(FLOORS), (
        "write tests/data/gold/NAME.txt by reading the page"
    )
    assert all((GOLD / f"{n}.txt").read_text(encoding="utf-8").strip() for n in pages)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_extraction_keeps_the_article_and_only_it(name: str) -> None:
    _shared()
    s = score(name)
    precision, recall = FLOORS[name]
    assert s.precision >= precision, f"{name}: precision {s.precision:.3f} < {precision}"
    assert s.recall >= recall, f"{name}: recall {s.recall:.3f} < {recall}"


def test_overall() -> None:
    _shared()
    s = overall([score(n) for n in sorted(FLOORS)])
    assert s.precision >= OVERALL[0] and s.recall >= OVERALL[1], (s.precision, s.recall)
