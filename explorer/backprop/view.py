"""What the Backprop page's "to the input" and "symbolic" tabs show, as plain data (no Streamlit).

A view is a list of *blocks* the page draws in order: ``("markdown" | "latex" | "caption", text)``,
``("code", source)`` or ``("figures", [(figure, widget key), ...])`` (one row). Texts come translated into
``lang``; bad settings raise `explorer.backprop.toy.BackpropInputError`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from explorer.backprop import input_grad as ig
from explorer.backprop import plots
from explorer.backprop import symbolic as sy
from explorer.core.i18n import translate

Block = tuple[Any, ...]
NS = "backprop"
LP_WINDOW = np.array([[1.0, 1.0], [5.0, 6.0]])  # the top-left window of seed 002's pooling slide
LP_P = 2.0


def _t(key: str, lang: str, **params: Any) -> str:
    return translate(f"{NS}.{key}", lang, **params)


def _fmt(v: float) -> str:
    return str(int(round(v))) if abs(v - round(v)) < 1e-9 else f"{v:.4g}"


def _shape(a: np.ndarray) -> str:
    return "×".join(str(s) for s in a.shape)


def _cell_mask(shape: tuple[int, ...], top: int, left: int, rows: int = 1, cols: int = 1) -> np.ndarray:
    m = np.zeros(shape, dtype=bool)
    m[max(top, 0):top + rows, max(left, 0):left + cols] = True
    return m


# ---------------------------------------------------------------- backprop to the input

def input_grad_view(s: ig.Setting, *, step: int, lang: str) -> list[Block]:
    """δx = full convolution of (dilated) δ with the rotated kernel, cell ``step`` (0-based, in the padded
    input) written out; dW = X ⋆ δ beside it; both checked against torch autograd."""
    return _input_grad(s.x, s.kernel, s.delta, stride=s.stride, padding=s.padding, step=step, lang=lang)


def _input_grad(x: np.ndarray, kernel: np.ndarray, delta: np.ndarray, *, stride: int, padding: int,
                step: int, lang: str) -> list[Block]:
    r = ig.input_gradient_steps(delta, kernel, stride=stride, padding=padding, input_shape=x.shape)
    cells = ig.windows(r)
    s = cells[min(max(step, 0), len(cells) - 1)]
    kh, kw = kernel.shape
    dw = ig.weight_gradient(x, delta, stride=stride, padding=padding, kernel_shape=kernel.shape)
    gx, gw = ig.torch_gradients(x, kernel, delta, stride=stride, padding=padding)
    diff = max(float(np.max(np.abs(gx - r.grad))), float(np.max(np.abs(gw - dw))))
    terms = " + ".join(f"{_fmt(d)}×{_fmt(w)}" for d, w in zip(s.window.ravel(), r.flipped.ravel()))
    state = _t("ig.cropped" if s.cropped else "ig.kept", lang, r=s.row - padding, c=s.col - padding)
    figures = [(plots.grid_figure(r.delta, title=_t("ig.delta", lang, shape=_shape(r.delta))), f"{NS}.ig.delta")]
    if stride > 1:
        figures.append((plots.grid_figure(r.dilated, title=_t("ig.dilated", lang, shape=_shape(r.dilated))),
                        f"{NS}.ig.dilated"))
    figures += [
        (plots.grid_figure(r.full, title=_t("ig.full", lang, shape=_shape(r.full)),
                           highlight=_cell_mask(r.full.shape, s.row, s.col, kh, kw)), f"{NS}.ig.full"),
        (plots.grid_figure(r.flipped, title=_t("ig.flipped", lang)), f"{NS}.ig.flipped")]
    results = [
        (plots.grid_figure(r.padded, title=_t("ig.padded", lang, shape=_shape(r.padded)),
                           highlight=_cell_mask(r.padded.shape, s.row, s.col)), f"{NS}.ig.padded"),
        (plots.grid_figure(r.grad, title=_t("ig.grad", lang, shape=_shape(r.grad))), f"{NS}.ig.grad"),
        (plots.grid_figure(dw, title=_t("ig.dw", lang, shape=_shape(dw))), f"{NS}.ig.dw")]
    return [
        ("markdown", _t("ig.explain", lang)),
        ("latex", _sizes_latex(r, kh, kw, x.shape, lang)),
        ("figures", figures),
        ("code", f"{terms} = {_fmt(s.value)}"),
        ("caption", state),
        ("figures", results),
        ("caption", _t("ig.unreached", lang) if r.reached.shape != r.padded.shape else _t("ig.dw_note", lang)),
        ("caption", _t("ig.checked" if diff < 1e-9 else "ig.unchecked", lang, diff=f"{diff:.1e}")),
        ("code", input_grad_code(x, kernel, delta, stride=stride, padding=padding)),
    ]


def _sizes_latex(r: ig.InputGradient, kh: int, kw: int, input_shape: tuple[int, ...], lang: str) -> str:
    oh, ow = r.delta.shape
    s, p = r.stride, r.padding

    def size(a: np.ndarray | tuple[int, ...]) -> str:
        return r"\times ".join(str(v) for v in (a.shape if isinstance(a, np.ndarray) else a))

    words = {k: _t(f"ig.tex_{k}", lang) for k in ("zeros", "border", "crop")}
    return (rf"\delta_{{{oh}\times{ow}}} \xrightarrow{{S-1={s - 1}\ \text{{{words['zeros']}}}}} {size(r.dilated)}"
            rf" \xrightarrow{{K-1\ \text{{{words['border']}}}}} {size(r.full)} \;\star\;"
            rf" \mathrm{{rot180}}(W)_{{{kh}\times{kw}}} = {size(r.reached)} \rightarrow {size(r.padded)}"
            rf" \xrightarrow{{\text{{{words['crop']}}}\ P={p}}} \delta x_{{{size(input_shape)}}}")


def input_grad_code(x: np.ndarray, kernel: np.ndarray, delta: np.ndarray, *, stride: int, padding: int) -> str:
    """PyTorch lines giving the same δx (``x.grad``, ``dx``) and dW (``w.grad``); runs as it is."""
    def t(a: np.ndarray) -> str:
        return "torch.tensor(" + repr(np.asarray(a, dtype=float).tolist()) + ", dtype=torch.float64)"

    return "\n".join([
        "import torch",
        "import torch.nn.functional as F",
        "",
        f"x = {t(x)}[None, None].requires_grad_()  # (1, 1, H, W)",
        f"w = {t(kernel)}[None, None].requires_grad_()  # (1, 1, K, K)",
        f"delta = {t(delta)}[None, None]  # dL/dY, the shape of Y",
        f"y = F.conv2d(x, w, stride={stride}, padding={padding})",
        "y.backward(delta)  # autograd: x.grad = dL/dX, w.grad = dL/dW",
        "",
        "# the lecture's way: the full convolution of δ with the kernel rotated by 180°",
        f"dx = torch.nn.grad.conv2d_input(x.shape, w.detach(), delta, stride={stride}, padding={padding})",
        "print(x.grad[0, 0], dx[0, 0], w.grad[0, 0], sep='\\n')",
    ]) + "\n"


def pooling_view(*, lang: str) -> list[Block]:
    """Back through pooling ("upsampling"): max, average and Lp pooling, in words and on one window."""
    grad = ig.lp_pool_gradient(LP_WINDOW, LP_P)
    norm = float(np.sum(LP_WINDOW ** LP_P) ** (1 / LP_P))
    return [
        ("markdown", _t("pool.words", lang)),
        ("latex", r"\frac{\partial g}{\partial x_i} = \begin{cases} 1 & x_i = \max(x) \\ 0 & \text{otherwise}"
                  r"\end{cases}\qquad \frac{\partial g}{\partial x_i} = \frac{1}{m}\qquad "
                  r"\frac{\partial g}{\partial x_i} = \Big(\sum_k |x_k|^p\Big)^{\frac1p - 1} |x_i|^{p-1}"),
        ("markdown", _t("pool.lp", lang, window=", ".join(_fmt(v) for v in LP_WINDOW.ravel()), p=_fmt(LP_P),
                        norm=f"{norm:.4f}", grad=", ".join(f"{v:.3f}" for v in grad.ravel()))),
    ]


# ---------------------------------------------------------------- the symbolic view (seed 004)

def symbolic_view(lay: sy.Layout, *, weight: tuple[int, int], cell: tuple[int, int], ones: bool,
                  lang: str, seed: int = 0) -> list[Block]:
    """Every window in symbols, the shared weight ``weight`` (1-based) and input ``cell``'s gradients as
    sums, and a check of those sums on random whole numbers against torch autograd."""
    (a, b), (r, c) = weight, cell
    oh, ow = lay.out
    used = np.zeros((lay.h, lay.w), dtype=bool)
    for _, (i, j) in sy.weight_terms(lay, a, b):
        used[i - 1, j - 1] = True
    figures = [
        (plots.symbol_figure(sy.symbols("x", lay.h, lay.w), title=_t("sym.input", lang), highlight=used),
         f"{NS}.sym.fig.x"),
        (plots.symbol_figure(sy.symbols("w", lay.kh, lay.kw), title=_t("sym.kernel", lang),
                             highlight=_cell_mask((lay.kh, lay.kw), a - 1, b - 1), tint="#e8e1f5"), f"{NS}.sym.fig.w"),
        (plots.symbol_figure(sy.symbols("y", oh, ow), title=_t("sym.output", lang), tint="#fde0c5"), f"{NS}.sym.fig.y")]
    shown = [(i, j) for i in range(1, oh + 1) for j in range(1, ow + 1)][:6]
    windows = r" \\ ".join(sy.output_latex(lay, i, j).replace(" = ", " &= ", 1) for i, j in shown)
    more = r" \\ &\;\vdots" if oh * ow > len(shown) else ""
    return [
        ("markdown", _t("sym.explain", lang)),
        ("figures", figures),
        ("latex", rf"\begin{{aligned}}{windows}{more}\end{{aligned}}"),
        ("markdown", _t("sym.shared", lang, w=f"w{a}{b}", n=oh * ow)),
        ("latex", sy.weight_latex(lay, a, b, ones=ones)),
        ("markdown", _t("sym.input_grad", lang, x=f"x{r}{c}")),
        ("latex", sy.input_latex(lay, r, c)),
        ("caption", _t("sym.checked" if check_symbolic(lay, seed=seed) else "sym.unchecked", lang)),
    ]


@lru_cache(maxsize=256)
def check_symbolic(lay: sy.Layout, *, seed: int = 0) -> bool:
    """Every symbolic sum, evaluated on random whole numbers, equals torch autograd's gradient."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-5, 6, (lay.h, lay.w)).astype(float)
    w = rng.integers(-5, 6, (lay.kh, lay.kw)).astype(float)
    d = rng.integers(-5, 6, lay.out).astype(float)
    gx, gw = ig.torch_gradients(x, w, d)
    ok = all(np.isclose(sy.evaluate(sy.weight_terms(lay, a, b), d, x), gw[a - 1, b - 1])
             for a in range(1, lay.kh + 1) for b in range(1, lay.kw + 1))
    return ok and all(np.isclose(sy.evaluate(sy.input_terms(lay, r, c), d, w), gx[r - 1, c - 1])
                      for r in range(1, lay.h + 1) for c in range(1, lay.w + 1))
