"""From query text to a sqlglot syntax tree, or an :class:`AdqlError`.

The checks here bound the work before sqlglot sees the text (size, nesting,
characters) and reject every token ADQL does not have, so the parser only
ever receives ADQL tokens.  Structural rules the parser is lenient about are
enforced by the translator.
"""

from __future__ import annotations

import re
import sys

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from adql.dialect import ALLOWED_TOKEN_TYPES, AdqlTokenizer, make_parser
from adql.errors import AdqlError
from adql.reserved import RESERVED_WORDS

MAX_QUERY_LENGTH = 200_000
MAX_NESTING = 100
# sqlglot's recursive descent uses ~25 Python frames per nesting level; CPython
# >= 3.11 does not use the C stack for them, so a higher limit is safe.
_RECURSION_LIMIT = 12_000
MAX_TOKENS = 50_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_REGULAR_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_NUMBER = re.compile(r"(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
_HEX = re.compile(r"[0-9A-Fa-f]+\Z")


class T:
    """The TokenType members as plain class attributes, for the token checks
    below: an enum member lookup (``TokenType.X``) costs ~60 ns in Python 3.11
    (the enum metaclass), a class attribute ~15 ns, and the checks make dozens
    per token (a 37-token cone query: tokenize 202 -> 125 µs)."""


for _member in TokenType:
    setattr(T, _member.name, _member)


_AFTER_COMMA_FORBIDDEN = frozenset(
    {T.FROM, T.R_PAREN, T.WHERE, T.GROUP_BY, T.ORDER_BY, T.HAVING, T.COMMA, T.JOIN, T.NATURAL, T.INNER, T.LEFT,
     T.RIGHT, T.FULL, T.OUTER, T.ON, T.USING, T.AND, T.OR, T.UNION, T.INTERSECT, T.EXCEPT, T.OFFSET, T.ASC, T.DESC}
)

_BEFORE_COMMA_FORBIDDEN = frozenset(
    {T.SELECT, T.DISTINCT, T.ALL, T.GROUP_BY, T.ORDER_BY, T.L_PAREN, T.FROM, T.WHERE, T.HAVING, T.AND, T.OR, T.NOT,
     T.ON, T.JOIN, T.WITH, T.USING}
)

_BEFORE_SELECT = frozenset({T.L_PAREN, T.UNION, T.INTERSECT, T.EXCEPT, T.ALL, T.R_PAREN})
_AFTER_SELECT_FORBIDDEN = frozenset({T.FROM, T.UNION, T.INTERSECT, T.EXCEPT, T.R_PAREN})
_CLAUSE_STARTS = frozenset({T.FROM, T.WHERE, T.GROUP_BY, T.HAVING, T.ORDER_BY, T.ON, T.OFFSET, T.JOIN, T.USING})

_BEFORE_AS = frozenset({T.VAR, T.IDENTIFIER, T.NUMBER, T.HEX_STRING, T.STRING, T.R_PAREN, T.NULL})

_CANNOT_END = frozenset(
    {T.ALIAS, T.ON, T.USING, T.JOIN, T.AND, T.OR, T.NOT, T.COMMA, T.DOT, T.WHERE, T.FROM, T.SELECT, T.GROUP_BY,
     T.ORDER_BY, T.HAVING, T.UNION, T.INTERSECT, T.EXCEPT, T.OFFSET, T.TOP, T.IN, T.LIKE, T.ILIKE, T.BETWEEN, T.IS,
     T.EQ, T.NEQ, T.LT, T.GT, T.LTE, T.GTE, T.PLUS, T.DASH, T.STAR, T.SLASH, T.DPIPE, T.AMP, T.PIPE, T.CARET,
     T.TILDE, T.L_PAREN, T.WITH, T.CASE, T.WHEN, T.THEN, T.ELSE, T.DISTINCT, T.ALL, T.NATURAL, T.INNER, T.LEFT,
     T.RIGHT, T.FULL, T.OUTER, T.EXISTS}
)

# Tokens that end a value: "NOT NULL" right after one is a misspelt "IS NOT NULL".
_VALUE_END = frozenset({T.VAR, T.IDENTIFIER, T.NUMBER, T.HEX_STRING, T.STRING, T.R_PAREN, T.NULL, T.STAR, T.END})

_TOKEN_NAMES = {
    T.SEMICOLON: "';' (an ADQL query is a single statement without a terminator)",
    T.COLON: "':' (PostgreSQL '::' casts are not ADQL; use CAST(x AS type))",
    T.L_BRACKET: "'['",
    T.R_BRACKET: "']'",
    T.MOD: "'%' (use MOD(x, y))",
    T.PLACEHOLDER: "'?' (parameters are not ADQL)",
    T.PARAMETER: "'@'",
    T.NATIONAL_STRING: "a national string literal (N'...')",
}


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def _error_at(text: str, offset: int, message: str) -> AdqlError:
    line, column = position(text, offset)
    return AdqlError(message, line, column)


def decode_query(adql: str | bytes) -> str:
    """The query as text; bytes must be UTF-8."""
    if isinstance(adql, bytes | bytearray):
        try:
            return bytes(adql).decode("utf-8")
        except UnicodeDecodeError as err:
            raise AdqlError(f"the query is not valid UTF-8 (byte {err.start})") from None
    if not isinstance(adql, str):
        raise AdqlError("the query must be a string")
    try:
        adql.encode("utf-8")
    except UnicodeEncodeError as err:
        raise AdqlError(f"the query contains an invalid character at offset {err.start}") from None
    return adql


def tokenize(text: str) -> list[Token]:
    """ADQL tokens of ``text`` after the character-level checks."""
    if len(text) > MAX_QUERY_LENGTH:
        raise AdqlError(f"the query is too long ({len(text)} characters; the limit is {MAX_QUERY_LENGTH})")
    if not text.strip():
        raise AdqlError("the query is empty")
    bad = _CONTROL.search(text)
    if bad:
        raise _error_at(text, bad.start(), f"control character U+{ord(bad.group()):04X} is not allowed")
    try:
        tokens = AdqlTokenizer().tokenize(text)
    except TokenError:
        raise _token_error(text) from None
    if not tokens:
        raise AdqlError("the query is empty (only comments)")
    if len(tokens) > MAX_TOKENS:
        raise AdqlError(f"the query has too many tokens ({len(tokens)}; the limit is {MAX_TOKENS})")
    tokens = _join_leading_point_numbers(tokens)
    _check_tokens(text, tokens)
    return tokens


_QUALIFIER_END = frozenset({T.VAR, T.IDENTIFIER})


def _join_leading_point_numbers(tokens: list[Token]) -> list[Token]:
    """``.5`` and ``.5E1`` are <exact_numeric_literal>s (``<period> <unsigned_decimal>``); sqlglot's
    tokenizer splits them into '.' and a number, which its parser rejoins only in some positions
    (not after DISTINCT or ALL).  Join them here unless the '.' follows a name (``t.5`` stays
    malformed)."""
    joined: list[Token] = []
    for token in tokens:
        previous = joined[-1] if joined else None
        if (
            token.token_type == T.NUMBER
            and previous is not None
            and previous.token_type == T.DOT
            and previous.end + 1 == token.start
            and "." not in token.text
            and token.text[:1].isdigit()
            and (len(joined) < 2 or joined[-2].token_type not in _QUALIFIER_END)
        ):
            joined[-1] = Token(T.NUMBER, "." + token.text, previous.line, previous.col, previous.start,
                               token.end, previous.comments)
            continue
        joined.append(token)
    return joined


def _token_error(text: str) -> AdqlError:
    """Locate what the tokenizer could not read: an unterminated quote."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if char in "'\"":
            j = i + 1
            while True:
                j = text.find(char, j)
                if j < 0:
                    what = "string literal" if char == "'" else "delimited identifier"
                    return _error_at(text, i, f"unterminated {what}")
                if text.startswith(char * 2, j):
                    j += 2
                    continue
                break
            i = j + 1
            continue
        i += 1
    return AdqlError("cannot read the query")


def _ends_name(token: Token | None) -> bool:
    """Whether ``token`` can be the name part before a qualifying period."""
    if token is None:
        return False
    if token.token_type in _QUALIFIER_END:
        return True
    return bool(_REGULAR_IDENTIFIER.match(token.text)) and token.text.upper() not in RESERVED_WORDS


_AGGREGATES = frozenset({"COUNT", "AVG", "MIN", "MAX", "SUM", "IVO_STRING_AGG"})


def _quantifier_allowed(previous: Token | None, before: Token | None) -> bool:
    """Whether DISTINCT or ALL may come after ``before previous``."""
    if previous is None:
        return False
    if previous.token_type == T.SELECT or previous.token_type in _SET_OPERATORS:
        return True
    return previous.token_type == T.L_PAREN and before is not None and before.text.upper() in _AGGREGATES


def _check_tokens(text: str, tokens: list[Token]) -> None:
    depth = 0
    previous: Token | None = None
    before: Token | None = None
    pkind = bkind = None  # previous.token_type, before.token_type
    for token in tokens:
        kind = token.token_type
        if kind not in ALLOWED_TOKEN_TYPES:
            what = _TOKEN_NAMES.get(kind, repr(token.text))
            raise _error_at(text, token.start, f"unexpected {what}")
        if kind == T.L_PAREN:
            depth += 1
            if depth > MAX_NESTING:
                raise _error_at(text, token.start, f"parentheses nested deeper than {MAX_NESTING}")
        elif kind == T.R_PAREN:
            depth -= 1
        elif kind == T.VAR:
            if not _REGULAR_IDENTIFIER.match(token.text):
                raise _error_at(text, token.start, f"{token.text!r} is not a valid ADQL identifier")
        elif kind == T.NUMBER:
            if not _NUMBER.match(token.text):
                raise _error_at(text, token.start, f"malformed number {token.text!r}")
        elif kind == T.HEX_STRING:
            if not _HEX.match(token.text):
                raise _error_at(text, token.start, "malformed hexadecimal literal")
        elif kind == T.IDENTIFIER:
            if text[token.start] != '"':
                raise _error_at(text, token.start, f"malformed literal {text[token.start : token.end + 1]!r}")
            if token.text == "":
                raise _error_at(text, token.start, 'empty delimited identifier ""')
        if kind in (T.DISTINCT, T.ALL) and previous is not None:
            if pkind == T.NUMBER and bkind == T.TOP:
                raise _error_at(text, token.start, f"{token.text.upper()} must come before TOP")
        if (
            kind == T.VAR
            and pkind == T.VAR
            and previous.text.upper() == "NULLS"
            and token.text.upper() in ("FIRST", "LAST")
        ):
            raise _error_at(text, previous.start, "NULLS FIRST/LAST is not ADQL")
        if (
            pkind in (T.NUMBER, T.HEX_STRING)
            and previous.end + 1 == token.start
            and kind in (T.VAR, T.NUMBER, T.HEX_STRING, T.IDENTIFIER)
        ):
            raise _error_at(text, previous.start, f"malformed number {text[previous.start : token.end + 1]!r}")
        if pkind == T.SLASH and kind == T.STAR and previous.end + 1 == token.start:
            raise _error_at(text, previous.start, "'/*' comments are not ADQL; use '--' comments")
        if pkind == T.DOT and kind == T.NUMBER and (
            previous.end + 1 != token.start or "." in token.text
        ):
            raise _error_at(text, previous.start, "malformed number")
        if kind == T.DOT and not _ends_name(previous):
            # <column_reference>/<table_name>: every part before a period is a name ("FROM . t", "s..t")
            raise _error_at(text, token.start, "'.' must follow a name")
        if kind == T.NOT and pkind == T.NOT:
            # <boolean_factor> ::= [ NOT ] <boolean_primary>
            raise _error_at(text, token.start, "NOT NOT needs parentheses: NOT (NOT ...)")
        if kind == T.COMMA and (
            previous is None
            or pkind in _BEFORE_COMMA_FORBIDDEN
            or (pkind == T.NUMBER and bkind == T.TOP)
        ):
            # every list (<select_list>, <group_by_term_list>, arguments, ...) starts with an item
            raise _error_at(text, token.start, f"unexpected ',' after {previous.text if previous else 'nothing'!r}")
        if kind == T.ALIAS and (
            previous is None
            or pkind not in _BEFORE_AS
            or (pkind == T.NUMBER and bkind == T.TOP)
        ):
            # <as_clause>, <correlation_specification>, CAST, <with_query>: AS follows a value or a name
            raise _error_at(text, token.start, f"unexpected AS after {previous.text if previous else 'nothing'!r}")
        if kind == T.IS and pkind == T.NOT:
            raise _error_at(text, previous.start, "NOT IS NULL is not ADQL; use IS NOT NULL")
        if kind in (T.DISTINCT, T.ALL) and not _quantifier_allowed(previous, before):
            # <set_quantifier> after SELECT or in a <general_set_function>; ALL after a set operator
            raise _error_at(text, token.start,
                            f"{token.text.upper()} cannot follow {previous.text if previous else 'nothing'!r}")
        if pkind == T.DOT and kind not in (T.STAR, T.NUMBER) and not _ends_name(token):
            raise _error_at(text, token.start, "a name or '*' must follow '.'")
        if kind == T.STRING and pkind in (T.VAR, T.IDENTIFIER, T.R_PAREN, T.NULL):
            # a string literal is never a name (correlation name, WITH query) nor follows a value
            raise _error_at(text, token.start, f"unexpected string literal after {previous.text!r}")
        if pkind in _CLAUSE_STARTS and kind in _CLAUSE_STARTS | {T.R_PAREN}:
            # WHERE, ON, HAVING, GROUP BY, ... are followed by their condition or list
            raise _error_at(text, token.start, f"{_clause_name(token)} cannot follow {_clause_name(previous)}")
        if kind == T.SELECT and pkind is not None and pkind not in _BEFORE_SELECT:
            # <query_set_primary> / <subquery>: a query starts the text, a parenthesis or a set operand
            raise _error_at(text, token.start, f"SELECT cannot follow {previous.text!r}; a subquery needs parentheses")
        if kind in _AFTER_SELECT_FORBIDDEN and previous is not None and (
            pkind in (T.SELECT, T.DISTINCT)
            or (pkind == T.ALL and bkind == T.SELECT)
            or (pkind == T.NUMBER and bkind == T.TOP)
        ):
            raise _error_at(text, token.start, "the select list is empty")
        if kind == T.FROM and (previous is None or pkind == T.L_PAREN):
            raise _error_at(text, token.start, "a query starts with SELECT")
        if pkind in _SET_OPERATORS and kind not in (T.SELECT, T.L_PAREN, T.ALL):
            raise _error_at(text, token.start, f"{previous.text.upper()} must be followed by a query")
        if pkind == T.COMMA and kind in _AFTER_COMMA_FORBIDDEN:
            raise _error_at(text, previous.start, f"unexpected ',' before {token.text!r}")
        if pkind == T.TOP and kind != T.NUMBER:
            raise _error_at(text, token.start, "TOP takes an unsigned integer")
        if bkind == T.OFFSET and kind not in (T.R_PAREN,):
            raise _error_at(text, token.start, "OFFSET n must end the query (or parenthesised subquery)")
        if kind == T.TOP and pkind is not None and pkind != T.SELECT:
            if pkind not in (T.DISTINCT, T.ALL):
                raise _error_at(text, token.start, "TOP must follow SELECT [ALL | DISTINCT]")
        if pkind in (T.ASC, T.DESC) and kind in (T.ASC, T.DESC):
            raise _error_at(text, token.start, f"unexpected {token.text.upper()}")
        if pkind == T.ALIAS and kind not in (T.VAR, T.IDENTIFIER, T.L_PAREN):
            raise _error_at(text, token.start, "AS must be followed by a name")
        if pkind == T.USING and kind != T.L_PAREN:
            raise _error_at(text, token.start, "USING takes a parenthesised list of column names")
        if kind == T.R_PAREN and pkind == T.L_PAREN and (before is None or bkind != T.VAR):
            raise _error_at(text, previous.start, "empty parentheses")
        if kind == T.NULL and pkind == T.NOT and bkind in _VALUE_END:
            # "x NOT NULL"; "WHERE NOT NULL IN (...)" is <boolean_factor> ::= NOT <predicate>
            raise _error_at(text, previous.start, "NOT NULL is only valid as IS NOT NULL")
        before, previous = previous, token
        bkind, pkind = pkind, kind
    if pkind in _CANNOT_END:
        raise _error_at(text, previous.start, f"the query ends unexpectedly after {previous.text!r}")
    _check_with(text, tokens)
    _check_clause_order(text, tokens)


# <select_query> ::= SELECT ... <from_clause> [ <where_clause> ] [ <group_by_clause> ] [ <having_clause> ],
# <select_expression> ::= <query_set_expression> [ <order_by_clause> ] [ <offset_clause> ]
_CLAUSE_RANK = {T.SELECT: 0, T.FROM: 1, T.JOIN: 1, T.WHERE: 2, T.GROUP_BY: 3,
                T.HAVING: 4, T.ORDER_BY: 5, T.OFFSET: 6}
_SET_OPERATORS = frozenset({T.UNION, T.INTERSECT, T.EXCEPT})


def _check_clause_order(text: str, tokens: list[Token]) -> None:
    """Clauses of a query in the grammar's order: sqlglot takes WHERE, GROUP BY, HAVING, ORDER BY
    and joins in any order ("... ORDER BY a WHERE b = 1", "WHERE a = 1, t2" with a comma join)."""
    ranks: list[tuple[int, Token | None]] = [(-1, None)]  # per parenthesis level: last clause seen
    for token in tokens:
        kind = token.token_type
        if kind == T.L_PAREN:
            ranks.append((-1, None))
        elif kind == T.R_PAREN:
            if len(ranks) > 1:
                ranks.pop()
        elif kind == T.COMMA and ranks[-1][0] in (_CLAUSE_RANK[T.WHERE], _CLAUSE_RANK[T.HAVING]):
            clause = ranks[-1][1]
            assert clause is not None
            raise _error_at(text, token.start, f"unexpected ',' in the {_clause_name(clause)} condition")
        elif kind in _SET_OPERATORS:
            rank, clause = ranks[-1]
            if rank >= _CLAUSE_RANK[T.ORDER_BY] and clause is not None:
                raise _error_at(text, token.start, f"{token.text.upper()} cannot follow {_clause_name(clause)}"
                                " (ORDER BY and OFFSET end the whole query; parenthesise the query)")
            ranks[-1] = (-1, None)
        elif kind in _CLAUSE_RANK:
            rank, clause = ranks[-1]
            new = _CLAUSE_RANK[kind]
            if rank == -1 and kind in (T.WHERE, T.GROUP_BY, T.HAVING):
                # "(SELECT ...) WHERE ...": only ORDER BY and OFFSET follow a parenthesised query
                raise _error_at(text, token.start, f"{_clause_name(token)} cannot follow a parenthesised query")
            if new < rank or (new == rank and kind not in (T.JOIN, T.SELECT)):
                assert clause is not None
                raise _error_at(text, token.start, f"{_clause_name(token)} cannot follow {_clause_name(clause)}")
            ranks[-1] = (new, token)


def _clause_name(token: Token) -> str:
    return " ".join(token.text.upper().split())


def _check_with(text: str, tokens: list[Token]) -> None:
    """WITH name AS (query) [, name AS (query)]... -- sqlglot tolerates a missing AS."""
    i = 0
    n = len(tokens)
    while i < n:
        if tokens[i].token_type != T.WITH:
            i += 1
            continue
        i += 1
        while True:
            if i < n and tokens[i].token_type not in (T.VAR, T.IDENTIFIER):
                raise _error_at(text, tokens[i].start, "expected the name of a WITH query")
            if i + 2 >= n:
                return  # the parser reports it
            if tokens[i + 1].token_type != T.ALIAS:
                raise _error_at(text, tokens[i + 1].start, "expected AS after the WITH query name")
            i += 2
            if tokens[i].token_type != T.L_PAREN:
                return
            depth = 0
            while i < n:
                if tokens[i].token_type == T.L_PAREN:
                    depth += 1
                elif tokens[i].token_type == T.R_PAREN:
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            i += 1
            if i < n and tokens[i].token_type == T.COMMA:
                i += 1
                continue
            break


def ensure_recursion_limit() -> None:
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)


def parse(adql: str | bytes) -> exp.Expr:
    """Parse one ADQL query into a sqlglot tree (syntax only, no catalog)."""
    text = decode_query(adql)
    tokens = tokenize(text)
    ensure_recursion_limit()
    parser = make_parser()
    try:
        trees = parser.parse(tokens, text)
    except ParseError as err:
        raise _parse_error(text, err) from None
    except TokenError:
        # sqlglot re-reads some words as a data type with its default tokenizer (a column list with
        # types after a table alias); whatever it stumbled on is not ADQL
        token = parser._curr or parser._prev  # noqa: SLF001
        if token is None:
            raise AdqlError("syntax error") from None
        raise _error_at(text, token.start, f"syntax error near {token.text!r}") from None
    except RecursionError:
        raise AdqlError("the query is nested too deeply") from None
    trees = [tree for tree in trees if tree is not None]
    if len(trees) != 1:
        raise AdqlError("expected exactly one query")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise AdqlError("only SELECT queries are allowed", 1, 1)
    return tree


def _parse_error(text: str, err: ParseError) -> AdqlError:
    details = err.errors[0] if err.errors else {}
    line = details.get("line")
    column = details.get("col")
    description = details.get("description") or str(err)
    token = details.get("highlight")
    message = _friendly(description, token)
    if line is None:
        return AdqlError(message)
    # sqlglot reports the column of the token's last character.
    if token:
        column = max(1, column - len(token) + 1)
    return AdqlError(message, line, column)


def _friendly(description: str, token: str | None) -> str:
    if description.startswith("Invalid expression / Unexpected token"):
        return f"syntax error near {token!r}" if token else "syntax error"
    if description.startswith("Expecting )"):
        return f"expected ')' near {token!r}" if token else "expected ')'"
    if description.startswith("Expected table name"):
        return f"expected a table name near {token!r}" if token else "expected a table name"
    if description.startswith("Required keyword"):
        return f"incomplete clause near {token!r}" if token else "incomplete clause"
    return f"syntax error near {token!r}: {description}" if token else f"syntax error: {description}"
