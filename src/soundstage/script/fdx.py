"""Final Draft (``.fdx``) screenplays: reading them into the model and writing them back.

An FDX file is XML: ``<FinalDraft><Content>`` holds one ``<Paragraph Type="...">`` per
screenplay paragraph, each with ``<Text>`` runs that carry the styling; ``<TitlePage>`` holds
the title page as loosely laid-out paragraphs. The reader maps paragraph types onto
``Kind`` and run styles onto Fountain emphasis markers, so the rest of Soundstage sees the
same shape as for a Fountain file. The parser is lxml, hardened: no DTD loading, no entity
substitution, no network, no huge trees, and a document that declares entities is refused,
so a hostile file cannot expand into gigabytes ("billion laughs") or reach outside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lxml import etree

from soundstage.errors import ScriptError
from soundstage.script.eighths import format_eighths, page_eighths, parse_eighths
from soundstage.script.model import SPOKEN, Element, Kind, Scene, Script

# Paragraph types read as plain kinds. "Shot" has no Fountain counterpart and reads as
# action; "General" is Final Draft's untyped paragraph. Types not listed here and not in
# _IGNORED are read as action so that no printed text is lost.
_KIND_OF_TYPE = {
    "Action": Kind.ACTION,
    "General": Kind.ACTION,
    "Shot": Kind.ACTION,
    "Character": Kind.CHARACTER,
    "Parenthetical": Kind.PARENTHETICAL,
    "Dialogue": Kind.DIALOGUE,
    "Lyrics": Kind.LYRICS,
    "Transition": Kind.TRANSITION,
}
_TYPE_OF_KIND = {
    Kind.ACTION: "Action",
    Kind.CENTERED: "Action",
    Kind.CHARACTER: "Character",
    Kind.PARENTHETICAL: "Parenthetical",
    Kind.DIALOGUE: "Dialogue",
    Kind.LYRICS: "Lyrics",
    Kind.TRANSITION: "Transition",
}
# Final Draft generates the cast list itself; it is not part of the story.
_IGNORED = frozenset({"Cast List"})
# Element types Final Draft's default template shows in capitals whatever was typed.
_DEFAULT_ALL_CAPS = frozenset({"Scene Heading", "Character", "Transition", "Shot"})

_CUE = re.compile(r"^(?P<name>[^(]*?)\s*(?P<extensions>(?:\([^()]*\)\s*)*)$")
_EXTENSION = re.compile(r"\(([^()]*)\)")
# lxml appends the position to its message; the line goes into ScriptError separately.
_POSITION_SUFFIX = re.compile(r",? line \d+, column \d+$")
# Fountain emphasis marker for each Final Draft run style, outermost first.
_MARKERS = (("Underline", "_"), ("Bold", "**"), ("Italic", "*"))
_EMPHASIS_TOKEN = re.compile(r"(\\[*_]|\*\*\*|\*\*|\*|_)")
_STYLES_OF_MARKER = {"***": {"Bold", "Italic"}, "**": {"Bold"}, "*": {"Italic"}, "_": {"Underline"}}
_CREDIT_WORDS = re.compile(r"^(written|screenplay|story|teleplay|adapted|directed)?\s*(by|and)\b", re.IGNORECASE)
_DATE_LIKE = re.compile(r"\b(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|draft|revised|revision|19\d\d|20\d\d)\b", re.IGNORECASE)
_COPYRIGHT = re.compile(r"copyright|\(c\)|©", re.IGNORECASE)
# The title-page keys of the Fountain syntax; a block starting "Notes: ..." is that key. Only
# these: a contact line such as "Email: ..." must stay part of the Contact.
_TITLE_KEYS = (
    "Title",
    "Credit",
    "Author",
    "Authors",
    "Source",
    "Draft date",
    "Date",
    "Contact",
    "Copyright",
    "Notes",
    "Revision",
)
_LABELLED = re.compile(rf"^(?P<key>{'|'.join(_TITLE_KEYS)}):[ \t]*", re.IGNORECASE)

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
    remove_pis=True,
)


# --------------------------------------------------------------------------- reading


def parse_fdx(data: bytes, source: str = "") -> Script:
    """Read a Final Draft document into a ``Script``.

    ``source`` names the file in error messages. Raises ``ScriptError`` for XML that is not
    well-formed (with the line lxml reports), for a document that declares entities, and
    for XML that is not a Final Draft document.
    """
    path = source or None
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        message = _POSITION_SUFFIX.sub("", error.msg or "syntax error")
        raise ScriptError(f"not well-formed XML: {message}", path=path, line=error.lineno) from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ScriptError("declares XML entities; Final Draft files never do, so it is refused", path=path, line=1)
    if root.tag != "FinalDraft":
        raise ScriptError(f"not a Final Draft document: the root element is <{root.tag}>, not <FinalDraft>", path=path)
    content = root.find("Content")
    if content is None:
        raise ScriptError("not a Final Draft script: the document has no <Content>", path=path)

    script = Script(source=source, format="fdx", title_page=_read_title_page(root.find("TitlePage")))
    _read_content(content, script, _all_caps_types(root))
    return script


def _all_caps_types(root: etree._Element) -> frozenset[str]:
    """Paragraph types whose template style is AllCaps (the document's own, else the default)."""
    settings = root.findall("ElementSettings")
    if not settings:
        return _DEFAULT_ALL_CAPS
    return frozenset(s.get("Type", "") for s in settings if "AllCaps" in _styles(s.find("FontSpec")))


def _styles(element: etree._Element | None) -> set[str]:
    style = element.get("Style", "") if element is not None else ""
    return set(style.split("+")) if style else set()


def _paragraph_text(paragraph: etree._Element, all_caps: bool = False) -> str:
    """The paragraph's ``<Text>`` runs joined, styles as Fountain emphasis markers.

    Markers open and close only where the style changes, so an italic line with one word
    also in bold reads ``*a **b** c*`` as a writer would type it. Markers hug the text:
    spaces at a style change stay outside them, as Fountain requires.
    """
    out = ""
    open_markers: list[str] = []  # outermost first
    for run in paragraph.iterfind("Text"):
        # Literal * and _ are escaped so that they stay text, not emphasis.
        text = (run.text or "").replace("*", "\\*").replace("_", "\\_")
        styles = _styles(run)
        if all_caps or "AllCaps" in styles:
            text = text.upper()
        wanted = [marker for style, marker in _MARKERS if style in styles]
        kept = 0
        while kept < len(open_markers) and open_markers[kept] in wanted:
            kept += 1
        out = _closed(out, open_markers[kept:])
        del open_markers[kept:]
        if not text.strip():  # Fountain opens no emphasis before a space
            out += text
            continue
        opening = [m for m in wanted if m not in open_markers]
        open_markers.extend(opening)
        core = text.lstrip()
        out += text[: len(text) - len(core)] + "".join(opening) + core
    return _closed(out, open_markers).strip()


def _closed(text: str, markers: list[str]) -> str:
    """``text`` with closing ``markers`` (given outermost first) before its trailing spaces."""
    core = text.rstrip()
    return core + "".join(reversed(markers)) + text[len(core) :]


def _read_content(content: etree._Element, script: Script, all_caps: frozenset[str]) -> None:
    """Turn the ``<Content>`` paragraphs into the preamble and scenes of ``script``."""
    target = script.preamble
    speaker = ""
    for paragraph, dual in _paragraphs(content):
        kind_name = paragraph.get("Type", "General")
        if kind_name in _IGNORED:
            continue
        if paragraph.get("StartsNewPage") == "Yes":
            target.append(Element(Kind.PAGE_BREAK, "", paragraph.sourceline or 0))
        text = _paragraph_text(paragraph, kind_name in all_caps)
        if not text:
            continue
        line = paragraph.sourceline or 0
        if kind_name == "Scene Heading":
            scene = Scene(
                heading=text,
                line=line,
                number=paragraph.get("Number") or None,
                saved_eighths=_saved_length(paragraph),
            )
            script.scenes.append(scene)
            target, speaker = scene.elements, ""
            continue
        kind = _KIND_OF_TYPE.get(kind_name, Kind.ACTION)
        if kind is Kind.ACTION and paragraph.get("Alignment") == "Center":
            kind = Kind.CENTERED
        if kind is Kind.CHARACTER:
            speaker, extensions = split_cue(text)
            target.append(Element(kind, text, line, character=speaker, extensions=extensions, dual=dual))
        elif kind in SPOKEN:
            target.append(Element(kind, text, line, character=speaker, dual=dual and bool(speaker)))
        else:
            speaker = ""
            target.append(Element(kind, text, line))


def _paragraphs(content: etree._Element) -> Iterator[tuple[etree._Element, bool]]:
    """Content paragraphs in order, with whether each belongs to a dual dialogue's second speaker.

    Final Draft wraps a dual-dialogue pair as ``<Paragraph><DualDialogue>`` holding both
    dialogue blocks; the block that starts at the second cue is the one Fountain marks ``^``.
    """
    for paragraph in content.iterchildren("Paragraph", "DualDialogue"):
        pair = paragraph if paragraph.tag == "DualDialogue" else paragraph.find("DualDialogue")
        if pair is None:
            yield paragraph, False
            continue
        cues = 0
        for inner in pair.iterchildren("Paragraph"):
            cues += inner.get("Type") == "Character"
            yield inner, cues >= 2


def split_cue(cue: str) -> tuple[str, tuple[str, ...]]:
    """Split a character cue into the name and its extensions: ``EDWARD (V.O.)`` -> EDWARD, (V.O.,)."""
    match = _CUE.match(cue.strip())
    if match is None:  # a parenthesis inside the name; keep the cue whole
        return cue.strip(), ()
    extensions = tuple(e.strip() for e in _EXTENSION.findall(match["extensions"]))
    return match["name"], extensions


def _saved_length(heading: etree._Element) -> int | None:
    properties = heading.find("SceneProperties")
    return parse_eighths(properties.get("Length", "")) if properties is not None else None


def _read_title_page(title_page: etree._Element | None) -> dict[str, str]:
    """Best-effort title page keys from Final Draft's free layout.

    Final Draft stores no keys, only paragraphs. Blocks are runs of non-empty paragraphs.
    A block whose first line starts with a Fountain title-page key and a colon ("Notes:",
    "Draft date:") is that key. Otherwise, centred blocks: the first is the Title, a
    "Written by"-like block before the author is the Credit, the next block the Author and any
    later ones the Source. Other blocks: one naming a copyright is the Copyright, a date-like
    one the Draft date, the rest Contact.
    """
    content = title_page.find("Content") if title_page is not None else None
    if content is None:
        return {}
    keys: dict[str, str] = {}
    for centred, text in _title_blocks(content):
        key, text = _title_key(centred, text, keys)
        keys[key] = f"{keys[key]}\n{text}" if key in keys else text
    return keys


def _title_key(centred: bool, text: str, keys: dict[str, str]) -> tuple[str, str]:
    """The key of a title-page block (given the keys read before it) and its text."""
    labelled = _LABELLED.match(text)
    if labelled:
        return labelled["key"], text[labelled.end() :]
    if centred and "Title" not in keys:
        return "Title", text
    if centred and "Credit" not in keys and "Author" not in keys and _CREDIT_WORDS.match(text):
        return "Credit", text
    if centred and "Author" not in keys:
        return "Author", text
    if centred:
        return "Source", text
    if _COPYRIGHT.search(text) and "Copyright" not in keys:
        return "Copyright", text
    if _DATE_LIKE.search(text) and "Draft date" not in keys:
        return "Draft date", text
    return "Contact", text


def _title_blocks(content: etree._Element) -> Iterator[tuple[bool, str]]:
    lines: list[str] = []
    centred = False
    for paragraph in content.iterfind("Paragraph"):
        text = _paragraph_text(paragraph)
        if text:
            centred = centred or paragraph.get("Alignment") == "Center"
            lines.append(text)
            continue
        if lines:
            yield centred, "\n".join(lines)
        lines, centred = [], False
    if lines:
        yield centred, "\n".join(lines)


# --------------------------------------------------------------------------- writing


def write_fdx(script: Script) -> bytes:
    """Write ``script`` as a Final Draft document (UTF-8 XML) that ``parse_fdx`` reads back.

    Scene lengths come from the pagination model (``eighths.page_eighths``). Sections,
    synopses and notes are writer's aids with no place in Final Draft's ``<Content>`` and are
    left out; a page break becomes ``StartsNewPage`` on the paragraph after it.
    """
    root = etree.Element("FinalDraft", DocumentType="Script", Template="No", Version="5")
    content = etree.SubElement(root, "Content")
    writer = _ContentWriter(content)
    writer.write_elements(script.preamble)
    for scene, eighths in zip(script.scenes, page_eighths(script), strict=True):
        heading = writer.paragraph("Scene Heading", scene.heading)
        if scene.number:
            heading.set("Number", scene.number)
        properties = etree.Element("SceneProperties", Length=format_eighths(eighths))
        heading.insert(0, properties)
        writer.write_elements(scene.elements)
    root.append(_title_page(script.title_page))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True, standalone=False)


class _ContentWriter:
    """Appends paragraphs to ``<Content>``, wrapping dual-dialogue pairs as Final Draft does."""

    def __init__(self, content: etree._Element) -> None:
        self.content = content
        self.new_page = False
        self.last_cue: etree._Element | None = None  # first paragraph of the latest dialogue block
        self.pair: etree._Element | None = None  # the open <DualDialogue>, if any

    def paragraph(self, kind_name: str | None, text: str, parent: etree._Element | None = None) -> etree._Element:
        """Append a paragraph of ``kind_name`` (None: untyped, as on the title page) holding ``text``."""
        paragraph = etree.SubElement(self.content if parent is None else parent, "Paragraph")
        if kind_name is not None:
            paragraph.set("Type", kind_name)
        if self.new_page:
            paragraph.set("StartsNewPage", "Yes")
            self.new_page = False
        for run_text, style in _runs(text):
            run = etree.SubElement(paragraph, "Text")
            if style:
                run.set("Style", style)
            run.text = run_text
        self.pair = parent if parent is not None and parent.tag == "DualDialogue" else None
        return paragraph

    def write_elements(self, elements: Iterable[Element]) -> None:
        """Append the printed ``elements``; page breaks mark the paragraph that follows."""
        for element in elements:
            if element.kind is Kind.PAGE_BREAK:
                self.new_page = True
            elif element.kind is Kind.CHARACTER and element.dual and self.last_cue is not None:
                self.paragraph("Character", element.text, self._open_pair())
            elif element.kind is Kind.CHARACTER:
                self.last_cue = self.paragraph("Character", element.text)
            elif element.kind in SPOKEN:
                self.paragraph(_TYPE_OF_KIND[element.kind], element.text, self.pair if element.dual else None)
            elif element.kind in _TYPE_OF_KIND:
                paragraph = self.paragraph(_TYPE_OF_KIND[element.kind], element.text)
                if element.kind is Kind.CENTERED:
                    paragraph.set("Alignment", "Center")
                self.last_cue = None

    def _open_pair(self) -> etree._Element:
        """Move the latest dialogue block into a new ``<Paragraph><DualDialogue>`` and return it."""
        assert self.last_cue is not None
        block = [self.last_cue, *self.last_cue.itersiblings()]
        wrapper = etree.Element("Paragraph")
        self.last_cue.addprevious(wrapper)
        pair = etree.SubElement(wrapper, "DualDialogue")
        pair.extend(block)
        self.last_cue = None
        return pair


def _runs(text: str) -> Iterator[tuple[str, str]]:
    """Split Fountain-marked text into (text, Final Draft style) runs.

    Markers toggle their style; a marker kind that occurs an odd number of times has its
    last occurrence kept as text, as Fountain leaves an unclosed marker literal.
    """
    tokens = _EMPHASIS_TOKEN.split(text)
    unmatched = {m: i for m in ("***", "**", "*", "_") for i, t in enumerate(tokens) if t == m}
    unmatched = {m: i for m, i in unmatched.items() if tokens.count(m) % 2}
    active: set[str] = set()
    buffer, style = "", ""
    for i, token in enumerate(tokens):
        if i % 2 == 0 or unmatched.get(token) == i:
            buffer += token
            continue
        if token.startswith("\\"):
            buffer += token[1]
            continue
        if buffer:
            yield buffer, style
            buffer = ""
        active ^= _STYLES_OF_MARKER[token]
        style = "+".join(s for s in ("Bold", "Italic", "Underline") if s in active)
    if buffer or not text:
        yield buffer, style


def _title_page(title_page: dict[str, str]) -> etree._Element:
    """A ``<TitlePage>``: title, credit, author and source centred; the rest at the left.

    Final Draft keeps no keys, so ``_read_title_page`` tells them by place and wording; a block
    it would take for another key (notes that mention a year read as a draft date) is written
    with its key as a label, "Notes: ...", which it reads back as that key."""
    element = etree.Element("TitlePage")
    content = etree.SubElement(element, "Content")
    writer = _ContentWriter(content)
    centred = [k for k in ("Title", "Credit", "Author", "Source") if title_page.get(k)]
    others = [k for k in title_page if k not in centred and title_page[k]]
    read: dict[str, str] = {}
    for key in centred + others:
        text = title_page[key]
        if _title_key(key in centred, text, read) != (key, text):
            text = f"{key}: {text}"
        read[key] = text
        for line in text.split("\n"):
            writer.paragraph(None, line).set("Alignment", "Center" if key in centred else "Left")
        writer.paragraph(None, "")  # the empty paragraph that ends a block
    return element
