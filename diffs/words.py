"""Word-level diffs with diff-match-patch.

Words, not characters: each token (a word with its marks, a space run, a
punctuation sign) is mapped to one private character, diffed, and mapped back,
the way diff_linesToChars does for lines. An Arabic word and its diacritics are
never split, and a highlight never starts in the middle of a word.

Deterministic: Diff_Timeout is 0 (no deadline). With a deadline dmp degrades
to "delete everything, insert everything" whenever the machine is slow, so
the same two texts could diff differently on a busy day. Inputs are bounded
instead: callers diff sentence by sentence, and `word_diff` refuses token
counts above MAX_TOKENS by falling back to a whole replace.
"""

from __future__ import annotations

from diff_match_patch import diff_match_patch

from raqib.normalize.arabic import compact_key
from raqib.normalize.sentences import tokens

DELETE, EQUAL, INSERT = -1, 0, 1
MAX_TOKENS = 20_000
DIFF_TIMEOUT = 0.0

Op = tuple[int, str]


def _dmp() -> diff_match_patch:
    d = diff_match_patch()
    d.Diff_Timeout = DIFF_TIMEOUT
    d.Diff_EditCost = 4
    return d


def _encode(toks: list[str], table: dict[str, str], back: list[str]) -> str:
    out = []
    for t in toks:
        ch = table.get(t)
        if ch is None:
            code = len(back) + 1
            if code >= 0xD800:  # skip the surrogate block
                code += 0x800
            ch = chr(code)
            table[t] = ch
            back.append(t)
        out.append(ch)
    return "".join(out)


def word_diff(old: str, new: str) -> list[Op]:
    """[(op, text)] with op in DELETE/EQUAL/INSERT; joins back to old and new."""
    if old == new:
        return [(EQUAL, old)] if old else []
    a, b = tokens(old), tokens(new)
    if len(a) + len(b) > MAX_TOKENS:
        return [op for op in ((DELETE, old), (INSERT, new)) if op[1]]
    table: dict[str, str] = {}
    back: list[str] = []
    ca, cb = _encode(a, table, back), _encode(b, table, back)
    d = _dmp()
    diffs = d.diff_main(ca, cb, False)
    d.diff_cleanupSemantic(diffs)
    ops: list[Op] = []
    for op, chars in diffs:
        text = "".join(back[_decode(ch)] for ch in chars)
        if ops and ops[-1][0] == op:
            ops[-1] = (op, ops[-1][1] + text)
        elif text:
            ops.append((op, text))
    return ops


def _decode(ch: str) -> int:
    code = ord(ch)
    if code >= 0xE000 and code - 0x800 >= 0xD800:
        code -= 0x800
    return code - 1


def old_text(ops: list[Op]) -> str:
    return "".join(t for op, t in ops if op != INSERT)


def new_text(ops: list[Op]) -> str:
    return "".join(t for op, t in ops if op != DELETE)


def changed_chars(ops: list[Op]) -> int:
    return sum(len(t) for op, t in ops if op != EQUAL)


def mark_cosmetic(ops: list[Op]) -> list[tuple[int, str, bool]]:
    """Annotate each delete/insert pair whose texts match under the key.

    Returns (op, text, cosmetic): a replaced word that only gained diacritics
    or changed digit shape is flagged so renderers can show it quietly.
    """
    out: list[tuple[int, str, bool]] = []
    i = 0
    while i < len(ops):
        op, text = ops[i]
        if op == DELETE and i + 1 < len(ops) and ops[i + 1][0] == INSERT:
            cosmetic = compact_key(text) == compact_key(ops[i + 1][1])
            out.append((DELETE, text, cosmetic))
            out.append((INSERT, ops[i + 1][1], cosmetic))
            i += 2
            continue
        out.append((op, text, op != EQUAL and not compact_key(text)))
        i += 1
    return out
