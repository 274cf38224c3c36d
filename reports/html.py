"""The report page: one Jinja2 template (`templates/report.html.j2`) rendered with everything
inline, so `index.html` opens from disk with no server, no network and no other file: figures are
PNG data: URIs, the style sheet is in the page, and there is no script.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from rustok_sim.reports.explanations import inline_markdown

__all__ = ["number", "png_data_uri", "render_report"]


def png_data_uri(path: Path) -> str:
    """A PNG file as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def number(value: Any) -> str:
    """A measured number as a reader wants it: thousands separated, at most 4 significant digits
    for fractions, an em dash for a missing value."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def signed(value: Any) -> str:
    if value is None:
        return "—"
    text = number(value)
    return text if text.startswith("-") or value == 0 else "+" + text


def percent(value: Any) -> str:
    """A relative difference as a signed percentage (an em dash when there is none)."""
    if value is None:
        return "—"
    return f"{float(value):+.1%}"


def render_report(context: Mapping[str, Any]) -> str:
    environment = Environment(loader=PackageLoader("rustok_sim.reports", "templates"),
                              autoescape=select_autoescape(default=True, default_for_string=True),
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["number"] = number
    environment.filters["signed"] = signed
    environment.filters["percent"] = percent
    environment.filters["markdown"] = lambda text: Markup(inline_markdown(str(text)))
    return environment.get_template("report.html.j2").render(**context)
