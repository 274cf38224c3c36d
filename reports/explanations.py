"""Why a verdict is what it is, in the project's own words: for each invariant, its row of the
invariants table in `docs/scenarios.md` (what must hold, the known faithful defect) and the
section of `docs/faithful-vs-hardened.md` about its component, rendered to HTML so that the
report carries them inline (it opens from disk, with no link that could break).

The documents live in the source tree, not in the installed package: an install without them
gets the verdicts' own text and a pointer to the documents instead.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["DOCS_FOLDER", "DocSection", "Explanations", "load_explanations", "markdown_to_html"]

DOCS_FOLDER: Final = Path(__file__).resolve().parent.parent / "docs"

SECTION_OF: Final[dict[str, tuple[str, ...]]] = {
    "breaker_legal": ("Circuit breaker",),
    "no_stuck_half_open": ("Circuit breaker",),
    "no_5xx_from_cache_outage": ("Tenant resolver", "Redis cache backend"),
    "coalescing": ("Tenant resolver",),
    "no_reload_storm": ("Tenant resolver",),
    "depth_bound": ("Backpressure controller",),
    "slot_conservation": ("Event bus and dispatcher", "Backpressure controller"),
    "slots_returned": ("Event bus and dispatcher",),
    "nothing_lost": ("Event bus and dispatcher",),
    "no_ghosts": ("Transactional outbox and relay",),
    "no_zombies": ("Transactional outbox and relay",),
    "projection_applies_once": ("Transactional outbox and relay",),
    "read_model_converges": ("Transactional outbox and relay",),
}
"""invariant -> the headings (their leading words) of docs/faithful-vs-hardened.md that explain it."""


@dataclass(frozen=True, slots=True)
class DocSection:
    anchor: str
    title: str
    html: str

    @property
    def title_html(self) -> str:
        return inline_markdown(self.title)


@dataclass(frozen=True)
class Explanations:
    sections: dict[str, DocSection]
    """anchor -> section of faithful-vs-hardened.md"""
    invariants: dict[str, tuple[str, str]]
    """invariant -> (what must hold, the known faithful defect), from docs/scenarios.md"""
    found: bool

    def anchor_for(self, invariant: str) -> str | None:
        """The in-page anchor of the first section that explains `invariant`."""
        sections = self.sections_for(invariant)
        return sections[0].anchor if sections else None

    def sections_for(self, invariant: str) -> list[DocSection]:
        out = []
        for prefix in SECTION_OF.get(invariant, ()):
            out += [s for s in self.sections.values() if s.title.startswith(prefix)]
        return out


def _anchor(title: str) -> str:
    return "doc-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40]


def load_explanations(folder: Path = DOCS_FOLDER) -> Explanations:
    hardened_doc, scenarios_doc = folder / "faithful-vs-hardened.md", folder / "scenarios.md"
    if not hardened_doc.is_file() or not scenarios_doc.is_file():
        return Explanations({}, {}, found=False)
    sections: dict[str, DocSection] = {}
    title: str | None = None
    body: list[str] = []
    for line in [*hardened_doc.read_text(encoding="utf-8").splitlines(), "## "]:
        if line.startswith("## "):
            if title is not None:
                anchor = _anchor(title)
                sections[anchor] = DocSection(anchor, title, markdown_to_html("\n".join(body)))
            title, body = line[3:].strip() or None, []
        elif title is not None:
            body.append(line)
    invariants: dict[str, tuple[str, str]] = {}
    for line in scenarios_doc.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].endswith("`"):
            invariants[cells[0].strip("`")] = (cells[1], cells[2])
    return Explanations(sections, invariants, found=True)


def inline_markdown(text: str) -> str:
    """Escaped text with `code`, **bold** and [links](...) (kept as their text: a relative link
    would not resolve from a report copied elsewhere)."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", escaped)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


def markdown_to_html(text: str) -> str:
    """The small part of Markdown the docs use: paragraphs, bullet lists, tables, headings."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip():
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            head, *rest = rows
            out.append("<table class='doc'><tr>" + "".join(f"<th>{inline_markdown(c)}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{inline_markdown(c)}</td>" for c in row) + "</tr>"
                                 for row in rest) + "</table>")
        elif line.startswith("- "):
            items: list[str] = []
            while i < len(lines) and (lines[i].startswith("- ") or lines[i].startswith("  ")):
                if lines[i].startswith("- "):
                    items.append(lines[i][2:].strip())
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            out.append("<ul>" + "".join(f"<li>{inline_markdown(item)}</li>" for item in items) + "</ul>")
        elif line.startswith("#"):
            out.append(f"<h4>{inline_markdown(line.lstrip('#').strip())}</h4>")
            i += 1
        else:
            paragraph = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("|", "- ", "#")):
                paragraph.append(lines[i].strip())
                i += 1
            out.append(f"<p>{inline_markdown(' '.join(paragraph))}</p>")
    return "\n".join(out)
