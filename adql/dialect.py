"""The ADQL 2.1 dialect of sqlglot: tokenizer and parser.

sqlglot's default tokenizer knows hundreds of keywords and operators from
many SQL dialects; ADQL knows few.  The tokenizer here recognises only the
words that carry ADQL syntax, so PostgreSQL-only syntax (``::``, ``LIMIT``,
``OVER``, ``->``, ``$$``, ``/* */``) never becomes a construct the parser
could accept.  Every other word is an identifier; the translator then rejects
reserved words used as identifiers.  All function calls parse to
``exp.Anonymous`` so the translator's function registry is the single place
that decides which functions exist.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel
from sqlglot.generator import Generator as _Generator
from sqlglot.parser import Parser as _Parser
from sqlglot.tokens import Tokenizer as _Tokenizer
from sqlglot.tokens import TokenType
from sqlglot.trie import new_trie

# Words that carry syntax in ADQL, mapped to sqlglot's token types.
_KEYWORDS: dict[str, TokenType] = {
    "ALL": TokenType.ALL,
    "AND": TokenType.AND,
    "AS": TokenType.ALIAS,
    "ASC": TokenType.ASC,
    "BETWEEN": TokenType.BETWEEN,
    "CASE": TokenType.CASE,
    "DESC": TokenType.DESC,
    "DISTINCT": TokenType.DISTINCT,
    "ELSE": TokenType.ELSE,
    "END": TokenType.END,
    "EXCEPT": TokenType.EXCEPT,
    "EXISTS": TokenType.EXISTS,
    "FROM": TokenType.FROM,
    "FULL": TokenType.FULL,
    "GROUP BY": TokenType.GROUP_BY,
    "HAVING": TokenType.HAVING,
    "ILIKE": TokenType.ILIKE,
    "IN": TokenType.IN,
    "INNER": TokenType.INNER,
    "INTERSECT": TokenType.INTERSECT,
    "IS": TokenType.IS,
    "JOIN": TokenType.JOIN,
    "LEFT": TokenType.LEFT,
    "LIKE": TokenType.LIKE,
    "NATURAL": TokenType.NATURAL,
    "NOT": TokenType.NOT,
    "NULL": TokenType.NULL,
    "OFFSET": TokenType.OFFSET,
    "ON": TokenType.ON,
    "OR": TokenType.OR,
    "ORDER BY": TokenType.ORDER_BY,
    "OUTER": TokenType.OUTER,
    "RIGHT": TokenType.RIGHT,
    "SELECT": TokenType.SELECT,
    "THEN": TokenType.THEN,
    "TOP": TokenType.TOP,
    "UNION": TokenType.UNION,
    "USING": TokenType.USING,
    "WHEN": TokenType.WHEN,
    "WHERE": TokenType.WHERE,
    "WITH": TokenType.WITH,
    "<>": TokenType.NEQ,
    "!=": TokenType.NEQ,
    ">=": TokenType.GTE,
    "<=": TokenType.LTE,
    "||": TokenType.DPIPE,
}

_SINGLE_TOKENS: dict[str, TokenType] = {
    "(": TokenType.L_PAREN,
    ")": TokenType.R_PAREN,
    ",": TokenType.COMMA,
    ".": TokenType.DOT,
    "-": TokenType.DASH,
    "+": TokenType.PLUS,
    "*": TokenType.STAR,
    "/": TokenType.SLASH,
    "=": TokenType.EQ,
    "<": TokenType.LT,
    ">": TokenType.GT,
    "&": TokenType.AMP,
    "|": TokenType.PIPE,
    "^": TokenType.CARET,
    "~": TokenType.TILDE,
    # Characters ADQL does not use as operators still need to end a word so
    # that the translator can point at them; they are rejected afterwards.
    ";": TokenType.SEMICOLON,
    ":": TokenType.COLON,
    "[": TokenType.L_BRACKET,
    "]": TokenType.R_BRACKET,
    "{": TokenType.L_BRACE,
    "}": TokenType.R_BRACE,
    "%": TokenType.MOD,
    "!": TokenType.NOT,
    "?": TokenType.PLACEHOLDER,
    "@": TokenType.PARAMETER,
    "#": TokenType.HASH,
    "\\": TokenType.BACKSLASH,
    "$": TokenType.UNKNOWN,
    "'": TokenType.UNKNOWN,
    "`": TokenType.UNKNOWN,
    '"': TokenType.UNKNOWN,
}

# Token types that may appear in an ADQL query at all.
ALLOWED_TOKEN_TYPES = frozenset(
    {
        TokenType.L_PAREN,
        TokenType.R_PAREN,
        TokenType.COMMA,
        TokenType.DOT,
        TokenType.DASH,
        TokenType.PLUS,
        TokenType.STAR,
        TokenType.SLASH,
        TokenType.EQ,
        TokenType.LT,
        TokenType.GT,
        TokenType.AMP,
        TokenType.PIPE,
        TokenType.CARET,
        TokenType.TILDE,
        TokenType.STRING,
        TokenType.NUMBER,
        TokenType.HEX_STRING,
        TokenType.VAR,
        TokenType.IDENTIFIER,
        *_KEYWORDS.values(),
    }
)


class AdqlTokenizer(_Tokenizer):
    KEYWORDS = _KEYWORDS
    SINGLE_TOKENS = _SINGLE_TOKENS
    QUOTES = ["'"]
    IDENTIFIERS = ['"']
    STRING_ESCAPES = ["'"]
    HEX_STRINGS = [("0x", ""), ("0X", "")]
    COMMENTS = ["--"]
    NESTED_COMMENTS = False
    COMMANDS: set[TokenType] = set()
    COMMAND_PREFIX_TOKENS: set[TokenType] = set()


def _parse_adql_cast(self: AdqlParser) -> exp.Expr:
    """CAST(value AS type) with the ADQL cast targets only; the type is kept as
    an upper-case word list so the translator decides what is allowed."""
    this = self._parse_disjunction()
    if not self._match(TokenType.ALIAS):
        self.raise_error("Expected AS in CAST")
    words: list[str] = []
    while self._curr and self._curr.token_type == TokenType.VAR:
        words.append(self._curr.text.upper())
        self._advance()
    length = None
    if self._match(TokenType.L_PAREN):
        length = self._parse_primary()
        if length is None:  # <character_string_type> ::= CHAR [ ( <length> ) ]: no "VARCHAR()"
            self.raise_error("expected a length")
        self._match_r_paren()
    # sqlglot consumes the closing parenthesis of a FUNCTION_PARSERS call itself (optionally):
    # consuming it here too would swallow the parenthesis of an enclosing call or group.
    if not self._curr or self._curr.token_type != TokenType.R_PAREN:
        self.raise_error("Expecting )")
    return self.expression(exp.Cast(this=this, to=exp.Var(this=" ".join(words)), format=length))


def _parse_adql_exists(self: AdqlParser) -> exp.Expr:
    """EXISTS <table_subquery>: the subquery's <query_expression> may itself start with a
    parenthesis (``EXISTS ((SELECT ...) UNION (SELECT ...))``), which sqlglot's own EXISTS
    parsing takes for a function call."""
    query = self._parse_select_or_expression()
    if not isinstance(query, exp.Query):
        self.raise_error("EXISTS takes a subquery")
    query = self._parse_query_modifiers(query)  # ((SELECT ...) ORDER BY 1 OFFSET 2), as IN does
    if not self._curr or self._curr.token_type != TokenType.R_PAREN:
        self.raise_error("Expecting )")
    return self.expression(exp.Exists(this=query.subquery(copy=False)))


_NOT_NUMERIC_OPERANDS = (exp.Star, exp.Query, exp.Predicate, exp.Connector, exp.Not, exp.Neg)


def _parse_adql_sign(self: AdqlParser, negative: bool) -> exp.Expr:
    """<factor> ::= [ <sign> ] <numeric_primary>: one sign before a value.  sqlglot drops a unary
    '+' whatever follows it ("+ *", "+ SELECT ...", "+ (a IS NULL)") and reads "- -a"."""
    sign = self._prev
    operand = self._parse_unary()
    inner = operand.unnest() if isinstance(operand, exp.Paren) else operand
    if operand is None or isinstance(operand, _NOT_NUMERIC_OPERANDS) or isinstance(inner, _NOT_NUMERIC_OPERANDS[1:5]):
        self.raise_error(f"'{sign.text}' must be followed by a numeric value", sign)
    if isinstance(operand, exp.Paren) and operand.meta.get("unary_plus"):  # "+ + x", "- + x"
        self.raise_error(f"'{sign.text}' must be followed by a numeric value", sign)
    if isinstance(operand, exp.Null):  # NULL is no <numeric_primary>; (NULL) is
        self.raise_error(f"'{sign.text}' must be followed by a numeric value, not NULL", sign)
    if isinstance(operand, exp.Literal) and operand.is_string:
        self.raise_error(f"a sign cannot apply to a string ('{sign.text}' before {operand.sql()})", sign)
    if negative:
        return self.expression(exp.Neg(this=operand))
    # kept as a parenthesis: "+ t.c" is no <column_reference> (IS NULL) nor an ORDER BY column number
    wrapped = self.expression(exp.Paren(this=operand))
    wrapped.meta["unary_plus"] = True
    return wrapped


def _parse_adql_between(self: AdqlParser, this: exp.Expr | None) -> exp.Between:
    """<between_predicate> ::= <value_expression> [ NOT ] BETWEEN <value_expression> AND
    <value_expression>: sqlglot makes the AND optional."""
    low = self._parse_bitwise()
    if not self._match(TokenType.AND):
        self.raise_error("BETWEEN needs AND between its bounds")
    high = self._parse_bitwise()
    return self.expression(exp.Between(this=this, low=low, high=high))


class AdqlParser(_Parser):
    UNARY_PARSERS = {**_Parser.UNARY_PARSERS,
                     TokenType.PLUS: lambda self: _parse_adql_sign(self, negative=False),
                     TokenType.DASH: lambda self: _parse_adql_sign(self, negative=True)}
    RANGE_PARSERS = {**_Parser.RANGE_PARSERS, TokenType.BETWEEN: _parse_adql_between}

    def _parse_table_part(self, schema: bool = False) -> exp.Expr | None:
        """A <table_name> part is an <identifier>: no string literal ("FROM 'x'") or parameter."""
        return (not schema and self._parse_function(optional_parens=False)) or self._parse_id_var(any_token=False)

    def _parse_table_parts(self, *args: object, **kwargs: object) -> exp.Table:
        """No PostgreSQL table-inheritance suffix: sqlglot skips the '*' of "FROM t * x"."""
        table = super()._parse_table_parts(*args, **kwargs)  # type: ignore[arg-type]
        if self._curr is not None and self._curr.token_type == TokenType.STAR:
            self.raise_error("unexpected '*' after a table name")
        return table

    def _parse_join(self, skip_join_token: bool = False, parse_bracket: bool = False,
                    alias_tokens: object = None) -> exp.Join | None:
        """A plain ``a JOIN b`` is an INNER join: marked so, as sqlglot gives it the same tree as
        the comma in ``a, b``, whose right side starts a new scope for later ON conditions."""
        comma = self._curr is not None and self._curr.token_type == TokenType.COMMA
        join = super()._parse_join(skip_join_token, parse_bracket, alias_tokens)  # type: ignore[arg-type]
        if join is not None and not comma and not any(join.args.get(k) for k in ("side", "kind", "method")):
            join.set("kind", "INNER")
        return join

    # NULL keeps its position, for error messages about it
    PRIMARY_PARSERS = {**_Parser.PRIMARY_PARSERS,
                       TokenType.NULL: lambda self, token: self.expression(exp.Null()).update_positions(token)}
    FUNCTIONS: dict = {}
    FUNCTION_PARSERS = {"CAST": _parse_adql_cast, "EXISTS": _parse_adql_exists}
    NO_PAREN_FUNCTION_PARSERS = {"CASE": lambda self: self._parse_case()}
    NO_PAREN_FUNCTIONS: dict = {}
    STRICT_CAST = True
    LOG_DEFAULTS_TO_LN = False


class Adql(Dialect):
    """sqlglot dialect object for ADQL 2.1."""

    NORMALIZE_FUNCTIONS = False
    tokenizer_class = AdqlTokenizer
    parser_class = AdqlParser
    generator_class = _Generator


def make_parser() -> AdqlParser:
    return AdqlParser(error_level=ErrorLevel.IMMEDIATE, dialect=Adql())


# sqlglot adds Jinja comments to every tokenizer; ADQL has only "--" comments.
AdqlTokenizer._COMMENTS = {"--": None}
AdqlTokenizer._KEYWORD_TRIE = new_trie(
    key.upper()
    for key in (*AdqlTokenizer.KEYWORDS, "--", "'", *AdqlTokenizer._FORMAT_STRINGS)
    if " " in key or any(single in key for single in AdqlTokenizer.SINGLE_TOKENS)
)
