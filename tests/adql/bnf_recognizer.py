"""Membership oracle for the ADQL 2.1 BNF: is a query text a sentence of the grammar?

An Earley recognizer (with Aycock and Horspool's treatment of nullable symbols) over the
productions of ``tests/adql/data/adql-2.1.bnf`` as read by the generator's reader
(``load_grammar``, with its ``ERRATA``), so there is no second, hand-written grammar.  EBNF
items become auxiliary rules: ``[ x ]`` is ``x | ε``, ``{ x }`` is ``x`` and ``x...`` is
``R ::= x | R x``.

The lexical productions are recognised by a tokeniser instead of character by character:
``<regular_identifier>`` (a word that is not one of the BNF's ``<SQL_reserved_word>`` or
``<ADQL_reserved_word>``), ``<delimited_identifier>`` (``""`` escapes),
``<character_string_literal>`` (``''`` escapes; consecutive literals are separate tokens, the
grammar has no continuation), ``<unsigned_decimal>`` (digits), ``<exact_numeric_literal>``
(digits with a period) and ``<approximate_numeric_literal>`` (with an exponent).  Keywords
match case-insensitively.  ``--`` comments and white space separate tokens.  Anything else
(``::``, ``/*``, ``$1``, ``!``) is a token of its own that no production has, so the sentence is
not in the language.

Deliberate departures from the file (``with_recognizer_errata``; docs/adql.md "Conformance to
the BNF" lists them): the alternative ``<query_expression> ::= <joined_table>`` (a subquery that
is a bare join and selects nothing) is left out, as in the generator; ``<with_clause>`` and
``<in_value_list>``, written ``x { <comma> x }...`` (two or more), take one or more, as the
Recommendation's examples (a single WITH query) and every ADQL service (``IN (1)``) do; a
hexadecimal number (``0xFF``), which the Recommendation's text has and the file lacks, is an
``<exact_numeric_literal>``.

Work is bounded: sentences longer than ``MAX_TOKENS`` are refused with ``TooLong``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.adql.bnf_generator import Group, Optional, Repeat, Symbol, Terminal, load_grammar

MAX_TOKENS = 60
START = "query_specification"

# Lexical productions the tokeniser recognises: each is a terminal class of the recognizer.
LEXICAL = ("regular_identifier", "delimited_identifier", "character_string_literal", "unsigned_decimal",
           "exact_numeric_literal", "approximate_numeric_literal")
# Productions of the character level, never reached from <query_specification> once LEXICAL are terminals.
_CHARACTER_LEVEL = {"SQL_reserved_word", "ADQL_reserved_word", "keyword"}

_TOKEN = re.compile(
    r"""(?P<space>\s+|--[^\n]*)
    |(?P<delimited>"(?:[^"]|"")+")
    |(?P<string>'(?:[^']|'')*')
    |(?P<hex>0[xX][0-9A-Fa-f]+)
    |(?P<approximate>(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d+)
    |(?P<exact>\d+\.\d*|\.\d+)
    |(?P<digits>\d+)
    |(?P<word>[A-Za-z][A-Za-z0-9_]*)
    |(?P<operator><>|!=|<=|>=|\|\||::)
    |(?P<char>.)""",
    re.VERBOSE | re.DOTALL,
)


def _at_least_one_more(sequence: tuple) -> tuple:
    """``x { , x }...`` (two or more) read as ``x [ { , x }... ]`` (one or more)."""
    *head, last = sequence
    assert isinstance(last, Repeat) and isinstance(last.item, Group), sequence
    return (*head, Optional(((last,),)))


def with_recognizer_errata(grammar: dict[str, tuple[tuple, ...]]) -> dict[str, tuple[tuple, ...]]:
    """The grammar with the departures listed in the module docstring."""
    grammar = dict(grammar)
    grammar["query_expression"] = tuple(seq for seq in grammar["query_expression"] if seq != (Symbol("joined_table"),))
    for name in ("with_clause", "in_value_list"):
        (sequence,) = grammar[name]
        grammar[name] = (_at_least_one_more(sequence),)
    return grammar


_NUMBERS = {"hex", "approximate", "exact", "digits"}
_NONDELIMITERS = _NUMBERS | {"word"}


class TooLong(ValueError):
    """The sentence has more tokens than the recognizer is asked to handle."""


@dataclass(frozen=True)
class Token:
    text: str
    offset: int
    terminals: frozenset[str]  # the recognizer's terminals this token can be


@dataclass(frozen=True)
class Rule:
    lhs: str
    rhs: tuple[str, ...]  # nonterminal names, or "T:<text>" / "C:<lexical production>" terminals


class Recognizer:
    """Earley recognizer of the BNF's sentences (see the module docstring)."""

    def __init__(self) -> None:
        grammar = load_grammar()
        self.reserved = frozenset(
            seq[0].text.upper() for name in ("SQL_reserved_word", "ADQL_reserved_word") for seq in grammar[name]
        )
        grammar = with_recognizer_errata(grammar)
        self.rules: list[Rule] = []
        self._counter = 0
        for name, alternatives in grammar.items():
            if name in LEXICAL or name in _CHARACTER_LEVEL:
                continue
            for sequence in alternatives:
                self.rules.append(Rule(name, tuple(self._item(item) for item in sequence)))
        self.by_lhs: dict[str, list[Rule]] = {}
        for rule in self.rules:
            self.by_lhs.setdefault(rule.lhs, []).append(rule)
        self.nullable = self._nullable()
        reachable, agenda = {START}, [START]
        while agenda:
            for rule in self.by_lhs.get(agenda.pop(), ()):
                for symbol in rule.rhs:
                    if symbol in self.by_lhs and symbol not in reachable:
                        reachable.add(symbol)
                        agenda.append(symbol)
        self.keywords = frozenset(
            s[2:] for rule in self.rules if rule.lhs in reachable for s in rule.rhs if s.startswith("T:")
        )

    # -- grammar conversion
    def _aux(self, alternatives: list[tuple[str, ...]]) -> str:
        self._counter += 1
        name = f"_aux{self._counter}"
        self.rules.extend(Rule(name, rhs) for rhs in alternatives)
        return name

    def _item(self, item: object) -> str:
        if isinstance(item, Terminal):
            return "T:" + (item.text.upper() if item.text[0].isalpha() else item.text)
        if isinstance(item, Symbol):
            return "C:" + item.name if item.name in LEXICAL else item.name
        if isinstance(item, Optional):
            return self._aux([tuple(self._item(i) for i in seq) for seq in item.alternatives] + [()])
        if isinstance(item, Group):
            return self._aux([tuple(self._item(i) for i in seq) for seq in item.alternatives])
        assert isinstance(item, Repeat)
        inner = self._item(item.item)
        self._counter += 1
        name = f"_aux{self._counter}"
        self.rules.extend([Rule(name, (inner,)), Rule(name, (name, inner))])
        return name

    def _nullable(self) -> frozenset[str]:
        nullable: set[str] = set()
        changed = True
        while changed:
            changed = False
            for rule in self.rules:
                if rule.lhs not in nullable and all(s in nullable for s in rule.rhs):
                    nullable.add(rule.lhs)
                    changed = True
        return frozenset(nullable)

    # -- tokens
    def tokens(self, text: str) -> list[Token]:
        out: list[Token] = []
        previous_kind, previous_end = "space", 0
        for match in _TOKEN.finditer(text):
            kind, lexeme = match.lastgroup, match.group()
            adjacent = previous_kind in _NUMBERS and kind in _NONDELIMITERS and match.start() == previous_end
            previous_kind, previous_end = kind, match.end()
            if kind == "space":
                continue
            terminals: set[str] = set()
            if adjacent:  # "12abc", "0x1Fg": a nondelimiter token must be followed by a delimiter or space
                out.append(Token(lexeme, match.start(), frozenset()))
                continue
            if kind == "delimited":
                terminals.add("C:delimited_identifier")
            elif kind == "string":
                terminals.add("C:character_string_literal")
            elif kind == "approximate":
                terminals.add("C:approximate_numeric_literal")
            elif kind in ("exact", "hex"):
                terminals.add("C:exact_numeric_literal")
            elif kind == "digits":
                terminals.update({"C:unsigned_decimal", "C:exact_numeric_literal"})
            elif kind == "word":
                upper = lexeme.upper()
                if upper in self.keywords:
                    terminals.add("T:" + upper)
                if upper not in self.reserved:
                    terminals.add("C:regular_identifier")
            elif kind in ("operator", "char"):
                terminals.add("T:" + lexeme)
            out.append(Token(lexeme, match.start(), frozenset(terminals)))
        return out

    # -- recognition
    def recognises(self, text: str, start: str = START) -> bool:
        """Whether ``text`` is a sentence of ``start``; raises ``TooLong`` past ``MAX_TOKENS``."""
        tokens = self.tokens(text)
        if len(tokens) > MAX_TOKENS:
            raise TooLong(f"{len(tokens)} tokens")
        return self.longest_prefix(tokens, start) == len(tokens) and self._accepts(tokens, start)

    def longest_prefix(self, tokens: list[Token], start: str = START) -> int:
        """Number of leading tokens that begin some sentence (the position of the first error)."""
        self._charts = self._parse(tokens, start)
        return len(self._charts) - 1

    def _accepts(self, tokens: list[Token], start: str) -> bool:
        final = self._charts[len(tokens)]
        return any(rule.lhs == start and dot == len(rule.rhs) and origin == 0 for rule, dot, origin in final)

    def _parse(self, tokens: list[Token], start: str) -> list[set[tuple[Rule, int, int]]]:
        charts: list[set[tuple[Rule, int, int]]] = []
        waiting_on: list[dict[str, list[tuple[Rule, int, int]]]] = []
        current: set[tuple[Rule, int, int]] = {(rule, 0, 0) for rule in self.by_lhs[start]}
        for i in range(len(tokens) + 1):
            agenda = list(current)
            waits: dict[str, list[tuple[Rule, int, int]]] = {}
            waiting_on.append(waits)
            completed_here: set[str] = set()

            def add(item: tuple[Rule, int, int], current: set = current, agenda: list = agenda) -> None:
                if item not in current:
                    current.add(item)
                    agenda.append(item)

            while agenda:
                rule, dot, origin = agenda.pop()
                if dot < len(rule.rhs):
                    symbol = rule.rhs[dot]
                    if symbol in self.by_lhs:  # predict
                        waits.setdefault(symbol, []).append((rule, dot, origin))
                        for predicted in self.by_lhs[symbol]:
                            add((predicted, 0, i))
                        if symbol in self.nullable or symbol in completed_here:
                            add((rule, dot + 1, origin))
                    continue
                if origin == i:  # complete
                    completed_here.add(rule.lhs)
                for waiting, wdot, worigin in list(waiting_on[origin].get(rule.lhs, ())):
                    add((waiting, wdot + 1, worigin))
            charts.append(current)
            if i == len(tokens):
                break
            terminals = tokens[i].terminals
            current = {
                (rule, dot + 1, origin)
                for rule, dot, origin in current
                if dot < len(rule.rhs) and rule.rhs[dot] in terminals
            }
            if not current:
                break
        return charts
