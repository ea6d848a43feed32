"""A meeting pack assembled from parts rendered on their own: the front (cover,
agenda, contents) and one part per case, each a tagged PDF from WeasyPrint.

Rendering is what makes a pack slow (about 16 s for 40 cases), and most of a
rebuild is cases that did not change. So each case's part is rendered once
for each version of what it shows (``meetings.services.packs``) and joined
here, with pikepdf, keeping what a screen reader and a reader need:

- the tag tree: each part's elements become children of one Document
  element; the keys of the parent tree (a page's /StructParents, a link's
  /StructParent) are renumbered in page order; marked-content ids are per
  page, so they stay as they are (PDF 1.7, 14.7.4);
- the outline (bookmarks): WeasyPrint nests headings under the part's h1, so
  the parts' top-level items, one after another, are the whole pack's;
- named destinations: the contents links to ``#case-N``; the front names it
  on its own contents line, and the case's part names its first page, which
  wins;
- the language, the title shown in the window, and "Page N of M" at the foot
  of each page (drawn here as a pagination artifact, in the same font, size
  and place as the footer of ``includes/pdf_base.html``, which parts leave
  out because a part does not know its page numbers).

https://opensource.adobe.com/dc-acrobat-sdk-docs/pdfstandards/PDF32000_2008.pdf
"""

import io
import warnings

import pikepdf
from pikepdf import Array, Dictionary, Name

from .watermark import MM, stamp_sample, strip_font

# The footer's "Page N of M" in includes/pdf_base.html: DejaVu Sans 9 pt,
# black, ending at the right margin (18 mm), baseline as WeasyPrint sets it
# in the 20 mm bottom margin (measured from its output).
PAGE_NUMBER = {"size": 9, "right": 18 * MM, "baseline": 25.231}
PAGE_NUMBER_FONT = Name("/PortalPageNumber")


def pack_assemble(parts: list[bytes]) -> bytes:
    """One tagged PDF of ``parts`` (the front first), with page numbers."""
    out = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(part)) for part in parts]
    sample = stamp_sample()
    try:
        tree = out.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        document = out.make_indirect(
            Dictionary(Type=Name.StructElem, S=Name.Document, P=tree, K=Array())
        )
        tree.K = Array([document])
        # The parent tree's keys and values, flat: built as a list, because
        # pikepdf's Array.extend copies the array (quadratic over a pack).
        nums: list = []
        destinations, outline = {}, []
        for source in sources:
            first = len(out.pages)
            with warnings.catch_warnings():
                # Named destinations are carried over below (_destinations).
                warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
                out.pages.extend(source.pages)
            _join_tags(out, source, first, tree, document, nums)
            destinations.update(_destinations(out, source))
            outline.extend(_outline_items(out, source))
        tree.ParentTree = out.make_indirect(Dictionary(Nums=Array(nums)))
        tree.ParentTreeNextKey = len(nums) // 2
        front = sources[0].Root
        if "/Namespaces" in front.StructTreeRoot:
            namespace = out.copy_foreign(front.StructTreeRoot.Namespaces[0])
            tree.Namespaces = Array([namespace])
            document.NS = namespace
        out.Root.StructTreeRoot = tree
        out.Root.MarkInfo = Dictionary(Marked=True)
        out.Root.Lang = front.Lang
        out.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        out.docinfo = out.make_indirect(
            Dictionary(
                {k: pikepdf.String(str(v)) for k, v in sources[0].docinfo.items()}
            )
        )
        if destinations:
            flat = Array()
            for name in sorted(destinations, key=lambda n: n.encode()):
                flat.extend([pikepdf.String(name), destinations[name]])
            out.Root.Names = Dictionary(Dests=Dictionary(Names=flat))
        _link_outline(out, outline)
        _draw_page_numbers(out, sample)
        buffer = io.BytesIO()
        out.save(buffer)
        return buffer.getvalue()
    finally:
        for source in sources:
            source.close()
        sample.close()
        out.close()


def _join_tags(out, source, first: int, tree, document, nums: list) -> None:
    """Move ``source``'s tag tree under ``document``, renumbering its parent
    tree keys after those already in ``nums``."""
    root = source.Root.StructTreeRoot
    source_nums = root.ParentTree.Nums  # WeasyPrint writes one flat array
    copied_document = out.copy_foreign(root.K[0])
    keys = {}
    for index in range(0, len(source_nums), 2):
        keys[int(source_nums[index])] = len(nums) // 2
        value = source_nums[index + 1]
        if isinstance(value, Array):
            value = Array([out.copy_foreign(element) for element in value])
        else:
            value = out.copy_foreign(value)
        nums.extend([len(nums) // 2, value])
        # Elements of the margins (the running marking, the footer note) hang
        # from the part's Document element without being its children, as in
        # a whole pack; they now hang from the pack's.
        for element in value if isinstance(value, Array) else [value]:
            if element.get("/P") is not None and (
                element.P.objgen == copied_document.objgen
            ):
                element.P = document
    for kid in copied_document.K:
        kid.P = document
        document.K.append(kid)
    for page in out.pages[first:]:
        if "/StructParents" in page.obj:
            page.obj.StructParents = keys[int(page.obj.StructParents)]
        for annotation in page.obj.get("/Annots", Array()):
            if "/StructParent" in annotation:
                annotation.StructParent = keys[int(annotation.StructParent)]


def _destinations(out, source) -> dict[str, Array]:
    names = source.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    flat = names.Dests.Names
    found = {}
    for index in range(0, len(flat), 2):
        target = flat[index + 1]
        found[str(flat[index])] = Array([out.copy_foreign(target[0]), *target[1:]])
    return found


def _outline_items(out, source) -> list:
    outlines = source.Root.get("/Outlines")
    items = []
    item = outlines.get("/First") if outlines is not None else None
    while item is not None:
        items.append(out.copy_foreign(item))
        item = item.get("/Next")
    return items


def _link_outline(out, items: list) -> None:
    if not items:
        return
    root = out.make_indirect(Dictionary(Type=Name.Outlines))
    count = 0
    for index, item in enumerate(items):
        item.Parent = root
        for link in ("/Prev", "/Next"):
            if link in item:
                del item[link]
        if index:
            item.Prev = items[index - 1]
            items[index - 1].Next = item
        count += 1 + max(0, int(item.get("/Count", 0)))
    root.First, root.Last, root.Count = items[0], items[-1], count
    out.Root.Outlines = root


def _draw_page_numbers(out, sample) -> None:
    font, metrics = strip_font(out, sample)
    total = len(out.pages)
    size = PAGE_NUMBER["size"]
    # The page's own drawing may leave its coordinates changed (WeasyPrint
    # flips them), so it is wrapped in q ... Q before the number is drawn.
    save_state = out.make_indirect(pikepdf.Stream(out, b"q\n"))
    for number, page in enumerate(out.pages, start=1):
        text = f"Page {number} of {total}"
        name = page.add_resource(font, Name.Font, PAGE_NUMBER_FONT)
        left, _bottom, right, _top = (float(v) for v in page.mediabox)
        x = right - PAGE_NUMBER["right"] - metrics.width(text, size)
        drawing = (
            f"\nQ\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n"
            f"q 0 0 0 rg BT {name} {size} Tf 1 0 0 1 {x:.3f} "
            f"{PAGE_NUMBER['baseline']:.3f} Tm <{metrics.hex(text)}> Tj ET Q\nEMC\n"
        ).encode()
        page.contents_add(save_state, prepend=True)
        page.contents_add(out.make_indirect(pikepdf.Stream(out, drawing)))
