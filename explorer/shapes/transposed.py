"""Output size of a transposed convolution (``nn.ConvTranspose2d``), and how it undoes a convolution's shape.

PyTorch's formula (``torch.nn.ConvTranspose2d`` docs)::

    O = (N − 1)·S − 2P + D·(K − 1) + output_padding + 1

A convolution floors (N + 2P − D(K−1) − 1)/S + 1, so several input sizes give the same output;
``output_padding`` (smaller than the stride or the dilation) picks which one the transposed convolution
gives back. User-facing problems raise :class:`explorer.shapes.sizes.ShapeError`.
"""

from __future__ import annotations

from explorer.shapes.sizes import MAX_SIZE, ShapeError, _int, conv_output_size


def _checked(n: object, k: object, stride: object, padding: object, output_padding: object, dilation: object,
             ) -> tuple[int, int, int, int, int, int]:
    n, k, s, p = _int(n, "N"), _int(k, "K"), _int(stride, "S"), _int(padding, "P")
    op, d = _int(output_padding, "output_padding"), _int(dilation, "D")
    if n < 1:
        raise ShapeError("shapes.err.size", value=n)
    if k < 1:
        raise ShapeError("shapes.err.kernel", value=k)
    if s < 1:
        raise ShapeError("shapes.err.stride", value=s)
    if d < 1:
        raise ShapeError("shapes.err.dilation", value=d)
    if p < 0:
        raise ShapeError("shapes.err.padding", value=p)
    for value in (n, k, s, p, op, d):
        if value > MAX_SIZE:
            raise ShapeError("shapes.err.size_too_large", value=value, limit=MAX_SIZE)
    if not 0 <= op < max(s, d):
        raise ShapeError("shapes.err.output_padding", value=op, stride=s, dilation=d)
    return n, k, s, p, op, d


def conv_transpose_output_size(n: int, k: int, *, stride: int = 1, padding: int = 0, output_padding: int = 0,
                               dilation: int = 1) -> int:
    """Output size of ``nn.ConvTranspose2d`` along one axis; ShapeError if PyTorch would refuse it."""
    n, k, s, p, op, d = _checked(n, k, stride, padding, output_padding, dilation)
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        raise ShapeError("shapes.err.transpose_empty", value=out, padding=p)
    return out


def transpose_formula_latex(n: int, k: int, *, stride: int = 1, padding: int = 0, output_padding: int = 0,
                            dilation: int = 1) -> str:
    """The formula with the numbers filled in, as LaTeX."""
    out = conv_transpose_output_size(n, k, stride=stride, padding=padding, output_padding=output_padding,
                                     dilation=dilation)
    return (f"O = ({n} - 1)\\cdot{stride} - 2\\cdot{padding} + {dilation}\\cdot({k} - 1) + {output_padding} + 1"
            f" = {out}")


def undo(n: int, k: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> tuple[int, int]:
    """(conv output O, the output_padding that makes the transposed convolution give N back from O)."""
    o = conv_output_size(n, k, stride=stride, padding=padding, dilation=dilation)
    op = n - conv_transpose_output_size(o, k, stride=stride, padding=padding, dilation=dilation)
    return o, op


def inputs_with_output(o: int, k: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> list[int]:
    """Every input size N whose convolution gives O: what a transposed convolution must choose between."""
    first = conv_transpose_output_size(o, k, stride=stride, padding=padding, dilation=dilation)
    return [first + op for op in range(max(stride, dilation))
            if conv_output_size(first + op, k, stride=stride, padding=padding, dilation=dilation) == o]
