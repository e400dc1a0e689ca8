"""Checking a parameter dictionary ``p`` against its defaults and the rules of its keys.

A typo must never be silently ignored: an unknown key is an error that suggests the
nearest known key, and a value of the wrong type or range names the key and what is valid.
"""
import difflib
import numbers
import pathlib


class ParameterError(ValueError):
    """A key of ``p`` is unknown, or its value has the wrong type or range."""


def check_params(p, defaults, rules):
    """``defaults`` updated with ``p``, after checking every key of ``p``.

    ``rules`` maps a key to a function ``rule(value) -> str | None`` returning what is valid
    when the value is not; keys without a rule must keep the type of their default."""
    if not isinstance(p, dict):
        raise ParameterError(f"p must be a dict, not {type(p).__name__}")
    for key in p:
        if key not in defaults:
            close = difflib.get_close_matches(str(key), list(defaults), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ParameterError(f"unknown parameter '{key}'.{hint}")
    merged = {**defaults, **p}
    for key, value in merged.items():
        rule = rules.get(key) or _same_type_as(defaults[key])
        problem = rule(value)
        if problem:
            raise ParameterError(f"parameter '{key}' = {value!r} is invalid: it must be "
                                 f"{problem}")
    return merged


def _same_type_as(default):
    if isinstance(default, bool):
        return boolean
    if isinstance(default, numbers.Integral):
        return integer()
    if isinstance(default, numbers.Real):
        return number()
    if isinstance(default, str):
        return lambda v: None if isinstance(v, str) else "a string"
    return lambda v: None


def boolean(v):
    return None if isinstance(v, bool) else "True or False"


def number(low=None, high=None, low_open=False):
    """A real number in [low, high] (or (low, high] with ``low_open``)."""
    def rule(v):
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v <= high
        if ok:
            return None
        left = "(" if low_open else "["
        return (f"a number in {left}{low if low is not None else '-inf'}, "
                f"{high if high is not None else 'inf'}]")
    return rule


def positive(v):
    return number(0.0, low_open=True)(v)


def probability(v):
    return number(0.0, 1.0)(v)


def integer(low=None):
    def rule(v):
        if isinstance(v, numbers.Integral) and not isinstance(v, bool) and \
                (low is None or v >= low):
            return None
        return "an integer" + (f" >= {low}" if low is not None else "")
    return rule


def optional(rule):
    return lambda v: None if v is None else (None if rule(v) is None else
                                             f"None or {rule(v)}")


def path_like(v):
    return None if v is None or isinstance(v, (str, pathlib.Path)) else "None or a path"


def choice(*options):
    return lambda v: None if v in options else "one of " + ", ".join(map(repr, options))


def pairs(v):
    ok = isinstance(v, (list, tuple)) and all(
        isinstance(x, (list, tuple)) and len(x) == 2 for x in v)
    return None if ok else "a list of pairs, e.g. [[0, 1], [2, 0]]"


def class_list(v):
    """REDUCED_CLASSES: None, or the classes to keep (renumbered 0, 1, ... in this order)."""
    ok = v is None or (isinstance(v, (list, tuple)) and len(v) >= 2 and len(set(v)) == len(v)
                       and all(isinstance(c, int) and not isinstance(c, bool) and c >= 0
                               for c in v))
    return None if ok else "None or a list of at least two different class numbers"
