"""Scanning, checking and rewriting GeNN 5 code strings.

GeNN code is C99-like with plain names. Before any C++ is generated, each code
string is tokenised and checked against the names its context defines, so that a
typo or a write to a read-only variable is a Python exception that names the
model, the code field and the offending name, never a compiler dump.
"""
import difflib
import re
import textwrap
from dataclasses import dataclass

_TOKEN_RE = re.compile(r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<number>0[xX][0-9a-fA-F]+[uUlL]*
              |(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[fFdD]?[uUlL]*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<op><<=|>>=|\+\+|--|\+=|-=|\*=|/=|%=|&=|\|=|\^=|==|!=|<=|>=|&&|\|\||<<|>>|->|[-+*/%=<>!&|^~?:;,.(){}\[\]])
  | (?P<space>\s+)
  | (?P<bad>.)
""", re.VERBOSE | re.DOTALL)

TYPE_WORDS = frozenset({
    "scalar", "float", "double", "int", "unsigned", "signed", "short", "long",
    "char", "bool", "uint8_t", "int8_t", "uint16_t", "int16_t", "uint32_t",
    "int32_t", "uint64_t", "int64_t", "size_t", "const", "auto", "timepoint"})

KEYWORDS = frozenset({
    "if", "else", "for", "while", "do", "switch", "case", "default", "break",
    "continue", "return", "true", "false", "sizeof"})

MATH_FUNCTIONS = frozenset({
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
    "asinh", "acosh", "atanh", "exp", "exp2", "expm1", "log", "log2", "log10",
    "log1p", "pow", "sqrt", "cbrt", "hypot", "ceil", "floor", "fmod", "round",
    "rint", "trunc", "fabs", "fmin", "fmax", "fdim", "erf", "erfc", "tgamma",
    "lgamma", "copysign", "fma", "min", "max", "abs", "printf", "isnan", "isinf",
    "isfinite", "signbit", "nextafter", "ldexp"})

RNG_FUNCTIONS = frozenset({"gennrand", "gennrand_uniform", "gennrand_normal",
                           "gennrand_exponential"})

ASSIGN_OPS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="})


class CodeError(ValueError):
    """A code string refers to something its context does not allow."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(code):
    tokens = []
    for m in _TOKEN_RE.finditer(code):
        kind = m.lastgroup
        if kind == "bad":
            raise CodeError(f"unexpected character {m.group()!r} in code:\n{code}")
        tokens.append(Token(kind, m.group()))
    return tokens


def upgrade_code(code):
    """Normalise a user's code string: dedent, and refuse GeNN 4's ``$()`` syntax."""
    if code is None:
        return None
    if not isinstance(code, str):
        raise TypeError(f"code must be a string, not {type(code).__name__}")
    if "$(" in code:
        raise CodeError("GeNN 5 code strings use plain names: write 'V' instead of '$(V)' "
                        f"and 'addToPost(x)' instead of '$(addToInSyn, x)'. Code:\n{code}")
    return textwrap.dedent(code).strip("\n")


def _significant(tokens):
    return [t for t in tokens if t.kind not in ("space", "comment")]


def declared_names(tokens, top_level_only=False):
    """Names the code declares itself (local variables and loop counters); with
    ``top_level_only``, just those outside any braces, which stay in scope after it."""
    sig = _significant(tokens)
    declared = set()
    in_decl = False
    depth = 0
    braces = 0
    for i, tok in enumerate(sig):
        if tok.text == "{":
            braces += 1
        elif tok.text == "}":
            braces -= 1
        if top_level_only and braces > 0:
            continue
        if tok.kind == "ident" and tok.text in TYPE_WORDS:
            nxt = sig[i + 1] if i + 1 < len(sig) else None
            while nxt is not None and nxt.text == "*":
                i += 1
                nxt = sig[i + 1] if i + 1 < len(sig) else None
            if nxt is not None and nxt.kind == "ident" and nxt.text not in TYPE_WORDS:
                # A cast such as '(scalar)x' is followed by ')', not a name
                declared.add(nxt.text)
                in_decl = True
                depth = 0
        elif in_decl:
            if tok.text in "([{":
                depth += 1
            elif tok.text in ")]}":
                depth -= 1
                if depth < 0:
                    in_decl = False
            elif tok.text == ";":
                in_decl = False
            elif tok.text == "," and depth == 0:
                nxt = sig[i + 1] if i + 1 < len(sig) else None
                if nxt is not None and nxt.kind == "ident":
                    declared.add(nxt.text)
    return declared


def _written_names(sig):
    written = set()
    for i, tok in enumerate(sig):
        if tok.kind != "ident":
            continue
        prev = sig[i - 1].text if i > 0 else None
        nxt = sig[i + 1].text if i + 1 < len(sig) else None
        if prev in ("++", "--") or nxt in ("++", "--") or nxt in ASSIGN_OPS:
            written.add(tok.text)
    return written


def written_names(code):
    """Names a code string writes: assigns, increments or decrements, whole or through a
    subscript (``x[i] = 0`` writes x)."""
    sig = _significant(tokenize(code or ""))
    written = _written_names(sig)
    for i, tok in enumerate(sig):
        nxt = sig[i + 1].text if i + 1 < len(sig) else None
        if tok.text != "]" or not (nxt in ASSIGN_OPS or nxt in ("++", "--")):
            continue
        depth, j = 0, i
        while j >= 0:
            depth += {"]": 1, "[": -1}.get(sig[j].text, 0)
            if depth == 0:
                break
            j -= 1
        if j > 0 and sig[j - 1].kind == "ident":
            written.add(sig[j - 1].text)
    return written


@dataclass(frozen=True)
class Name:
    """One name a code context defines (``arity``: the argument count of a function)."""
    read_only: bool = False
    function: bool = False
    what: str = "variable"
    arity: int = 0


def check_code(code, names, model, field):
    """Raise CodeError if ``code`` uses a name that ``names`` does not define, or
    writes to one that is read-only. ``names`` maps name -> Name."""
    if not code:
        return
    try:
        tokens = tokenize(code)
    except CodeError as e:
        raise CodeError(f"{model}: {field}: {e}") from None
    sig = _significant(tokens)
    local = declared_names(tokens)
    for name in local:
        if name in names:
            raise CodeError(f"{model}: {field} declares a local '{name}' that hides the "
                            f"{names[name].what} of the same name")
        if name.startswith("_"):
            raise CodeError(f"{model}: {field} declares '{name}'; names starting with '_' "
                            "are reserved for generated code")
    known = set(names) | local | TYPE_WORDS | KEYWORDS | MATH_FUNCTIONS
    for i, tok in enumerate(sig):
        if tok.kind != "ident" or tok.text in known:
            continue
        if i > 0 and sig[i - 1].text in (".", "->"):
            continue
        valid = sorted(n for n in names)
        close = difflib.get_close_matches(tok.text, valid, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise CodeError(f"{model}: {field} uses undefined name '{tok.text}'.{hint} "
                        f"Names defined here: {', '.join(valid) or '(none)'}")
    for name in _written_names(sig):
        if name in names and names[name].read_only:
            raise CodeError(f"{model}: {field} writes to '{name}', which is read-only here "
                            f"({names[name].what})")
        if name in names and names[name].function:
            raise CodeError(f"{model}: {field} assigns to '{name}', which is a function")
    for i, tok in enumerate(sig):
        fn = names.get(tok.text) if tok.kind == "ident" else None
        if fn is None or not fn.function or (i > 0 and sig[i - 1].text in (".", "->")):
            continue
        if i + 1 >= len(sig) or sig[i + 1].text != "(":
            raise CodeError(f"{model}: {field}: '{tok.text}' is a function and must be called, "
                            f"as in {tok.text}({', '.join(['x'] * fn.arity)})")
        try:
            args, _ = _split_call(sig, i + 1)
        except CodeError as e:
            raise CodeError(f"{model}: {field}: {e}") from None
        n_args = 0 if args == [[]] else len(args)
        if n_args != fn.arity:
            raise CodeError(f"{model}: {field}: '{tok.text}' takes {fn.arity} argument(s), "
                            f"got {n_args}")


def _convert_number(text, precision):
    """'1.0' is a literal of the model's precision, '1.0f' float and '1.0d' double."""
    if text[:2] in ("0x", "0X"):
        return text
    body = text.rstrip("uUlL")
    is_float = ("." in body or "e" in body or "E" in body
                or body[-1:] in ("f", "F", "d", "D"))
    if not is_float:
        return text
    if body[-1] in "dD":
        digits = body[:-1]
        return digits if any(c in digits for c in ".eE") else digits + ".0"
    if body[-1] in "fF":
        return body
    return body + "f" if precision == "float" else body


def _split_call(sig_tokens, start):
    """Given tokens and the index of '(' return (args, index after ')')."""
    depth = 0
    args = [[]]
    i = start
    while i < len(sig_tokens):
        tok = sig_tokens[i]
        if tok.text in "([{":
            depth += 1
            if depth > 1:
                args[-1].append(tok)
        elif tok.text in ")]}":
            depth -= 1
            if depth == 0:
                return args, i + 1
            args[-1].append(tok)
        elif tok.text == "," and depth == 1:
            args.append([])
        else:
            args[-1].append(tok)
        i += 1
    raise CodeError("unbalanced parentheses in code")


def rewrite_code(code, precision, calls=None):
    """Turn a checked code string into C++: literals in the model's precision, and
    the calls named in ``calls`` (addToPost, injectCurrent, gennrand_uniform...)
    replaced by their ``(template, number of arguments)``, the template receiving
    the rewritten arguments. Comments are dropped, line breaks kept (for #line)."""
    tokens = [t for t in tokenize(code) if t.kind != "comment" or "\n" in t.text]
    return _emit(tokens, precision, calls or {})


def _emit(tokens, precision, calls):
    out = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "comment":
            out.append("\n" * tok.text.count("\n"))
        elif tok.kind == "number":
            out.append(_convert_number(tok.text, precision))
        elif tok.kind == "ident" and tok.text in calls:
            j = i + 1
            while j < len(tokens) and tokens[j].kind in ("space", "comment"):
                j += 1
            if j >= len(tokens) or tokens[j].text != "(":
                raise CodeError(f"'{tok.text}' must be called, as in {tok.text}(...)")
            args, end = _split_call(tokens, j)
            args = [_emit(a, precision, calls).strip() for a in args]
            if args == [""]:
                args = []
            template, n_args = calls[tok.text]
            if len(args) != n_args:
                raise CodeError(f"'{tok.text}' takes {n_args} argument(s), got {len(args)}")
            out.append(template.format(*args))
            i = end
            continue
        else:
            out.append(tok.text)
        i += 1
    return "".join(out)


def used_names(code):
    """Identifiers a code string mentions (to decide what to bind for it)."""
    if not code:
        return set()
    return {t.text for t in tokenize(code) if t.kind == "ident"}
