"""The model-formula grammar: ``y ~ x1 + a:b + i(event_time, ref=-1) + C(kind) | unit + year``.

A small hand-written tokenizer and recursive-descent parser.  Nothing is ever evaluated:
a formula is only text that names columns.  Every error is a :class:`FormulaError` whose
message repeats the formula with a caret under the offending position.

Grammar (EBNF)::

    formula  := NAME '~' rhs [ '|' NAME { '+' NAME } ] END
    rhs      := term { ('+' term) | ('-' '1') }
    term     := '0' | '1' | factor { ':' factor }
    factor   := NAME | 'i' '(' NAME [ ',' NAME ] { ',' option } ')' | 'C' '(' NAME ')'
    option   := NAME '=' value            (only ``ref`` is known)
    value    := ['-'] NUMBER | STRING | NAME

``i(var, x)`` (a second column name, not followed by ``=``) interacts the numeric column ``x``
with the dummies of ``var``: one regressor ``var::level:x`` per level (all levels unless
``ref=`` names one to leave out), as pyfixest's ``i(var, x)``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from effectmeting.errors import FormulaError

_TOKEN_RE = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>\d+(?:\.\d*)?|\.\d+)
      | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<string>'[^'\\]*'|"[^"\\]*")
      | (?P<op>[~+:|(),=\-])""",
    re.VERBOSE,
)

KNOWN_FUNCTIONS = ("i", "C")


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "number", "string", "op", "end"
    text: str
    position: int


@dataclass(frozen=True)
class Factor:
    """One factor of a term: a numeric column, ``i(var, ref=...)``, ``i(var, x, ref=...)`` or
    ``C(var)``; ``interact`` is the numeric column ``x`` of ``i(var, x)`` (None otherwise)."""

    kind: str  # "column", "i", "C"
    column: str
    position: int  # of the column name
    ref: object | None = None
    has_ref: bool = False
    start: int = -1  # of the function name for i()/C(); the column name otherwise
    interact: str | None = None
    interact_position: int = -1


@dataclass(frozen=True)
class Term:
    factors: tuple[Factor, ...]

    @property
    def name(self) -> str:
        return ":".join(f.column if f.kind == "column" else _call_text(f) for f in self.factors)


def _call_text(factor: Factor) -> str:
    if factor.kind == "C":
        return f"C({factor.column})"
    if factor.interact is not None:
        return f"i({factor.column}, {factor.interact})"
    return f"i({factor.column})"


@dataclass
class Formula:
    """A parsed formula; ``text`` is kept so later errors can point into it."""

    text: str
    outcome: str
    outcome_position: int
    terms: list[Term] = field(default_factory=list)
    intercept: bool = True
    fixed_effects: list[tuple[str, int]] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """Every data column the formula uses (outcome, regressors, fixed effects), in order."""
        names = [self.outcome]
        for term in self.terms:
            for factor in term.factors:
                names += [factor.column] if factor.interact is None else [factor.column, factor.interact]
        names += [name for name, _ in self.fixed_effects]
        return list(dict.fromkeys(names))


def formula_error(text: str, position: int, message: str) -> FormulaError:
    """A FormulaError showing ``text`` with a caret under ``position``."""
    return FormulaError(f"{message}\n  {text}\n  {' ' * position}^")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None:
            # report it only when the parser gets here, so earlier (clearer) errors win
            tokens.append(Token("bad", text[position], position))
            break
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN_RE is a named group
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    else:
        tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    # -- helpers ----------------------------------------------------------------------------
    @property
    def current(self) -> Token:
        token = self.tokens[self.index]
        if token.kind == "bad":
            raise formula_error(self.text, token.position,
                                f"unexpected character {token.text!r} in formula")
        return token

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def error(self, message: str, token: Token | None = None) -> FormulaError:
        token = token or self.current
        return formula_error(self.text, token.position, message)

    def expect(self, kind: str, text: str | None = None, what: str = "") -> Token:
        token = self.current
        if token.kind != kind or (text is not None and token.text != text):
            found = "end of formula" if token.kind == "end" else repr(token.text)
            raise self.error(f"expected {what or repr(text)} but found {found}")
        return self.advance()

    def at(self, text: str) -> bool:
        return self.current.kind == "op" and self.current.text == text

    # -- grammar ----------------------------------------------------------------------------
    def parse(self) -> Formula:
        outcome = self.expect("name", what="the outcome column name")
        self.expect("op", "~", what="'~' after the outcome")
        formula = Formula(self.text, outcome.text, outcome.position)
        self.parse_rhs(formula)
        if self.at("|"):
            self.advance()
            formula.fixed_effects.append(self.fixed_effect())
            while self.at("+"):
                self.advance()
                formula.fixed_effects.append(self.fixed_effect())
        if self.current.kind != "end":
            raise self.error(f"unexpected {self.current.text!r}: expected '+', '|' or end of formula")
        if formula.fixed_effects:
            formula.intercept = False  # absorbed by the fixed effects
        return formula

    def fixed_effect(self) -> tuple[str, int]:
        token = self.expect("name", what="a fixed-effect column name")
        if self.at("("):
            raise self.error("fixed effects must be plain column names (no functions)", token)
        return token.text, token.position

    def parse_rhs(self, formula: Formula) -> None:
        self.parse_term(formula)
        while self.at("+") or self.at("-"):
            sign = self.advance()
            if sign.text == "-":
                token = self.current
                if token.kind == "number" and token.text == "1":
                    self.advance()
                    formula.intercept = False
                    continue
                raise self.error("only '- 1' (drop the intercept) may follow a '-'", token)
            self.parse_term(formula)

    def parse_term(self, formula: Formula) -> None:
        token = self.current
        if token.kind == "number":
            if token.text not in ("0", "1"):
                raise self.error(f"a number ({token.text}) is not a term; only 0 or 1 (intercept)")
            self.advance()
            formula.intercept = token.text == "1"
            return
        factors = [self.parse_factor()]
        while self.at(":"):
            self.advance()
            factors.append(self.parse_factor())
        calls = [f for f in factors if f.kind != "column"]
        if len(factors) > 1 and calls:
            raise formula_error(self.text, calls[0].start,
                                "interactions with i() or C() are not supported yet; "
                                "use numeric columns in 'a:b'")
        formula.terms.append(Term(tuple(factors)))

    def parse_factor(self) -> Factor:
        name = self.expect("name", what="a column name, i(...) or C(...)")
        if not self.at("("):
            return Factor("column", name.text, name.position)
        if name.text not in KNOWN_FUNCTIONS:
            raise self.error(
                f"unknown function {name.text!r}; only i(var, ref=...) and C(var) are allowed", name)
        self.advance()  # '('
        column = self.expect("name", what="a column name")
        ref, has_ref = None, False
        interact: Token | None = None
        if name.text == "i" and self.at(",") and self.tokens[self.index + 1].kind == "name" \
                and self.tokens[self.index + 2].text != "=":  # i(var, x): a column, not an option
            self.advance()
            interact = self.advance()
            if self.at("("):
                raise self.error("the second argument of i(var, x) must be a plain numeric column name", interact)
        while self.at(","):
            self.advance()
            option = self.expect("name", what="an option name")
            if name.text != "i" or option.text != "ref":
                raise self.error(f"unknown option {option.text!r} for {name.text}(); "
                                 "only ref= in i()", option)
            self.expect("op", "=", what="'=' after the option name")
            ref, has_ref = self.parse_value(), True
        self.expect("op", ")", what="')'")
        return Factor(name.text, column.text, column.position, ref, has_ref, name.position,
                      interact.text if interact else None, interact.position if interact else -1)

    def parse_value(self) -> object:
        negative = False
        if self.at("-"):
            self.advance()
            negative = True
        token = self.current
        if token.kind == "number":
            self.advance()
            value = float(token.text) if "." in token.text else int(token.text)
            return -value if negative else value
        if negative:
            raise self.error("expected a number after '-'")
        if token.kind == "string":
            self.advance()
            return token.text[1:-1]
        if token.kind == "name":
            self.advance()
            return token.text
        raise self.error("expected a value (number, 'text' or name)")


def parse_formula(text: str) -> Formula:
    """Parse a model formula (see the module docstring for the grammar); never evaluates it."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string, got {type(text).__name__}")
    return _Parser(text).parse()
