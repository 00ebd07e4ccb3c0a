"""The card as PDF: its HTML page laid out for print by WeasyPrint, offline.

The HTML template's print stylesheet (`@media print`, `@page`) sets the page: A4, the
model's name and version in the header, page numbers, table rows kept whole, every
feature's charts shown. Charts stay vectors: WeasyPrint draws inline SVG as PDF paths.
WeasyPrint is imported only here, when a PDF is asked for.

Nothing is fetched while rendering: the card's HTML is self-contained, and any URL that
a custom template adds (an image, a stylesheet, a font) is refused, not loaded.
"""

from __future__ import annotations

import logging
from typing import Any

from mct_component.errors import ParameterError

logger = logging.getLogger(__name__)


def html_to_pdf(html: str) -> bytes:
    """Lays out an HTML card as a PDF document.

    The output is byte-identical for the same HTML (fixed document identifier, no
    timestamps beyond what the HTML's own metadata says).

    Args:
        html: the card's HTML page.

    Returns:
        The PDF file's bytes.
    """
    try:
        import weasyprint
    except ImportError:
        raise ParameterError(
            "the pdf format needs WeasyPrint: install mct-component[pdf] "
            "(or weasyprint), or leave pdf out of the formats"
        ) from None

    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=_refusing_fetcher())
    pdf: bytes = document.write_pdf(pdf_identifier=b"mct-component model card")
    return pdf


def _refusing_fetcher() -> Any:
    """A WeasyPrint URL fetcher that loads nothing: every URL is refused and logged."""
    import weasyprint

    class RefusingFetcher(weasyprint.URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            logger.warning("Not loading %.200r into the PDF: a card loads nothing", url)
            raise ValueError(f"loading {url[:200]!r} is not allowed")

    return RefusingFetcher()
