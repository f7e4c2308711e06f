"""HTML templates and CSS to A4 PDF with WeasyPrint, Chinese first with English beside it.

One font, one weight: WenQuanYi Micro Hei (Debian's fonts-wqy-microhei) at ``font-weight:
400`` throughout, so WeasyPrint embeds one small subset (measured in docs/benchmarks.md;
Noto Sans CJK is kept only as a fallback name). The font configuration, the stylesheet and the
templates are loaded once per process and reused: WeasyPrint's import and first render cost
~0.5 s, a later render ~130 ms. Templates only place strings they are given (the services
format money and dates); every value is HTML-escaped.
"""

from __future__ import annotations

import gc
import threading
from importlib import resources
from typing import Any

import jinja2

from .errors import CertificateError

_STATE: dict[str, Any] = {}
_LOCK = threading.Lock()


def _environment() -> jinja2.Environment:
    templates = resources.files(__package__) / "templates"
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (templates / name).read_text(encoding="utf-8")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _weasy() -> dict[str, Any]:
    if not _STATE:
        try:
            import weasyprint
            from weasyprint.text.fonts import FontConfiguration
        except OSError as error:  # pango and harfbuzz come from the system's packages
            raise CertificateError(f"WeasyPrint cannot load its libraries: {error}") from error
        fonts = FontConfiguration()
        css = (resources.files(__package__) / "templates" / "certificate.css").read_text(encoding="utf-8")
        _STATE.update(
            weasyprint=weasyprint,
            fonts=fonts,
            css=weasyprint.CSS(string=css, font_config=fonts),
            templates=_environment(),
        )
        # A render allocates ~10^5 short-lived objects, so the collector runs several full
        # collections per render, each walking every object of the process (the ledger client,
        # pyHanko, WeasyPrint's modules): measured as a third of a render's CPU time in the
        # portal. Objects alive now (modules, fonts, stylesheets) live as long as the process:
        # move them out of the collector's sight.
        gc.collect()
        gc.freeze()
    return _STATE


def render(template: str, **context: Any) -> bytes:
    """The PDF of ``template`` (a file in templates/) with ``context``. Raises CertificateError."""
    with _LOCK:  # one FontConfiguration is shared; WeasyPrint renders one document at a time here
        state = _weasy()
        html = state["templates"].get_template(template).render(**context)
        document = state["weasyprint"].HTML(string=html, base_url=None)
        pdf = document.write_pdf(stylesheets=[state["css"]], font_config=state["fonts"])
    if not isinstance(pdf, bytes):
        raise CertificateError("WeasyPrint returned no PDF")
    return pdf


def warm() -> bytes:
    """Pay WeasyPrint's import and first render now (~2-3 s of CPU on a cold process: cffi
    parses pango's declarations, fontconfig loads the CJK font), not in a user's request: a
    short page in the certificates' stylesheet with Chinese and Latin text (returned, for a
    first signature)."""
    with _LOCK:
        state = _weasy()
        page = state["weasyprint"].HTML(string="<p>金票 GoldTicket ¥1,234.56</p>", base_url=None)
        pdf = page.write_pdf(stylesheets=[state["css"]], font_config=state["fonts"])
    if not isinstance(pdf, bytes):
        raise CertificateError("WeasyPrint returned no PDF")
    return pdf


def is_warm() -> bool:
    """Whether this process has loaded WeasyPrint and its fonts."""
    return bool(_STATE)


def render_certificate(view: dict[str, Any]) -> bytes:
    """A holding certificate (templates/certificate.html) from a view the services built."""
    return render("certificate.html", c=view)


def render_demand(view: dict[str, Any]) -> bytes:
    """A demand for payment of an overdue piece (追索通知书, templates/demand.html)."""
    return render("demand.html", m=view)


def render_statement(view: dict[str, Any]) -> bytes:
    """A clearing statement (templates/statement.html)."""
    return render("statement.html", s=view)


def render_commitment(view: dict[str, Any]) -> bytes:
    """An issuer's payment commitment (付款承诺函, #21, templates/commitment.html)."""
    return render("commitment.html", p=view)


def render_assignment(view: dict[str, Any]) -> bytes:
    """A transfer's assignment agreement (债权转让协议) or notice to the debtor (债权转让通知),
    #21, templates/assignment.html."""
    return render("assignment.html", a=view)


def render_filing(view: dict[str, Any]) -> bytes:
    """A registration filing (中登网, templates/filing.html) from a view the services built."""
    return render("filing.html", f=view)
