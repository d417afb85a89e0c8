"""What every report's figures share: PNG encoding for self-contained pages, and the title of a panel whose y axis
is zoomed (one that leaves out 0 makes a small change look large, so it must say so)."""

from __future__ import annotations

import base64
import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure


def png_bytes(figure: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """PNG bytes as a data URI for an <img> tag."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure_uri(figure: Figure, dpi: int = 110) -> str:
    """The figure as a PNG data URI, so the HTML page needs no other file."""
    return data_uri(png_bytes(figure, dpi))


def zoomed_title(title: str, axis: Axes) -> str:
    """``title``, labelled as zoomed with the y range shown when the panel's y axis leaves out 0."""
    low, high = axis.get_ylim()
    if low > 0 or high < 0:
        return f"{title}\n(zoomed: y from {low:.4g} to {high:.4g})"  # own line: a narrow panel shows it whole
    return title
