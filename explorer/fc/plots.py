"""Figures of the fully connected lesson: number grids and the layer chain of the matrix stepper, the digits
it uses, activation curves, per-layer gradient norms, decision regions, losses, and FC vs CNN on shifts.

Builders take library results and already-translated text (keyword-only) and return plain-dict
`explorer.core.figures.Figure`s; no Streamlit. Number grids follow the app's sizing rules (`grid_cell_px`,
`grid_meta`: projector mode enlarges them); signed values use the one signed scale.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from explorer.core.figures import GRID_FONT, SIGNED_SCALE, Figure, grid_cell_px, grid_meta, signed_limits, trace

HIGHLIGHT = "#e4572e"  # outline of the cells that feed the worked entry
FORWARD, BACKWARD, IDLE = "#2e86de", "#e4572e", "#d5d8dc"
PHASE_COLOR = {"forward": FORWARD, "backward": BACKWARD}
GRID_TEXT_CELLS = 400  # a larger matrix is drawn as small coloured cells without numbers (values on hover)
GRID_TEXT_COLS = 32  # ... and so is one wider than this
SMALL_CELL = 12  # pixels per cell of such a matrix
COLORS = {"sigmoid": "#1f77b4", "tanh": "#9467bd", "relu": "#d62728", "leaky_relu": "#ff7f0e",
          "mlp": "#1f77b4", "cnn": "#d62728", "cross_entropy": "#d62728", "squared_error": "#1f77b4"}
CLASS_COLORS = ("#2e86de", "#e4572e")  # toy classes 0 and 1
MARGIN = {"l": 50, "r": 10, "t": 40, "b": 40}


# ---------------------------------------------------------------- the matrix stepper


def grid_decimals(arr: np.ndarray) -> int | None:
    """One number of decimals for every cell of a matrix (as numpy prints an array): enough for 3 significant
    digits of its largest entry, fewer when the values need fewer (X typed with 2 decimals keeps 2, one-hot t
    and whole numbers 0); None (e-notation) beyond 10⁴ or below 10⁻⁴."""
    finite = np.asarray(arr, dtype=np.float64)[np.isfinite(arr)]
    peak = float(np.max(np.abs(finite), initial=0.0))
    if peak == 0:
        return 0
    if peak >= 1e4 or peak < 1e-4:
        return None
    decimals = int(min(6, max(0, 2 - np.floor(np.log10(peak)))))
    while decimals > 0 and np.array_equal(np.round(finite, decimals - 1), np.round(finite, decimals)):
        decimals -= 1
    return decimals


def cell_text(v: float, decimals: int | None) -> str:
    """A grid cell's number with ``decimals`` (None: e-notation); 0 as "0", and no "-0.00"."""
    if not np.isfinite(v):
        return str(v)
    if v == 0:
        return "0"  # also -0.0
    text = f"{v:.2e}" if decimals is None else f"{v:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def grid_figure(arr: np.ndarray, *, title: str = "", highlight: np.ndarray | None = None) -> go.Figure:
    """A matrix as a heatmap with every value written in its cell, all with the same decimals
    (`grid_decimals`; ``highlight``: cells outlined in red).

    Square cells wide enough for their text (projector mode resizes them through ``meta``); the signed
    scale over the matrix's own range. Matrices larger than `GRID_TEXT_CELLS` cells (or wider than
    `GRID_TEXT_COLS`) are drawn as small cells without numbers, the values on hover.
    """
    a = np.atleast_2d(np.asarray(arr, dtype=np.float64))
    h, w = a.shape
    finite = np.where(np.isfinite(a), a, 0.0)
    decimals = grid_decimals(a)
    text = [[cell_text(v, decimals) for v in row] for row in a]
    written = a.size <= GRID_TEXT_CELLS and w <= GRID_TEXT_COLS
    chars = max(len(c) for row in text for c in row)
    cell = grid_cell_px(chars) if written else SMALL_CELL
    extra_w, extra_h = 40, 70
    heatmap = trace("heatmap", z=finite, text=text, colorscale=SIGNED_SCALE, showscale=False, xgap=1, ygap=1,
                    hovertemplate="[%{y}, %{x}] = %{text}<extra></extra>", **signed_limits(finite))
    if written:
        heatmap.update(texttemplate="%{text}", textfont={"size": GRID_FONT})
    axis = dict(showgrid=False, zeroline=False, constrain="domain")
    ticks = dict(tickmode="linear", dtick=1) if written else dict(tickmode="auto")
    layout = dict(title={"text": title, "x": 0.02}, margin={"l": 30, "r": 10, "t": 60, "b": 10},
                  height=extra_h + cell * h, width=max(160, extra_w + cell * w),
                  xaxis=dict(**axis, **ticks, side="top"),
                  yaxis=dict(**axis, **ticks, autorange="reversed", scaleanchor="x"))
    if written:
        layout["meta"] = grid_meta(h, w, chars, extra_w=extra_w, extra_h=extra_h)
    if highlight is not None:
        layout["shapes"] = [dict(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                                 line={"color": HIGHLIGHT, "width": 3})
                            for i, j in zip(*np.nonzero(np.atleast_2d(highlight)))]
    return Figure(heatmap, layout=layout)


def chain_nodes(layers: int) -> dict[str, tuple[float, float]]:
    """Node -> (x, y) of the network diagram: X, a1, z1, …, a_L, y, L along the bottom, W_l above a_l."""
    names = ["X"]
    for l in range(1, layers + 1):
        names += [f"a{l}"] + ([f"z{l}"] if l < layers else [])
    names += ["y", "L"]
    nodes = {name: (float(i), 0.0) for i, name in enumerate(names)}
    for l in range(1, layers + 1):
        nodes[f"W{l}"] = (nodes[f"a{l}"][0] - 0.5, 1.0)
    return nodes


def lit_nodes(names: Sequence[str], layers: int) -> tuple[str, ...]:
    """The diagram nodes of a step's arrays: a gradient lights what it is the gradient of (dW2 → W2,
    dy → a_L), biases light their layer's weights, t lights the loss."""
    nodes = chain_nodes(layers)
    out = []
    for name in names:
        base = name[1:] if name.startswith("d") and name != "dy" else name
        base = {"dy": f"a{layers}", "t": "L", "loss": "L"}.get(base, base)
        base = f"W{base[1:]}" if base.startswith("b") else base
        if base in nodes and base not in out:
            out.append(base)
    return tuple(out)


def chain_figure(layers: int, lit: Sequence[str], phase: str) -> go.Figure:
    """The MLP as a chain of nodes, weights above; the current step's nodes lit in the phase colour."""
    nodes = chain_nodes(layers)
    color = PHASE_COLOR.get(phase, FORWARD)
    chain = [n for n, (_, y) in nodes.items() if y == 0]
    edges = list(zip(chain, chain[1:])) + [(f"W{l}", f"a{l}") for l in range(1, layers + 1)]
    arrows = []
    for a, b in edges:
        (x0, y0), (x1, y1) = nodes[a], nodes[b]
        on = a in lit and b in lit
        arrows.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=2, arrowwidth=3 if on else 1.5, arrowcolor=color if on else "#95a5a6",
                           standoff=18, startstandoff=18, text=""))
    names = list(nodes)
    dots = trace("scatter", x=[nodes[n][0] for n in names], y=[nodes[n][1] for n in names], mode="markers+text",
                 text=names, textposition="middle center", textfont={"size": 13, "color": "#1b2631"},
                 marker={"size": 44, "symbol": "square", "color": [color if n in lit else IDLE for n in names],
                         "opacity": [1.0 if n in lit else 0.6 for n in names],
                         "line": {"width": 1, "color": "#566573"}},
                 hoverinfo="skip", showlegend=False)
    right = max(x for x, _ in nodes.values())
    return Figure(dots, layout=dict(annotations=arrows, height=150, margin={"l": 5, "r": 5, "t": 5, "b": 5},
                                    plot_bgcolor="white", xaxis=dict(visible=False, range=[-0.5, right + 0.5]),
                                    yaxis=dict(visible=False, range=[-0.6, 1.6])))


def digits_figure(images: np.ndarray, thumbnails: np.ndarray, labels: Sequence[int], *, caption: str) -> go.Figure:
    """Each digit (28×28) above what X holds of it (size×size, enlarged by pixel repetition), in one heatmap;
    ``caption`` ("{label}" placeholder) above each column."""
    n, size = len(images), thumbnails.shape[1]
    factor = 28 // size
    big = np.repeat(np.repeat(thumbnails, factor, axis=1), factor, axis=2)  # (n, 28', 28')
    pad, top = 4, 10
    z = np.full((top + 28 + pad + 28, n * (28 + pad) - pad), np.nan)
    for i in range(n):
        c = i * (28 + pad)
        z[top:top + 28, c:c + 28] = images[i]
        z[top + 28 + pad:top + 28 + pad + big.shape[1], c:c + big.shape[2]] = big[i]
    notes = [dict(x=i * (28 + pad) + 13.5, y=top - 1, yanchor="bottom", showarrow=False,
                  text=caption.format(label=int(label)), font={"size": 12}) for i, label in enumerate(labels)]
    return Figure(trace("heatmap", z=z, colorscale="gray_r", zmin=0, zmax=1, showscale=False, hoverinfo="skip"),
                  layout=dict(height=200, width=max(240, 70 * n), margin={"l": 5, "r": 5, "t": 5, "b": 5},
                              annotations=notes, plot_bgcolor="white",
                              xaxis=dict(visible=False, constrain="domain"),
                              yaxis=dict(visible=False, autorange="reversed", scaleanchor="x")))


def loss_figure(losses: Sequence[float], *, x_title: str, y_title: str) -> go.Figure:
    """The batch loss before each gradient step (step 0 = the matrices as typed)."""
    curve = trace("scatter", x=list(range(len(losses))), y=list(losses), mode="lines+markers",
                  hovertemplate="%{x}: L = %{y:.6f}<extra></extra>")
    return Figure(curve, layout=dict(xaxis=dict(title={"text": x_title}), yaxis=dict(title={"text": y_title}),
                                     height=280, margin=MARGIN))


# ---------------------------------------------------------------- activation lab


def _two_panels(left: str, right: str, *, height: int = 340, legend_y: float = -0.25) -> dict:
    """A layout with two side-by-side plots titled ``left`` and ``right`` and the legend below."""
    title = {"xref": "paper", "yref": "paper", "y": 1.0, "yanchor": "bottom", "showarrow": False,
             "font": {"size": 14}}
    return {"height": height, "margin": {"l": 50, "r": 10, "t": 40, "b": 90},
            "legend": {"orientation": "h", "yanchor": "top", "y": legend_y, "x": 0, "xanchor": "left"},
            "xaxis": {"domain": [0, 0.46], "anchor": "y"}, "xaxis2": {"domain": [0.54, 1], "anchor": "y2"},
            "yaxis": {"anchor": "x"}, "yaxis2": {"anchor": "x2"},
            "annotations": [{**title, "x": 0.23, "xanchor": "center", "text": left},
                            {**title, "x": 0.77, "xanchor": "center", "text": right}]}


def activation_figure(curves: Sequence, *, names: Mapping[str, str], f_title: str, df_title: str,
                      z_title: str) -> go.Figure:
    """Each activation f(z) on the left, its derivative f'(z) on the right (``curves``: `fc.curves()`)."""
    data = []
    for c in curves:
        dash = "dash" if c.name == "leaky_relu" else "solid"  # on top of ReLU: both stay visible
        style = {"line": {"color": COLORS.get(c.name), "dash": dash}, "legendgroup": c.name, "name": names[c.name],
                 "mode": "lines"}
        data.append(trace("scatter", x=c.z, y=c.f, showlegend=True, **style))
        data.append(trace("scatter", x=c.z, y=c.df, showlegend=False, xaxis="x2", yaxis="y2", **style))
    layout = _two_panels(f_title, df_title)
    layout["xaxis"]["title"] = {"text": z_title}
    layout["xaxis2"]["title"] = {"text": z_title}
    return Figure({"data": data, "layout": layout})


def gradient_figure(profiles: Sequence, *, names: Mapping[str, str], step: int, layer_title: str,
                    norm_title: str, at_init: str, after: str) -> go.Figure:
    """‖∂L/∂W_l‖ per layer (log scale), first layer left: solid at initialisation, dashed after ``step``
    gradient steps, one colour per activation. ``after`` has a ``{steps}`` placeholder."""
    data = []
    for p in profiles:
        layers = list(range(1, p.norms.shape[1] + 1))
        rows = [(0, at_init, "solid")] + ([(min(step, len(p.norms) - 1), after, "dash")] if step > 0 else [])
        for row, label, dash in rows:
            data.append(trace("scatter", x=layers, y=np.maximum(p.norms[row], 1e-30), mode="lines+markers",
                              name=f"{names[p.activation]} · {label.format(steps=row)}",
                              line={"color": COLORS.get(p.activation), "dash": dash},
                              hovertemplate="%{x}: %{y:.3g}<extra></extra>"))
    return Figure({"data": data, "layout": {
        "height": 420, "margin": {"l": 60, "r": 10, "t": 20, "b": 120},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0, "xanchor": "left"},
        "xaxis": {"title": {"text": layer_title}, "dtick": 1}, "yaxis": {"title": {"text": norm_title},
                                                                       "type": "log", "exponentformat": "power"}}})


# ---------------------------------------------------------------- why a nonlinearity


def toy_figure(comparison, *, titles: Sequence[str], class_names: Sequence[str]) -> go.Figure:
    """Decision regions of the linear (left) and the ReLU network (right), the training points on top."""
    data = []
    for col, fit in enumerate((comparison.linear, comparison.relu), start=1):
        axes = {"xaxis": f"x{col if col > 1 else ''}", "yaxis": f"y{col if col > 1 else ''}"}
        data.append(trace("heatmap", x=fit.xs, y=fit.ys, z=fit.confidence, zmin=0, zmax=1, showscale=False,
                          colorscale=[[0, "#d6e6f7"], [0.5, "#ffffff"], [1, "#f9dcd3"]], hoverinfo="skip", **axes))
        data.append(trace("contour", x=fit.xs, y=fit.ys, z=fit.confidence, showscale=False, hoverinfo="skip",
                          showlegend=False,
                          contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "none"},
                          line={"color": "#333333", "width": 2}, **axes))
        for k, name in enumerate(class_names):
            pts = comparison.points[comparison.labels == k]
            data.append(trace("scatter", x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
                              legendgroup=name, showlegend=col == 1, hoverinfo="skip",
                              marker={"color": CLASS_COLORS[k], "size": 6, "line": {"width": 0.5, "color": "white"}},
                              **axes))
    layout = _two_panels(titles[0], titles[1], height=420, legend_y=-0.08)
    layout["margin"]["b"] = 50
    for axis in ("xaxis", "xaxis2"):
        layout[axis].update(showticklabels=False, constrain="domain")
    for axis, anchor in (("yaxis", "x"), ("yaxis2", "x2")):
        layout[axis].update(showticklabels=False, scaleanchor=anchor)
    return Figure({"data": data, "layout": layout})


# ---------------------------------------------------------------- losses


def scores_figure(comparison, *, class_title: str, p_title: str, grad_title: str, names: Mapping[str, str]
                  ) -> go.Figure:
    """Softmax probabilities per class (left, the true class in red) and both losses' gradients with respect
    to the scores (right): cross-entropy's y − t next to squared error's."""
    k = list(range(len(comparison.p)))
    colors = [COLORS["cross_entropy"] if i == comparison.label else "#95a5a6" for i in k]
    data = [trace("bar", x=k, y=comparison.p, marker={"color": colors}, showlegend=False,
                  hovertemplate="%{x}: p = %{y:.4f}<extra></extra>"),
            trace("bar", x=k, y=comparison.grad_cross_entropy, name=names["cross_entropy"], xaxis="x2", yaxis="y2",
                  marker={"color": COLORS["cross_entropy"]}, hovertemplate="%{x}: %{y:.4g}<extra></extra>"),
            trace("bar", x=k, y=comparison.grad_squared_error, name=names["squared_error"], xaxis="x2", yaxis="y2",
                  marker={"color": COLORS["squared_error"]}, hovertemplate="%{x}: %{y:.4g}<extra></extra>")]
    layout = _two_panels(p_title, grad_title)
    layout.update(barmode="group")
    layout["xaxis"].update(title={"text": class_title}, dtick=1)
    layout["xaxis2"].update(title={"text": class_title}, dtick=1)
    layout["yaxis"].update(range=[0, 1.02])
    return Figure({"data": data, "layout": layout})


def saturation_figure(sat, *, names: Mapping[str, str], loss_title: str, grad_title: str, z_title: str
                      ) -> go.Figure:
    """One sigmoid output a = σ(z) with target y: both losses (left) and dL/dz (right) over z."""
    data = []
    for name, loss, grad in (("squared_error", sat.squared_error, sat.grad_squared_error),
                             ("cross_entropy", sat.cross_entropy, sat.grad_cross_entropy)):
        style = {"line": {"color": COLORS[name]}, "legendgroup": name, "name": names[name], "mode": "lines"}
        data.append(trace("scatter", x=sat.z, y=loss, showlegend=True, **style))
        data.append(trace("scatter", x=sat.z, y=grad, showlegend=False, xaxis="x2", yaxis="y2", **style))
    layout = _two_panels(loss_title, grad_title)
    layout["xaxis"]["title"] = {"text": z_title}
    layout["xaxis2"]["title"] = {"text": z_title}
    return Figure({"data": data, "layout": layout})


def learning_figure(curves, *, names: Mapping[str, str], step_title: str, output_title: str) -> go.Figure:
    """The sigmoid neuron's output during gradient descent from a confidently wrong start, per loss."""
    data = [trace("scatter", x=curves.steps, y=values, mode="lines", name=names[name],
                  line={"color": COLORS[name]}, hovertemplate="%{x}: a = %{y:.4f}<extra></extra>")
            for name, values in (("squared_error", curves.a_squared_error), ("cross_entropy", curves.a_cross_entropy))]
    return Figure({"data": data, "layout": {
        "height": 300, "margin": {"l": 50, "r": 10, "t": 20, "b": 90},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0, "xanchor": "left"},
        "xaxis": {"title": {"text": step_title}}, "yaxis": {"title": {"text": output_title}, "range": [0, 1.02]}}})


def digit_figure(image: np.ndarray, *, title: str = "", height: int = 160) -> go.Figure:
    """One 28×28 digit, dark on white."""
    return Figure(trace("heatmap", z=np.asarray(image, dtype=np.float64), colorscale="gray_r", zmin=0, zmax=1,
                        showscale=False, hoverinfo="skip"),
                  layout=dict(height=height, width=height, margin={"l": 5, "r": 5, "t": 30 if title else 5, "b": 5},
                              title={"text": title, "font": {"size": 13}},
                              xaxis=dict(visible=False, constrain="domain"),
                              yaxis=dict(visible=False, autorange="reversed", scaleanchor="x")))


# ---------------------------------------------------------------- FC vs CNN on shifted digits


def shifted_digits_figure(images: Sequence[np.ndarray], shifts: Sequence[int], *, caption: str) -> go.Figure:
    """The same test digit moved right by each shift, side by side; ``caption`` has a ``{shift}`` placeholder."""
    pad, top = 4, 10
    z = np.full((top + 28, len(images) * (28 + pad) - pad), np.nan)
    for i, image in enumerate(images):
        z[top:, i * (28 + pad):i * (28 + pad) + 28] = image
    notes = [dict(x=i * (28 + pad) + 13.5, y=top - 1, yanchor="bottom", showarrow=False,
                  text=caption.format(shift=s), font={"size": 12}) for i, s in enumerate(shifts)]
    lines = [dict(type="line", x0=i * (28 + pad) - pad / 2, x1=i * (28 + pad) - pad / 2, y0=top, y1=top + 28,
                  line={"color": "#cccccc", "width": 1}) for i in range(1, len(images))]
    return Figure(trace("heatmap", z=z, colorscale="gray_r", zmin=0, zmax=1, showscale=False, hoverinfo="skip"),
                  layout=dict(height=150, width=max(300, 75 * len(images)), margin={"l": 5, "r": 5, "t": 5, "b": 5},
                              annotations=notes, shapes=lines, plot_bgcolor="white",
                              xaxis=dict(visible=False, constrain="domain"),
                              yaxis=dict(visible=False, autorange="reversed", scaleanchor="x")))


def shift_figure(shifts: Sequence[int], accuracy: Mapping[str, Sequence[float]], *, names: Mapping[str, str],
                 shift_title: str, accuracy_title: str, expected: Mapping[str, tuple[int, float]] | None = None
                 ) -> go.Figure:
    """Test accuracy (%) against the shift in pixels, one line per network; ``expected`` (network -> (shift,
    accuracy)) marks the measured expectation with an open diamond."""
    data = [trace("scatter", x=list(shifts), y=[100 * a for a in values], mode="lines+markers", name=names[net],
                  line={"color": COLORS[net]}, hovertemplate="%{x} px: %{y:.1f}%<extra></extra>")
            for net, values in accuracy.items()]
    for net, (shift, acc) in (expected or {}).items():
        data.append(trace("scatter", x=[shift], y=[100 * acc], mode="markers", showlegend=False,
                          marker={"symbol": "diamond-open", "size": 14, "color": COLORS[net], "line": {"width": 2}},
                          hovertemplate="%{x} px: %{y:.0f}%<extra></extra>"))
    return Figure({"data": data, "layout": {
        "height": 360, "margin": {"l": 60, "r": 10, "t": 20, "b": 90},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0, "xanchor": "left"},
        "xaxis": {"title": {"text": shift_title}, "dtick": 1},
        "yaxis": {"title": {"text": accuracy_title}, "range": [0, 101], "ticksuffix": "%"}}})
