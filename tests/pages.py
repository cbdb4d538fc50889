"""The report's page built as ``poolkit report`` builds it, its charts drawn but not turned
into pictures: fast enough for generated cases. ``marks`` reads every count the page marks
(``data-count``), ``page_text`` its text as a reader sees it, ``card`` one card of the first
screen."""

from __future__ import annotations

import html
import re
from unittest import mock

from poolkit import sections
from poolkit.report import run_report_notebook


def render(data, *, mask_numbers: bool = False) -> str:
    """The report page's HTML for ``data``: its blocks as ``poolkit report`` builds them, the
    charts' pictures left out."""
    with mock.patch.object(sections, "figure_html", lambda ax, alt=None: ""):
        blocks = run_report_notebook(
            {"data": str(data), "mask_numbers": mask_numbers, "require_answers": False}
        )
    return "".join(blocks)


def marks(page: str) -> list[tuple[str, str]]:
    """Every marked count of a page, in order: ``(what it counts, the text shown)``."""
    return re.findall(r'data-count="([^"]+)">([^<]*)<', page)


def page_text(page: str) -> str:
    """A page's text as a reader sees it: tags dropped (a span within its words), entities
    decoded, spaces folded."""
    page = re.sub(r"</?span[^>]*>", "", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def card(page: str, answer: str) -> tuple[str, str, str]:
    """The value, label and sentence of a first-screen card, as text."""
    found = re.search(
        rf'data-answer="{answer}"><div class="value"[^>]*>(.*?)</div>'
        r'<div class="label">(.*?)</div><p class="sentence">(.*?)</p></div>',
        page,
        re.S,
    )
    return tuple(page_text(part) for part in found.groups())
