"""Is a candidate about the same story? TF-IDF on the matching key.

Texts are reduced to terms: the matching key (so spelling variants, digits
and diacritics match), function words dropped, attached conjunctions and the
article stripped (والعراق, العراق and بالعراق are one term). IDF weights come
from everything Raqib has seen, so the words every Iraqi story shares (العراق,
بغداد, الحكومة) weigh little and the words of this story (التحالف, انسحاب,
اوستن) weigh much. A candidate's score is its best cosine similarity with one
of the story's seed articles; the headline counts twice.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from raqib.normalize.arabic import matching_key

# Function words (already in matching-key form: no hamza on alef, ي for ى, ه for ة).
_STOP_AR = """
في من علي الي الى عن ان اذا اذ او ام ثم حتي لا لم لن ما ماذا هل قد كل بعض غير سوي
هو هي هم هن انا نحن انت انتم هما هذا هذه ذلك تلك هؤلاء اولءك الذي التي الذين اللذان اللتان اللواتي
كان كانت كانوا يكون تكون ليس ليست بين حول بعد قبل منذ خلال عند عندما حيث كما مثل لدي لدى
مع ضد نحو اي ايضا فقط حين بل لكن لكنه لكنها اما الا اليوم امس وقال قال قالت وقالت واضاف اضاف اضافت
يوم عام العام الماضي المقبل تم اكد اكدت اشار اشارت اعلن اعلنت وفق وفقا حسب بشان ذات ذو فيه فيها منه منها عليه عليها
به بها له لها لهم الذي وهو وهي ان انه انها يمكن وكان وكانت التي ومن وفي
"""
_STOP_EN = """
the a an and or of to in on for with by at from as is are was were be been it its this that
these those he she they we you not no but if than then so said says will would can could about
"""
STOPWORDS = frozenset(matching_key(_STOP_AR).split()) | frozenset(_STOP_EN.split())

_PROCLITIC = re.compile(r"^(?:[وف])?(?:بال|كال|لل|ال)")
_NON_WORD = re.compile(r"[^\w]+")


def terms(text: str) -> list[str]:
    out = []
    for raw in matching_key(text).split():
        word = _NON_WORD.sub("", raw)
        if len(word) < 2 or word in STOPWORDS or word.isdigit():
            continue
        stem = _PROCLITIC.sub("", word)
        if word[0] in "وف" and word[1:] in STOPWORDS:
            continue  # وخلال, وبعد, وعلى: a stopword behind its conjunction
        if stem != word and len(stem) >= 3:
            word = stem
        elif word[0] in "وف" and len(word) >= 5:
            word = word[1:]  # a bare conjunction: وواشنطن → واشنطن
        if word not in STOPWORDS:
            out.append(word)
    return out


def document(title: str | None, text: str) -> Counter[str]:
    """Term counts of an article; its headline counts twice."""
    return Counter(terms(title or "") * 2 + terms(text))


class Corpus:
    """Document frequencies of terms over everything seen."""

    def __init__(self, documents: Iterable[Counter[str]] = ()) -> None:
        self.df: Counter[str] = Counter()
        self.n = 0
        for d in documents:
            self.add(d)

    def add(self, doc: Counter[str]) -> None:
        self.df.update(doc.keys())
        self.n += 1

    def idf(self, term: str) -> float:
        return math.log((self.n + 1) / (self.df.get(term, 0) + 1)) + 1.0

    def vector(self, doc: Counter[str]) -> dict[str, float]:
        v = {t: (1 + math.log(c)) * self.idf(t) for t, c in doc.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {t: x / norm for t, x in v.items()}


@dataclass(frozen=True)
class Judgement:
    score: float
    terms: list[str]  # the terms that contributed most
    against: str | None  # the seed article it matched best


class StoryModel:
    """The story's seed articles, weighted by the corpus."""

    def __init__(self, corpus: Corpus, seeds: list[tuple[str, Counter[str]]]) -> None:
        self.corpus = corpus
        self.seeds = [(name, corpus.vector(doc)) for name, doc in seeds]

    def judge(self, doc: Counter[str]) -> Judgement:
        if not self.seeds or not doc:
            return Judgement(0.0, [], None)
        v = self.corpus.vector(doc)
        best: Judgement | None = None
        for name, seed in self.seeds:
            contrib = {t: x * seed[t] for t, x in v.items() if t in seed}
            score = sum(contrib.values())
            if best is None or score > best.score:
                top = sorted(contrib, key=lambda t: (-contrib[t], t))[:8]
                best = Judgement(round(score, 4), top, name)
        assert best is not None
        return best

    def key_terms(self, k: int = 6) -> list[str]:
        """The most distinctive terms of the story, for search-feed queries."""
        weight: dict[str, float] = {}
        for _name, vec in self.seeds:
            for t, x in vec.items():
                if not t.isdigit():
                    weight[t] = weight.get(t, 0.0) + x
        return [t for t, _ in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]
