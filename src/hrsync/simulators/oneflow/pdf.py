"""A real, small PDF of a contract: one page of text (name, state, data fields, signatures).

Valid PDF 1.4 with a correct cross-reference table, so any reader opens it; its bytes change
when the contract is signed, as Oneflow's contract PDF does.
"""

from __future__ import annotations

from collections.abc import Sequence

_LINE_HEIGHT = 14
_TOP = 800


def _escape(text: str) -> str:
    # Latin-1 covers Swedish letters; anything else becomes "?" (the standard fonts know no more).
    latin = text.encode("latin-1", "replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def render_pdf(title: str, lines: Sequence[str]) -> bytes:
    """One page with `title` in bold and `lines` below it."""
    text = [f"BT /F2 16 Tf 50 {_TOP} Td ({_escape(title)}) Tj ET"]
    for number, line in enumerate(lines[:50], start=2):
        y = _TOP - number * _LINE_HEIGHT
        text.append(f"BT /F1 10 Tf 50 {y} Td ({_escape(line)}) Tj ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
