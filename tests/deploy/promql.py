"""Just enough PromQL reading for the deploy tests: which metrics an expression selects, with
which label matchers, and which label names it groups or matches on.

Not a full parser: it tokenizes (strings, range brackets, identifiers, operators) and reads
each identifier by its context: a function or aggregation when a `(` or a grouping clause
follows, a label name inside `{...}` or a grouping clause, a metric name otherwise. That is
the subset the dashboards and rules here use, and `test_promql_reader` pins it down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The PromQL aggregation operators and keywords (prometheus.io/docs/prometheus/latest/querying).
AGGREGATIONS = frozenset({"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                          "bottomk", "topk", "quantile", "limitk", "limit_ratio"})
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"})

_TOKEN = re.compile(r'''
    (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<number>[0-9][0-9.eE+]*[a-zA-Z]*)
  | (?P<variable>\$[A-Za-z_][A-Za-z0-9_]*|\$\{[^}]*\})
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^=<>(){},@!])
  | (?P<space>\s+)
''', re.VERBOSE)


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # =, !=, =~ or !~
    value: str


@dataclass
class Selector:
    metric: str
    matchers: list[Matcher] = field(default_factory=list)


@dataclass
class Query:
    """What one expression refers to."""

    selectors: list[Selector] = field(default_factory=list)
    grouping_labels: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)

    @property
    def metrics(self) -> set[str]:
        return {s.metric for s in self.selectors}


def tokenize(expr: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise ValueError(f"cannot read PromQL at {expr[position:position + 20]!r} in {expr!r}")
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


def _unquote(literal: str) -> str:
    if literal.startswith("`"):
        return literal[1:-1]
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def read(expr: str) -> Query:
    """The metrics, matchers and grouping labels of one PromQL expression."""
    tokens = tokenize(expr)
    query = Query()

    def at(index: int) -> tuple[str, str]:
        if index >= len(tokens):
            raise ValueError(f"unexpected end of {expr!r}")
        return tokens[index]

    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "ident" and text in GROUPING:
            if following != "(":
                if not text.startswith("group_"):  # only group_left/right may stand without labels
                    raise ValueError(f"{text} without a label list in {expr!r}")
            else:
                i += 2
                while at(i)[1] != ")":
                    if at(i)[0] == "ident":
                        query.grouping_labels.add(at(i)[1])
                    i += 1
        elif kind == "ident" and (text in AGGREGATIONS or following == "("):
            query.functions.add(text)
        elif kind == "ident" and text in KEYWORDS:
            pass
        elif kind == "ident" or (kind == "op" and text == "{"):
            selector = Selector(text if kind == "ident" else "")
            if kind == "ident" and following == "{":
                i += 1
            if at(i)[1] == "{":
                i += 1
                while at(i)[1] != "}":
                    if at(i)[1] == ",":
                        i += 1
                        continue
                    label, op, value = at(i), at(i + 1), at(i + 2)
                    if label[0] != "ident" or op[0] != "op" or value[0] != "string":
                        raise ValueError(f"cannot read the matcher at {label[1]!r} in {expr!r}")
                    selector.matchers.append(Matcher(label[1], op[1], _unquote(value[1])))
                    i += 3
            if not selector.metric:
                names = [m.value for m in selector.matchers if m.label == "__name__" and m.op == "="]
                if not names:
                    raise ValueError(f"a selector without a metric name in {expr!r}")
                selector.metric = names[0]
            query.selectors.append(selector)
        i += 1
    return query


def alternatives(matcher: Matcher) -> list[str]:
    """The values a `=`, `!=` or simple `a|b|c` regex matcher names."""
    if matcher.op in ("=", "!="):
        return [matcher.value]
    if re.fullmatch(r"[A-Za-z0-9_ ./+-]+(\|[A-Za-z0-9_ ./+-]+)*", matcher.value):
        return matcher.value.split("|")
    return []  # a real pattern (e.g. ".*", "$instance"): nothing to check
