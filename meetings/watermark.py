"""Per-download watermarks on meeting packs and minutes, without re-rendering.

A pack is prepared once when it is built; each download appends a small
incremental update that draws the downloader's name (see the notes below).
"""

import functools
import hashlib
import io
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import pikepdf
from django.template.loader import render_to_string

from portal.pdf import html_to_pdf

# Every download is stamped with who downloaded it, and must cost the same for
# a 10-page pack as for a 500-page one. So the build prepares the pack once:
# each page draws one shared form XObject, the stamp, as an artifact (outside
# the tag tree, so screen readers skip it); in the stored file the stamp draws
# nothing, but its resources hold a font subset covering any watermark text.
# A download sends the stored bytes unchanged, then an incremental update
# (PDF 1.7, 7.5.6) holding a new version of the stamp that draws the text.
# https://opensource.adobe.com/dc-acrobat-sdk-docs/pdfstandards/PDF32000_2008.pdf

# Bumped when prepared packs change shape: older ones are rebuilt on download.
STAMP_FORMAT = 1
STAMP_NAME = pikepdf.Name("/PortalWatermark")
FONT_DIAGONAL = pikepdf.Name("/WmDiagonal")
FONT_STRIP = pikepdf.Name("/WmStrip")
FAINT = pikepdf.Name("/WmFaint")

# What the embedded subset covers: printable Latin-1 and Latin Extended-A (the
# accents of names in these islands and most of Europe), plus the quotes,
# dashes and euro sign that word processors type. Anything else falls back.
STAMP_CHARACTERS = (
    "".join(
        chr(code)
        for code in (*range(0x20, 0x7F), *range(0xA0, 0x180))
        if chr(code).isprintable()
    )
    + "\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2026\u20ac"
)

# The layout of meetings/pdf/watermark.html, in points: a faint diagonal line
# across the middle and a small grey strip at the bottom.
MM = 72 / 25.4
DIAGONAL = {"size": 15, "width": 250 * MM, "top": 135 * MM, "turn": 35,
            "colour": (29, 112, 184), "opacity": 0.18}  # fmt: skip
STRIP = {"size": 7.5, "margin": 18 * MM, "bottom": 4 * MM,
         "colour": (0x50, 0x5A, 0x5F)}  # fmt: skip


@dataclass(frozen=True)
class PreparedPdf:
    pdf: bytes
    pages: int
    stamp: dict


@dataclass(frozen=True)
class StampFont:
    """What stamping needs of an embedded Type 0 font: its glyph codes by
    character (from its ToUnicode CMap) and their widths (from /W)."""

    codes: dict[str, int]
    widths: dict[int, float]
    default_width: float
    ascent: float
    descent: float

    def renderable(self, text: str) -> str:
        """``text`` with what the subset lacks replaced: accents stripped
        (Ș becomes S), other characters as "?", controls dropped."""
        out = []
        for character in unicodedata.normalize("NFC", text):
            if character in self.codes:
                out.append(character)
            elif character.isspace():
                out.append(" ")
            elif unicodedata.category(character).startswith(("C", "M")):
                continue
            else:
                plain = "".join(
                    part
                    for part in unicodedata.normalize("NFKD", character)
                    if not unicodedata.combining(part)
                )
                known = plain and all(part in self.codes for part in plain)
                out.append(plain if known else "?")
        return "".join(out)

    def width(self, text: str, size: float) -> float:
        return (
            sum(
                self.widths.get(self.codes[character], self.default_width)
                for character in text
            )
            * size
            / 1000
        )

    def hex(self, text: str) -> str:
        return "".join(f"{self.codes[character]:04x}" for character in text)

    def lines(self, text: str, size: float, width: float) -> list[str]:
        """Word-wrapped to ``width`` points, as the HTML did."""
        lines: list[str] = []
        for word in self.renderable(text).split():
            if lines and self.width(f"{lines[-1]} {word}", size) <= width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines


# Parsed fonts by fingerprint: every pack of one release embeds the same
# subset, so a process parses it once.
_STAMP_FONTS: dict[str, StampFont] = {}

_CMAP_SECTION = re.compile(rb"beginbf(char|range)(.*?)endbf\1", re.DOTALL)
_CMAP_TOKEN = re.compile(rb"<([0-9A-Fa-f]*)>|(\[)|(\])")


def _cmap_codes(cmap: bytes) -> dict[str, int]:
    """Character to code from a ToUnicode CMap's bfchar and bfrange entries
    (PDF 1.7, 9.10.3); codes for ligatures (several characters) are skipped."""
    codes: dict[str, int] = {}

    def add(code: int, target: bytes) -> None:
        text = target.decode("utf-16-be", errors="replace")
        if len(text) == 1:
            codes.setdefault(text, code)

    for kind, body in _CMAP_SECTION.findall(cmap):
        tokens: list = []
        stack = [tokens]
        for hexa, opening, closing in _CMAP_TOKEN.findall(body):
            if opening:
                stack[-1].append([])
                stack.append(stack[-1][-1])
            elif closing:
                stack.pop()
            else:
                stack[-1].append(bytes.fromhex(hexa.decode()))
        if kind == b"char":
            for source, target in zip(tokens[::2], tokens[1::2], strict=True):
                add(int.from_bytes(source, "big"), target)
            continue
        for low, high, target in zip(
            tokens[::3], tokens[1::3], tokens[2::3], strict=True
        ):
            first, last = int.from_bytes(low, "big"), int.from_bytes(high, "big")
            if isinstance(target, list):
                for code, each in zip(range(first, last + 1), target, strict=False):
                    add(code, each)
            else:
                # Consecutive codes map to consecutive characters.
                start = int.from_bytes(target, "big")
                for offset in range(last - first + 1):
                    add(first + offset, (start + offset).to_bytes(len(target), "big"))
    return codes


def _cid_widths(entries: list) -> dict[int, float]:
    """Glyph widths from a CIDFont's /W array (PDF 1.7, 9.7.4.3)."""
    widths: dict[int, float] = {}
    index = 0
    while index < len(entries):
        first, following = int(entries[index]), entries[index + 1]
        if isinstance(following, pikepdf.Array):
            for offset, width in enumerate(following):
                widths[first + offset] = float(width)
            index += 2
        else:
            for code in range(first, int(following) + 1):
                widths[code] = float(entries[index + 2])
            index += 3
    return widths


def _stamp_font(font: pikepdf.Dictionary) -> tuple[str, StampFont]:
    """The font's fingerprint and what stamping needs of it."""
    identity = font.get("/Encoding") == pikepdf.Name("/Identity-H")
    if font.get("/Subtype") != pikepdf.Name.Type0 or not identity:
        raise ValueError("The watermark needs a Type 0 font with Identity-H codes")
    descendant = font.DescendantFonts[0]
    descriptor = descendant.FontDescriptor
    cmap = font.ToUnicode.read_bytes()
    widths = descendant.get("/W", pikepdf.Array())
    default_width = float(descendant.get("/DW", 1000))
    ascent, descent = float(descriptor.Ascent), float(descriptor.Descent)
    fingerprint = hashlib.sha256(
        b"\0".join(
            [
                cmap,
                widths.unparse(resolved=True),
                f"{default_width} {ascent} {descent}".encode(),
            ]
        )
    ).hexdigest()
    parsed = StampFont(
        codes=_cmap_codes(cmap),
        widths=_cid_widths(list(widths)),
        default_width=default_width,
        ascent=ascent,
        descent=descent,
    )
    return fingerprint, parsed


@functools.cache
def _stamp_sample() -> bytes:
    """watermark.html rendered with every character a watermark may hold: its
    fonts, subset to those characters, are the ones packs embed."""
    # Spaced out, so that no two characters are drawn as one ligature glyph.
    text = " ".join(STAMP_CHARACTERS.replace(" ", ""))
    return html_to_pdf(render_to_string("meetings/pdf/watermark.html", {"text": text}))


def _sample_fonts(sample: pikepdf.Pdf) -> tuple[pikepdf.Object, pikepdf.Object]:
    """The diagonal's and the strip's fonts, in the order the page uses them."""
    page = sample.pages[0]
    used: list[pikepdf.Name] = []
    for operands, _operator in pikepdf.parse_content_stream(page, "Tf"):
        if operands[0] not in used:
            used.append(operands[0])
    fonts = page.Resources.Font
    return fonts[used[0]], fonts[used[-1]]


def stamp_sample() -> pikepdf.Pdf:
    """The rendered sample holding the stamp's fonts; keep it open until a
    document that copied from it is saved (stream data is copied then)."""
    return pikepdf.open(io.BytesIO(_stamp_sample()))


def strip_font(
    document: pikepdf.Pdf, sample: pikepdf.Pdf
) -> tuple[pikepdf.Object, StampFont]:
    """The strip's font (DejaVu Sans, subset to ``STAMP_CHARACTERS``) copied
    from ``sample`` into ``document``, and its metrics, for other text drawn
    after rendering (a pack's page numbers, ``meetings.pack_pdf``)."""
    _diagonal, strip = _sample_fonts(sample)
    return document.copy_foreign(strip), _stamp_font(strip)[1]


def watermark_prepare(pdf: bytes, *, xref_streams: bool = True) -> PreparedPdf:
    """Make every page of ``pdf`` draw one empty, shared stamp; see above.

    Tags (/StructTreeRoot, /MarkInfo, /Lang) are kept: the stamp is marked as
    an artifact. ``xref_streams`` saves compressed object and cross-reference
    streams; False writes a classic table (both kinds can be stamped).
    """
    with (
        pikepdf.open(io.BytesIO(pdf)) as document,
        pikepdf.open(io.BytesIO(_stamp_sample())) as sample,
    ):
        diagonal, strip = _sample_fonts(sample)
        resources = document.make_indirect(
            pikepdf.Dictionary(
                Font=pikepdf.Dictionary(
                    {
                        str(FONT_DIAGONAL): document.copy_foreign(diagonal),
                        str(FONT_STRIP): document.copy_foreign(strip),
                    }
                ),
                ExtGState=pikepdf.Dictionary(
                    {
                        str(FAINT): pikepdf.Dictionary(
                            Type=pikepdf.Name.ExtGState, ca=DIAGONAL["opacity"]
                        )
                    }
                ),
            )
        )
        left, bottom, right, top = (float(v) for v in document.pages[0].mediabox)
        stamp = document.make_indirect(
            pikepdf.Stream(
                document,
                b"",
                Type=pikepdf.Name.XObject,
                Subtype=pikepdf.Name.Form,
                BBox=[left, bottom, right, top],
                Matrix=[1, 0, 0, 1, 0, 0],
                Resources=resources,
            )
        )
        # The page's own drawing is wrapped in q ... Q so the stamp starts from
        # the default graphics state; the two small streams are shared.
        save_state = document.make_indirect(pikepdf.Stream(document, b"q\n"))
        tails: dict[bytes, pikepdf.Stream] = {}
        for page in document.pages:
            name = page.add_resource(stamp, pikepdf.Name.XObject, STAMP_NAME)
            placement = page.calc_form_xobject_placement(
                stamp, name, pikepdf.Rectangle(page.trimbox)
            )
            if placement not in tails:
                tails[placement] = document.make_indirect(
                    pikepdf.Stream(
                        document, b"\nQ\n/Artifact BMC\n" + placement + b"\nEMC\n"
                    )
                )
            page.contents_add(save_state, prepend=True)
            page.contents_add(tails[placement])
        pages = len(document.pages)
        out = io.BytesIO()
        document.save(
            out,
            object_stream_mode=pikepdf.ObjectStreamMode.generate
            if xref_streams
            else pikepdf.ObjectStreamMode.disable,
        )
    prepared = out.getvalue()
    return PreparedPdf(pdf=prepared, pages=pages, stamp=_stamp_facts(prepared))


def _stamp_facts(pdf: bytes) -> dict:
    """What a download's incremental update refers to in the saved ``pdf``."""
    startxref = int(pdf[pdf.rindex(b"startxref") + 9 :].split()[0])
    with pikepdf.open(io.BytesIO(pdf)) as document:
        stamp = document.pages[0].Resources.XObject[STAMP_NAME]
        trailer = document.trailer
        fonts = {}
        for role, name in (("diagonal", FONT_DIAGONAL), ("strip", FONT_STRIP)):
            fingerprint, font = _stamp_font(stamp.Resources.Font[name])
            _STAMP_FONTS.setdefault(fingerprint, font)
            fonts[role] = fingerprint
        return {
            "format": STAMP_FORMAT,
            "size": len(pdf),
            "startxref": startxref,
            "xref_stream": not pdf[startxref:].startswith(b"xref"),
            "trailer": {
                "size": int(trailer.Size),
                "root": list(trailer.Root.objgen),
                "info": list(trailer.Info.objgen) if "/Info" in trailer else None,
                "id": bytes(trailer.ID[0]).hex(),
            },
            "object": list(stamp.objgen),
            "bbox": [float(value) for value in stamp.BBox],
            "matrix": [float(value) for value in stamp.Matrix],
            "resources": list(stamp.Resources.objgen),
            "fonts": fonts,
        }


def _stamp_fonts(stamp: dict, source: Callable[[], IO[bytes]]) -> dict[str, StampFont]:
    """The stamp's fonts, parsed from the stored file the first time a process
    meets them (``source`` opens it)."""
    wanted = stamp["fonts"]
    if any(fingerprint not in _STAMP_FONTS for fingerprint in wanted.values()):
        with source() as handle, pikepdf.open(handle) as document:
            font_resources = document.get_object(tuple(stamp["resources"])).Font
            for name in (FONT_DIAGONAL, FONT_STRIP):
                fingerprint, font = _stamp_font(font_resources[name])
                _STAMP_FONTS[fingerprint] = font
    try:
        return {role: _STAMP_FONTS[fingerprint] for role, fingerprint in wanted.items()}
    except KeyError:
        raise ValueError("The stored pack's fonts are not those recorded") from None


def _number(value: float, places: int = 3) -> str:
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _numbers(*values: float, places: int = 3) -> str:
    return " ".join(_number(value, places) for value in values)


def _colour(rgb: tuple[int, int, int]) -> str:
    return _numbers(*(channel / 255 for channel in rgb))


def _stamp_content(bbox: list[float], fonts: dict[str, StampFont], text: str) -> bytes:
    """The drawing of the stamp: watermark.html's two placements of ``text``."""
    left, bottom, right, top = bbox
    centre = (left + right) / 2
    ops = ["q", f"{FAINT} gs", f"{_colour(DIAGONAL['colour'])} rg"]
    # The diagonal: a box 250 mm wide, 135 mm from the top, text centred and
    # the box turned about its centre (CSS rotate(-35deg), y pointing down).
    font, size = fonts["diagonal"], DIAGONAL["size"]
    lines = font.lines(text, size, DIAGONAL["width"])
    leading = (font.ascent - font.descent) * size / 1000
    height = leading * len(lines)
    turn = math.radians(DIAGONAL["turn"])
    cos, sin = math.cos(turn), math.sin(turn)
    ops.append(
        f"{_numbers(cos, sin, -sin, cos, centre, top - DIAGONAL['top'] - height / 2)}"
        " cm"
    )
    ops.append(f"BT {FONT_DIAGONAL} {_number(size)} Tf")
    for index, line in enumerate(lines):
        baseline = height / 2 - index * leading - font.ascent * size / 1000
        x = -font.width(line, size) / 2
        ops.append(f"1 0 0 1 {_numbers(x, baseline)} Tm <{font.hex(line)}> Tj")
    ops += ["ET", "Q"]
    # The strip: small grey text centred between the margins, 4 mm from the
    # bottom; lines stack upwards.
    font, size = fonts["strip"], STRIP["size"]
    lines = font.lines(text, size, right - left - 2 * STRIP["margin"])
    leading = (font.ascent - font.descent) * size / 1000
    ops += [
        "q",
        f"{_colour(STRIP['colour'])} rg",
        f"BT {FONT_STRIP} {_number(size)} Tf",
    ]
    for index, line in enumerate(lines):
        baseline = (
            bottom
            + STRIP["bottom"]
            + (len(lines) - 1 - index) * leading
            - font.descent * size / 1000
        )
        x = centre - font.width(line, size) / 2
        ops.append(f"1 0 0 1 {_numbers(x, baseline)} Tm <{font.hex(line)}> Tj")
    ops += ["ET", "Q"]
    return "\n".join(ops).encode()


def watermark_update(
    stamp: dict, text: str, *, source: Callable[[], IO[bytes]]
) -> bytes:
    """The incremental update that stamps ``text`` on a prepared PDF.

    Appended to the stored bytes, it replaces the stamp object with one that
    draws the text, then adds a cross-reference section of the file's own kind
    (a stream or a classic table) pointing back to the last one (/Prev).
    Costs the same whatever the size of the pack. ``source`` opens the stored
    PDF, read only if this process has not met its fonts.
    """
    fonts = _stamp_fonts(stamp, source)
    content = _stamp_content(stamp["bbox"], fonts, text)
    number, generation = stamp["object"]
    trailer = stamp["trailer"]
    first_id = bytes.fromhex(trailer["id"])
    # The first identifier is the document's; the second changes per version.
    this_id = hashlib.sha256(first_id + content).digest()[:16]
    references = f"/Root {trailer['root'][0]} {trailer['root'][1]} R"
    if trailer["info"]:
        references += f" /Info {trailer['info'][0]} {trailer['info'][1]} R"
    references += (
        f" /ID [<{first_id.hex()}> <{this_id.hex()}>] /Prev {stamp['startxref']}"
    )
    resources = stamp["resources"]
    update = bytearray(b"\n")
    stamp_at = stamp["size"] + len(update)
    update += (
        f"{number} {generation} obj\n<< /Type /XObject /Subtype /Form "
        f"/BBox [{_numbers(*stamp['bbox'], places=6)}] "
        f"/Matrix [{_numbers(*stamp['matrix'], places=6)}] "
        f"/Resources {resources[0]} {resources[1]} R /Length {len(content)} >>\n"
        "stream\n"
    ).encode()
    update += content + b"\nendstream\nendobj\n"
    xref_at = stamp["size"] + len(update)
    if stamp["xref_stream"]:
        # The cross-reference stream is an object too: the next free number.
        own = trailer["size"]
        width = max(4, (xref_at.bit_length() + 7) // 8)
        rows = b"".join(
            b"\x01" + offset.to_bytes(width, "big") + gen.to_bytes(2, "big")
            for offset, gen in ((stamp_at, generation), (xref_at, 0))
        )
        update += (
            f"{own} 0 obj\n<< /Type /XRef /Size {own + 1} "
            f"/Index [{number} 1 {own} 1] /W [1 {width} 2] {references} "
            f"/Length {len(rows)} >>\nstream\n"
        ).encode()
        update += rows + b"\nendstream\nendobj\n"
    else:
        update += (
            f"xref\n{number} 1\n{stamp_at:010d} {generation:05d} n \n"
            f"trailer\n<< /Size {trailer['size']} {references} >>\n"
        ).encode()
    update += f"startxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(update)
