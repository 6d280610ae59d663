"""A little HTML reading for page tests, on the standard library's parser."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


def _matches(element: Element, tag: str | None, attrs: dict[str, str]) -> bool:
    if tag and element.tag != tag:
        return False
    for name, value in attrs.items():
        if name == "class_":
            if value not in element.attrs.get("class", "").split():
                return False
        elif element.attrs.get(name.rstrip("_").replace("_", "-")) != value:
            return False
    return True


class Searchable:
    """Find descendants by tag and attributes (``class_`` matches one class)."""

    def iter(self):
        raise NotImplementedError

    def all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        return [element for element in self.iter() if _matches(element, tag, attrs)]

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"expected one {tag} {attrs}, found {len(found)}"
        return found[0]


@dataclass(eq=False)
class Element(Searchable):
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's text with whitespace collapsed."""
        parts: list[str] = []

        def walk(node: Element) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v if v is not None else "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(
            Element(tag, {k: v if v is not None else "" for k, v in attrs}, self.current)
        )

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


class Page(Searchable):
    """A parsed page: find elements by id, tag or class, read their text."""

    def __init__(self, html: str) -> None:
        builder = _TreeBuilder()
        builder.feed(html)
        builder.close()
        self.root = builder.root
        self.html = html

    def iter(self):
        return self.root.iter()

    def by_id(self, element_id: str) -> Element:
        return self.one(id=element_id)

    def has_id(self, element_id: str) -> bool:
        return bool(self.all(id=element_id))

    @property
    def text(self) -> str:
        main = self.all("main")
        return (main[0] if main else self.root).text

    def duplicate_ids(self) -> list[str]:
        counts = Counter(e.attrs["id"] for e in self.root.iter() if "id" in e.attrs)
        return [element_id for element_id, n in counts.items() if n > 1]

    def unlabelled_controls(self) -> list[str]:
        """Names of form controls that no <label for> points at."""
        labelled = {e.attrs.get("for") for e in self.all("label")}
        missing = []
        for element in self.root.iter():
            if element.tag not in {"input", "select", "textarea"}:
                continue
            if element.attrs.get("type") in {"hidden", "submit", "button"}:
                continue
            if element.attrs.get("id") not in labelled:
                missing.append(element.attrs.get("name", "?"))
        return missing


def page(response) -> Page:
    return Page(response.get_data(as_text=True))
