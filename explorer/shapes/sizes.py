"""Output sizes of convolution and pooling layers, with PyTorch as the oracle.

The formula everywhere is PyTorch's (``torch.nn.Conv2d`` / ``MaxPool2d`` docs)::

    O = floor((N + 2P - D*(K - 1) - 1) / S) + 1

Pooling may use ``ceil_mode`` (round up, but the last window must start inside the input or the
left padding). User-facing problems raise :class:`ShapeError`, which carries an i18n key
(``shapes.err.*``) and its format arguments so a page can translate it.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable, Sequence

from explorer.core.i18n import translate

Pair = tuple[int, int]
Shape = tuple[int, ...]  # (C, H, W) for feature maps, (F,) after flatten

POOL_KINDS = ("maxpool", "avgpool")
MAX_SIZE = 1_000_000                     # largest accepted spatial size or channel count


class ShapeError(ValueError):
    """A user-facing shape problem: ``key`` is an i18n key, ``params`` its format arguments."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(translate(key, "en", **params) if params else translate(key, "en"))
        self.key = key
        self.params = params


class LayerError(ShapeError):
    """A :class:`ShapeError` raised at layer ``index`` (0-based) named ``name`` of a network."""

    def __init__(self, error: ShapeError, *, index: int, name: str) -> None:
        super().__init__(error.key, **error.params)
        self.index = index
        self.name = name


# ---------------------------------------------------------------------------------------------
# One axis: the output-size formula


def _int(value: object, what: str) -> int:
    """``value`` as an int, or a ShapeError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            return int(value)
        raise ShapeError("shapes.err.not_integer", what=what, value=value)
    return int(value)


def _check(n: object, kernel: object, stride: object, padding: object, dilation: object,
           ) -> tuple[int, int, int, int | str, int]:
    n, kernel, stride, dilation = (_int(n, "N"), _int(kernel, "K"), _int(stride, "S"), _int(dilation, "D"))
    if n < 1:
        raise ShapeError("shapes.err.size", value=n)
    if n > MAX_SIZE:
        raise ShapeError("shapes.err.size_too_large", value=n, limit=MAX_SIZE)
    if kernel < 1:
        raise ShapeError("shapes.err.kernel", value=kernel)
    if stride < 1:
        raise ShapeError("shapes.err.stride", value=stride)
    if dilation < 1:
        raise ShapeError("shapes.err.dilation", value=dilation)
    for value in (kernel, stride, dilation, padding if isinstance(padding, numbers.Integral) else 0):
        if value > MAX_SIZE:
            raise ShapeError("shapes.err.size_too_large", value=value, limit=MAX_SIZE)
    if isinstance(padding, str):
        if padding.strip().lower() != "same":
            raise ShapeError("shapes.err.not_integer", what="P", value=padding)
        if stride != 1:
            raise ShapeError("shapes.err.same_stride", stride=stride)
        return n, kernel, stride, "same", dilation
    padding = _int(padding, "P")
    if padding < 0:
        raise ShapeError("shapes.err.padding", value=padding)
    return n, kernel, stride, padding, dilation


def _span(n: int, kernel: int, padding: int, dilation: int) -> int:
    """How far the window's first cell can travel: N + 2P - D(K-1) - 1 (must be >= 0)."""
    window = dilation * (kernel - 1) + 1
    span = n + 2 * padding - window
    if span < 0:
        raise ShapeError("shapes.err.window", window=window, padded=n + 2 * padding, n=n, padding=padding)
    return span


def conv_output_exact(n: int, kernel: int, *, stride: int = 1, padding: int | str = 0,
                      dilation: int = 1) -> Fraction:
    """(N + 2P - D(K-1) - 1) / S + 1 before flooring: ``Fraction(59, 2)`` for 64/7/2/0."""
    n, kernel, stride, padding, dilation = _check(n, kernel, stride, padding, dilation)
    if padding == "same":
        return Fraction(n)
    return Fraction(_span(n, kernel, padding, dilation), stride) + 1


def conv_output_size(n: int, kernel: int, *, stride: int = 1, padding: int | str = 0,
                     dilation: int = 1) -> int:
    """Output size of ``nn.Conv2d`` along one axis (PyTorch floors); ShapeError if impossible."""
    return math.floor(conv_output_exact(n, kernel, stride=stride, padding=padding, dilation=dilation))


def pool_output_size(n: int, kernel: int, *, stride: int | None = None, padding: int = 0,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output size of ``nn.MaxPool2d``/``AvgPool2d`` along one axis (stride defaults to kernel)."""
    stride = kernel if stride is None else stride
    if isinstance(padding, str) and padding.strip().lower() == "same":
        raise ShapeError("shapes.err.pool_same")
    n, kernel, stride, padding, dilation = _check(n, kernel, stride, padding, dilation)
    if padding > kernel // 2:
        raise ShapeError("shapes.err.pool_padding", padding=padding, kernel=kernel, limit=kernel // 2)
    window = dilation * (kernel - 1) + 1
    # PyTorch's pooling_output_shape: floor division (also of a negative numerator), optionally rounded up
    out = (n + 2 * padding - window + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= n + padding:  # the last window would start in the right padding
        out -= 1
    if out < 1:
        raise ShapeError("shapes.err.window", window=window, padded=n + 2 * padding, n=n, padding=padding)
    return out


@dataclass(frozen=True)
class Fit:
    """How one axis of a conv/pool window fits, and what would make it fit evenly."""

    n: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    exact: Fraction                     # unfloored (N + 2P - D(K-1) - 1)/S + 1
    output: int                         # what PyTorch gives (floor)
    remainder: int                      # trailing cells of the padded input no window reaches
    ignored_input: int                  # of those, real input pixels (not padding)
    paddings: tuple[tuple[int, int], ...]   # (padding, output) that fit evenly, nearest first
    strides: tuple[tuple[int, int], ...]    # (stride, output)
    kernels: tuple[tuple[int, int], ...]    # (kernel, output)
    sizes: tuple[tuple[int, int], ...]      # (input size, output)

    @property
    def fits(self) -> bool:
        return self.remainder == 0


def _nearest(candidates: Iterable[int], current: int, out: Any, how_many: int = 2) -> tuple[tuple[int, int], ...]:
    found = sorted((abs(c - current), c) for c in candidates if c != current)
    return tuple((c, out(c)) for _, c in found[:how_many])


def explain_fit(n: int, kernel: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> Fit:
    """Why (N + 2P - D(K-1) - 1)/S is or is not whole, and the nearest settings that fit."""
    n, kernel, stride, padding, dilation = _check(n, kernel, stride, padding, dilation)
    if padding == "same":
        padding = (dilation * (kernel - 1)) // 2
    span = _span(n, kernel, padding, dilation)
    remainder = span % stride

    def span_of(*, m: int = n, p: int = padding, k: int = kernel) -> int:
        return m + 2 * p - dilation * (k - 1) - 1

    def even(s: int = stride, **changed: int) -> bool:
        return span_of(**changed) >= 0 and span_of(**changed) % s == 0

    def out(s: int = stride, **changed: int) -> int:
        return span_of(**changed) // s + 1

    suggestions = {} if not remainder else {
        "paddings": _nearest((p for p in range(0, padding + stride + 1) if even(p=p)), padding,
                             lambda p: out(p=p)),
        "strides": _nearest((s for s in range(1, min(max(span, 1), 2 * stride + 16) + 1) if even(s)), stride, out),
        "kernels": _nearest((k for k in range(max(1, kernel - stride), kernel + stride + 1) if even(k=k)), kernel,
                            lambda k: out(k=k)),
        "sizes": _nearest((m for m in range(max(1, n - stride), n + stride + 1) if even(m=m)), n,
                          lambda m: out(m=m)),
    }
    return Fit(n=n, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
               exact=Fraction(span, stride) + 1, output=span // stride + 1, remainder=remainder,
               ignored_input=max(0, remainder - padding),
               **{k: suggestions.get(k, ()) for k in ("paddings", "strides", "kernels", "sizes")})


def formula_latex(n: int, kernel: int, *, stride: int = 1, padding: int | str = 0, dilation: int = 1,
                  ceil_mode: bool = False) -> str:
    """The output-size formula with the numbers filled in, as LaTeX (no words)."""
    n_, k, s, p, d = _check(n, kernel, stride, padding, dilation)
    if p == "same":
        p = (d * (k - 1)) // 2
        extra = d * (k - 1) - 2 * p   # PyTorch pads one more on the bottom/right when odd
        top = f"{n_} + {2 * p + extra} - {d}\\cdot({k}-1) - 1"
    else:
        top = f"{n_} + 2\\cdot{p} - {d}\\cdot({k}-1) - 1"
        _span(n_, k, p, d)
    exact = conv_output_exact(n, kernel, stride=stride, padding=padding, dilation=dilation) - 1
    lo, hi = (r"\left\lceil ", r"\right\rceil") if ceil_mode else (r"\left\lfloor ", r"\right\rfloor")
    value = _fraction_latex(exact)
    result = (pool_output_size(n, kernel, stride=stride, padding=p, dilation=dilation, ceil_mode=True)
              if ceil_mode else math.floor(exact) + 1)
    return (f"O = {lo}\\frac{{{top}}}{{{s}}}{hi} + 1 = {lo}{value}{hi} + 1 = {result}")


def _fraction_latex(x: Fraction) -> str:
    if x.denominator == 1:
        return str(x.numerator)
    decimal = f"{float(x):.4f}".rstrip("0").rstrip(".")
    return f"\\tfrac{{{x.numerator}}}{{{x.denominator}}} \\approx {decimal}" if x.denominator > 2 else decimal


def parse_int(text: object, what: str) -> int:
    """A whole number typed by a user (``" 3 "``), or ShapeError ``shapes.err.not_integer``."""
    if isinstance(text, str):
        s = text.strip()
        if not re.fullmatch(r"[+-]?\d{1,12}", s):
            raise ShapeError("shapes.err.not_integer", what=what, value=text)
        return int(s)
    if text is None or (isinstance(text, float) and math.isnan(text)):
        raise ShapeError("shapes.err.missing", what=what)
    return _int(text, what)


def parse_shape(text: str, what: str) -> Shape:
    """A typed shape such as ``"1×28×28"`` or ``"1x28x28"``; ShapeError for a non-numeric part."""
    return tuple(parse_int(x, what) for x in text.replace("x", "×").split("×"))


def shape_text(shape: Sequence[int] | None) -> str:
    """``(1, 28, 28)`` → ``"1×28×28"`` (empty for None)."""
    return "×".join(map(str, shape or ()))


def parse_pair(text: object, what: str, *, allow_same: bool = False) -> Pair | str:
    """``"3"`` → (3, 3); ``"3x5"``/``"3,5"`` → (3, 5); ``"same"`` if allowed; else ShapeError."""
    if isinstance(text, str):
        s = text.strip().lower()
        if allow_same and s == "same":
            return "same"
        parts = [x for x in re.split(r"\s*[x×,*]\s*|\s+", s) if x]
        if len(parts) in (1, 2):
            h, w = (parse_int(x, what) for x in (parts * 2)[:2])
            return (h, w)
        raise ShapeError("shapes.err.not_integer", what=what, value=text)
    if isinstance(text, tuple) and len(text) == 2:
        return (_int(text[0], what), _int(text[1], what))
    v = parse_int(text, what)
    return (v, v)


@dataclass(frozen=True)
class Example:
    """A worked example of the lectures: input (h, w), kernel (kh, kw), stride, padding and the answer."""

    h: int
    w: int
    kh: int
    kw: int
    stride: int
    padding: int
    answer: Pair    # what PyTorch gives (the lecture says "cannot" for 7/3/3: it does not fit evenly)


WORKED_EXAMPLES: tuple[Example, ...] = (
    Example(227, 227, 11, 11, 4, 0, (55, 55)),
    Example(64, 64, 7, 7, 2, 0, (29, 29)),      # 29.5, floored
    Example(32, 32, 5, 5, 1, 2, (32, 32)),
    Example(32, 64, 5, 5, 1, 0, (28, 60)),
    Example(64, 32, 3, 3, 1, 1, (64, 32)),
    Example(7, 7, 3, 3, 1, 0, (5, 5)),
    Example(7, 7, 3, 3, 2, 0, (3, 3)),
    Example(7, 7, 3, 3, 3, 0, (2, 2)),          # "cannot": 4/3 + 1
    Example(28, 31, 5, 5, 3, 2, (10, 11)),
    Example(4, 4, 3, 3, 1, 1, (4, 4)),
)


def parse_padding(text: object, what: str = "P") -> int | str:
    """A typed padding: a whole number or ``"same"`` (any case, spaces ignored)."""
    if isinstance(text, str) and text.strip().lower() == "same":
        return "same"
    return parse_int(text, what)


def calculate(size: Pair, kernel: Pair, *, stride: int = 1, padding: int | str = 0, dilation: int = 1,
              op: str = "conv", ceil_mode: bool = False) -> dict[str, tuple[int, str, Fit]]:
    """The calculator: per axis ("h", "w") the output size, the filled-in formula and the fit explanation.

    ``op`` is "conv", "maxpool" or "avgpool"; ``ceil_mode`` applies to pooling only.
    """
    if op not in ("conv", *POOL_KINDS):
        raise ShapeError("shapes.err.unknown_kind", kind=op)
    if op == "avgpool" and dilation != 1:
        raise ShapeError("shapes.err.avgpool_dilation")
    pool, ceil = op != "conv", ceil_mode and op != "conv"
    result = {}
    for axis, n, k in (("h", size[0], kernel[0]), ("w", size[1], kernel[1])):
        args = {"stride": stride, "padding": padding, "dilation": dilation}
        out = pool_output_size(n, k, ceil_mode=ceil, **args) if pool else conv_output_size(n, k, **args)
        result[axis] = (out, formula_latex(n, k, ceil_mode=ceil, **args), explain_fit(n, k, **args))
    return result
