"""Stray punctuation and spacing: periods inside sentences, doubled sentence ends, missing and extra spaces
and line-break hyphenation. Soft hyphens (U+00AD) are invisible hyphenation hints of correct text and are
left alone.

Written by hand because no library repairs extraction punctuation while reporting each edit's offsets;
the word lists (abbreviations, sentence openers) are data in ``configs/rules/repair.yaml``. Rules that
need English grammar (a period before a lowercase word) run only when the document is English.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from transforms.repair_common import Context, PassResult, word_set
from transforms.textmap import Edit

# One pattern per rule, each starting with a literal character or a small class, so the regex engine's
# prefix search skips ahead (a single alternation of all the rules is tried at every position and is
# four times slower); what comes before a match is checked in Python. A rule with trigger strings is
# not scanned at all when none of them is in the text.
_RULES: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    # Spaces before , . ; ! ? ("Lawan , on"), or a second period after a sentence end ("said. .");
    # ":" is left alone (" : " is a separator).
    ("space_before", re.compile(r"[ \t]+[,.;!?](?![.\w])(?![ \t]*\.)"),
     (" ,", " .", " ;", " !", " ?", "\t")),
    # A run of spaces inside a line.
    ("spaces", re.compile(r" {2,}"), ("  ",)),
    # A period, "?" or "!" glued to the capitalised word that starts the next sentence ("year.The").
    ("missing_space", re.compile(r"[.?!](?=[A-Z][a-z]+(?![\w.@/-]))"), ()),
    # A period between a word and a lowercase word on the same line ("war. in Ukraine").
    # A lowercase word glued to a name ("war. saidChina") counts: it is split later.
    ("stray_period", re.compile(r"\.(?=[ \t]+(?:[a-z][a-z'’]*(?:[\s,;!?)]|\.(?:\s|$)|$)|[a-z]{3,}[A-Z]))"), ()),
    # A comma glued to the next word ("used,which", "Smith,J."), or to a number ("Neumann,2003",
    # "May 23,2004"); 1,000 and symbols (Xk,ts) are told apart below.
    ("comma", re.compile(r",(?=[a-z]|[A-Z][a-z]|[A-Z]\.|\d)"), ()),
    # An opening parenthesis glued to a word ("Beijing(Reuters)", "Linguistics(ACL)"); "word(s)",
    # "f(x)", "iron(III)" are left alone.
    ("paren", re.compile(r"\((?=[A-Z][a-z]{2}|[A-Z]{2})"), ()),
    # A closing parenthesis glued to the next word ("Clark et al (2002)are"); "(s)he", "(re)elected"
    # and "(n+1)th" are told apart below.
    ("close_paren", re.compile(r"\)(?=[a-z]{2,}(?:[\s,.;:!?]|\Z))"), ()),
    # A colon glued to a capitalised word ("interfaces:A domain", "class 910.4:Accounts of travel");
    # times and URLs are left alone.
    ("colon", re.compile(r":(?=[A-Z][a-z]*\b(?![:/]))"), ()),
    # A word broken at a line end with a hyphen ("inter-\nnational").
    ("hyphenated", re.compile(r"-\n(?=[a-z])"), ("-\n",)),
    # A typewriter dash glued to its words ("a task that--not surprisingly--is"): news writes " -- ".
    ("double_dash", re.compile(r"--(?=[^\W_])"), ("--",)),
    # A spaced dash glued to the next word ("word experts -query the frame").
    ("dash_glued", re.compile(r" -(?=[a-z]{3})"), (" -",)),
)
_WORD_BEFORE = re.compile(r"(?<![\w.'’-])([^\W\d_][a-z]+)\Z")
_TOKEN_WORD_BEFORE = re.compile(r"(?<![\w.'’-])([^\W_]*?[^\W\d_][a-z]+)\Z")
_WORD_AFTER = re.compile(r"[ \t]+([a-z][a-z'’]*)")
_LETTERS_AFTER = re.compile(r"[a-z]+")
_TOKEN_BEFORE = re.compile(r"(?<![\w-])([^\W_]+)\Z")
_TOKEN_AFTER = re.compile(r"[^\W_]+(?![\w-])")
_HEAD_BEFORE = re.compile(r"(?<![\w-])([^\W\d_]+)\Z")
_LAST_LETTERS = re.compile(r"[^\W\d_]+\Z")
_YEAR = re.compile(r"(?:1[89]|20)\d\d\b")
# Two or more initials before the period just matched ("R.S" of "R.S.Michalski", "U.S" of "U.S.Army").
_INITIALS_BEFORE = re.compile(r"(?<![\w.'’-])(?:[A-Z]\.)+[A-Z]\Z")
# What follows an apostrophe read as a comma ("don,t", "John,s", "we,ll"): the end of a contraction
# or possessive, no word of its own.
_CONTRACTION_TAIL = re.compile(r"(?:[stdm]|ll|re|ve)(?![^\W_])")
# The inside of a parenthesis just closed, up to its opening one, on the same line.
_PARENTHESIS_BEFORE = re.compile(r"\(([^()\n]{1,60})\Z")
# An acronym alone in parentheses: "(WHO)", "(AAPL.O)", "(ACL-88)".
_ACRONYM = re.compile(r"[A-Z]{2,}[^\s,;()]*\)")
# A Roman numeral in parentheses, as oxidation states and regnal numbers write them: "iron(III)",
# "Louis(XIV)" (of I, V and X only, so that "(CDC)", "(MD)" are acronyms).
_ROMAN = re.compile(r"[IVX]+\)")
# Ordinal endings: "(n+1)th", "(k-1)st" are one word.
_ORDINAL = re.compile(r"(?:st|nd|rd|th)(?![^\W_])")
# A capitalised word of three letters or more: after a number and a colon ("910.4:Accounts"), shorter
# ones may be codes ("3:A").
_LONG_TITLE = re.compile(r"[A-Z][a-z]{2,}\b")
_WINDOW = 40


def _word_before(pattern: re.Pattern[str], text: str, end: int) -> str | None:
    match = pattern.search(text[max(0, end - _WINDOW):end])
    return None if match is None else match.group(1)


def _one_word_sentences(text: str, position: int) -> bool:
    """The line around ``position`` is all one-word sentences ("we’re. on. it.", a slogan): written so,
    not a sentence broken by stray periods. (A property of the whole line, which removing a stray
    period elsewhere cannot change, so one round decides every period.)"""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start:len(text) if end < 0 else end]
    return all(len(sentence.split()) <= 1 for sentence in line.split("."))


class PunctuationPass:
    """Callable pass over one text; returns non-overlapping edits (the rest wait for the next round)."""

    def __init__(self, rules: Mapping[str, Any], zipf: Mapping[str, float], join_min_zipf: float,
                 style_min_share: float, style_min_count: int, prefixes: frozenset[str],
                 word_min_zipf: float) -> None:
        self._abbreviations = word_set(rules["abbreviations"])
        self._prefixes = prefixes
        self._openers = word_set(rules["sentence_openers"])
        self._zipf = zipf
        self._join_min_zipf = join_min_zipf
        self._word_min_zipf = word_min_zipf
        self._style_min_share = style_min_share
        self._style_min_count = style_min_count

    def __call__(self, text: str, context: Context) -> PassResult:
        candidates: list[Edit] = []
        for name, pattern, triggers in _RULES:
            if triggers and not any(trigger in text for trigger in triggers):
                continue
            if name == "space_before":
                styled = self._styled_marks(text)
                found = (self._space_before(text, match.start(), match.end(), styled)
                         for match in pattern.finditer(text))
            else:
                rule = getattr(self, "_" + name)
                found = (rule(text, match.start(), match.end(), context.english) for match in pattern.finditer(text))
            candidates.extend(edit for edit in found if edit is not None)
        return _resolve(candidates, context)

    def _styled_marks(self, text: str) -> frozenset[str]:
        """Marks the document itself usually writes after a space ("Lawan , on" throughout, French " ;"
        and " ?"): its convention, not a slip, so they are left as written; only the exceptions to a
        document's own usage are repaired."""
        styled = set()
        for mark in ",.;!?":
            spaced = text.count(" " + mark) + text.count("\t" + mark)
            if spaced >= self._style_min_count and spaced >= self._style_min_share * text.count(mark):
                styled.add(mark)
        return frozenset(styled)

    def _space_before(self, text: str, start: int, end: int, styled: frozenset[str]) -> Edit | None:
        previous = text[start - 2:start] if start >= 2 else ""
        if len(previous) == 2 and previous[1] in ".!?" and (previous[0].isalnum()) and text[end - 1] == ".":
            return Edit(start, end, "")  # "he said. ." -> "he said."
        if text[end - 1] in styled:
            return None
        at_word_end = end == len(text) or text[end].isspace()
        if previous and (previous[-1].isalpha() or previous[-1] in "”’\")") and at_word_end:
            return Edit(start, end, text[end - 1])
        return None

    def _spaces(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        if start > 0 and end < len(text) and not text[start - 1].isspace() and not text[end].isspace():
            return Edit(start, end, " ")
        return None

    def _missing_space(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        word = _word_before(_WORD_BEFORE, text, start)
        if word is not None and word[1:].islower() and len(word) >= 2 and word.lower() not in self._abbreviations:
            return Edit(start, end, text[start] + " ")
        # Initials before a surname ("R.S.Michalski", "J.K.Rowling"): a name's initials are written
        # with a space before the surname. One initial alone may be part of a name ("X.Org").
        if text[start] == "." and _INITIALS_BEFORE.search(text, max(0, start - _WINDOW), start):
            return Edit(start, end, ". ")
        return None

    def _stray_period(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        if not english:
            return None
        # The whole token, digits included ("G20according. year"), so that splitting it later changes
        # nothing here.
        word = _word_before(_TOKEN_WORD_BEFORE, text, start)
        following = _WORD_AFTER.match(text, end)
        if (word is not None and word.lower() not in self._abbreviations
                and following is not None and following.group(1).lower() not in self._openers
                and not _one_word_sentences(text, start)):
            return Edit(start, end, "")
        return None

    def _comma(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        before = text[max(0, start - 2):start]
        after = text[end:end + 1]
        if after.isdigit():
            glued = (len(before) == 2 and before.isalpha() and before.islower()) or (
                before[-1:].isdigit() and _YEAR.match(text, end) is not None)
        elif _CONTRACTION_TAIL.match(text, end):
            # A comma standing for a lost apostrophe ("don,t", "John,s"): a space would cut one word
            # in two.
            glued = False
        else:
            glued = len(before) == 2 and (before.isalpha() and before.islower()
                                          or (before[0].islower() and before[1] == ")")
                                          # a word ending in a question mark, or in a letter lost to
                                          # a "?" ("Panevova?,Petr"): a space is right either way
                                          or (before[0].isalpha() and before[1] == "?")
                                          # an initial ending a name in a list ("Devescovi A,Smith S")
                                          or (before[0] == " " and before[1].isupper() and after.isupper())
                                          # a comma moved off its word ("below ,and"): the space
                                          # before it goes in the next round
                                          or (before[0].isalnum() and before[1] == " " and text[end:end + 2].isalpha()
                                              and text[end:end + 2].islower()))
        return Edit(start, end, ", ") if glued else None

    def _paren(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        before = text[max(0, start - 2):start]
        if len(before) != 2 or not before.isalpha():
            return None
        if text[end + 1:end + 2].isupper():
            # An acronym after a word ("Organization(WHO)"), but not an oxidation state written
            # against its element ("iron(III)"), a code after capitals ("PC(USA)") nor the
            # arguments of a function ("mpoint(TU, WD)").
            if not before.islower() or _ROMAN.match(text, end) or not _ACRONYM.match(text, end):
                return None
            # ... after an English word: an identifier before it is code ("printf(NULL)").
            word = _word_before(_HEAD_BEFORE, text, start)
            if word is None or self._zipf.get(word.lower(), 0.0) < self._word_min_zipf:
                return None
        return Edit(start, end, " (")

    def _colon(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        before = text[max(0, start - 2):start]
        # After a number only before a word ("910.4:Accounts", "Step 2:Open"): times and verses
        # ("10:30", "3:16") have digits after the colon, and codes ("3:A") are short.
        glued = len(before) == 2 and (before.isalpha() and before.islower()
                                      or before[1].isdigit() and _LONG_TITLE.match(text, end) is not None)
        return Edit(start, end, ": ") if glued else None

    def _close_paren(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        inside = _PARENTHESIS_BEFORE.search(text, max(0, start - 62), start)
        # Only a parenthesis holding a number or several words ("(2002)are", "(Mann, 1983)is") is a
        # remark of its own: one holding a part of a word ("(s)he", "(re)elected", "(multi)media"),
        # a formula ("(x+1)dx") or an ordinal ("(n+1)th") is read with the letters after it.
        if (inside is None or not any(char.isdigit() or char.isspace() for char in inside.group(1))
                or any(char in "=+*/^<>|\\" for char in inside.group(1)) or _ORDINAL.match(text, end)):
            return None
        return Edit(start, end, ") ")

    # The rules below judge words by their shape, not by whether they are known: a glued token
    # ("andthere") is split only after this pass, and the next run must decide as this one did.
    def _double_dash(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        before = _word_before(_TOKEN_BEFORE, text, start)
        after = _TOKEN_AFTER.match(text, end)
        if before is None or after is None or any(left.isdigit() and (right.isdigit() or right.isupper())
                                                  for left, right in ((before, after.group()), (after.group(), before))):
            return None  # "pages 10--20" is a range, "COLING--86" a name; "--verbose", "<!--" are not between words
        return Edit(start, end, " -- ")

    def _dash_glued(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        # Between a word and a word of three letters or more: options ("ls -la", "-C") and compounds
        # split by a stray space after a prefix ("over -generation", "non -profit") are left alone.
        after = _LETTERS_AFTER.match(text, end)
        before = _word_before(_TOKEN_BEFORE, text, start)
        # A word after a dash ("-query -query", "- query -query") is itself the dash's: a list of options.
        after_dash = before is not None and text[max(0, start - len(before) - 2):start - len(before)].endswith(("-", "- "))
        # Judged by the token's last letters: "G20according" is split into "G20 according" after this
        # pass, and the next run must decide as this one did.
        word = None if before is None else _LAST_LETTERS.search(before)
        if (english and start > 0 and not after_dash and (text[start - 1] in ".)" if before is None else (
                    word is not None and len(word.group()) >= 2 and word.group().lower() not in self._prefixes))
                and after is not None and len(after.group()) >= 3
                and (after.end() == len(text) or not text[after.end()].isalnum())):
            return Edit(start + 2, start + 2, " ")
        return None

    def _hyphenated(self, text: str, start: int, end: int, english: bool) -> Edit | None:
        head = _word_before(_HEAD_BEFORE, text, start)
        tail = _LETTERS_AFTER.match(text, end)
        if not english or head is None or tail is None or (tail.end() < len(text) and text[tail.end()].isalnum()):
            return None
        joined = head + tail.group()
        # A known word joined ("inter-national" -> "international"); else a compound ("well-known").
        fixed = joined if self._zipf.get(joined.lower(), 0.0) >= self._join_min_zipf else f"{head}-{tail.group()}"
        return Edit(start - len(head), tail.end(), fixed)


def _resolve(candidates: list[Edit], context: Context) -> PassResult:
    """Drop protected and overlapping candidates. Any edit asks for another round: one fix can
    expose another ("year. year.The" -> "year. year. The", whose first period is then stray)."""
    edits: list[Edit] = []
    complete = True
    # Longest first among edits at one position, so "said  ." is handled as a space before ".".
    for edit in sorted(candidates, key=lambda e: (e.start, -(e.end - e.start), e.replacement)):
        if context.protected.overlaps(edit.start, max(edit.end, edit.start + 1)):
            continue
        if edits and edit.start < edits[-1].end or (edits and edit.start == edits[-1].start):
            complete = False
            continue
        edits.append(edit)
    return PassResult(edits, [], complete and not edits)


def build(rules: Mapping[str, Any], zipf: Mapping[str, float], settings: Mapping[str, Any],
          prefixes: frozenset[str]) -> PunctuationPass:
    """The pass for one worker; ``settings`` is the ``repair`` config section, ``prefixes`` the
    word-forming prefixes (``glued.bound_prefixes``)."""
    return PunctuationPass(rules, zipf, settings["hyphenation_join_min_zipf"],
                           settings["space_before_style_min_share"], settings["space_before_style_min_count"],
                           prefixes, settings["english_word_min_zipf"])
