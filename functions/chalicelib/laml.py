"""Render domain instructions as LaML (TwiML-compatible XML), deterministically.

Attributes are camelCase and sorted, booleans lower-case, documented gateway defaults omitted,
relative action URLs made absolute under the tenant's webhook base. Escaping is jinja2's XML
autoescape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from domain.instructions import Instruction

# Text content of each verb/noun; everything else is an attribute.
TEXT_FIELD = {"Say": "text", "Play": "url", "Number": "number", "Client": "identity", "Sip": "uri",
              "Queue": "name", "Conference": "name", "Enqueue": "name", "Redirect": "url"}
NESTED_FIELD = {"Gather": "prompts", "Dial": "targets"}
URL_ATTRS = {"action", "url", "wait_url", "status_callback", "recording_status_callback"}
# The gateway's documented defaults: leaving them out keeps documents short and stable.
DEFAULTS: dict[tuple[str, str], Any] = {
    ("Say", "loop"): 1, ("Play", "loop"): 1, ("Pause", "length"): 1, ("Gather", "input"): "dtmf",
    ("Gather", "timeout"): 5, ("Gather", "finish_on_key"): "#", ("Gather", "num_digits"): 0,
    ("Dial", "hangup_on_star"): False, ("Record", "timeout"): 5, ("Record", "play_beep"): True,
    ("Conference", "muted"): False, ("Conference", "start_conference_on_enter"): True,
    ("Conference", "end_conference_on_exit"): False, ("Conference", "beep"): True,
    ("Receive", "store_media"): True,
}
# An empty value that means something ("no finishing key") must still be rendered.
EMPTY_MEANINGFUL = {("Gather", "finish_on_key"), ("Record", "finish_on_key")}
_env = Environment(loader=PackageLoader("chalicelib", "templates"), autoescape=select_autoescape(["xml", "j2"]),
                   trim_blocks=True, lstrip_blocks=True)
_template = _env.get_template("laml.xml.j2")


@dataclass(frozen=True, slots=True)
class XmlNode:
    tag: str
    attrs: list[tuple[str, str]]
    children: list[XmlNode]
    text: str | None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def absolute(url: str, base: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    if url.startswith("/"):
        root = base.split("/webhooks/")[0]
        return root.rstrip("/") + url
    return base.rstrip("/") + "/" + url


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def to_node(i: Instruction, base: str) -> XmlNode:
    verb = i.verb
    text_field, nested_field = TEXT_FIELD.get(verb), NESTED_FIELD.get(verb)
    attrs: list[tuple[str, str]] = []
    text: str | None = None
    children: list[XmlNode] = []
    for f in fields(i):  # type: ignore[arg-type]
        v = getattr(i, f.name)
        if f.name == text_field:
            text = absolute(v, base) if verb in ("Play", "Redirect") else str(v)
        elif f.name == nested_field:
            children = [to_node(c, base) for c in v]
        elif (v == "" and (verb, f.name) not in EMPTY_MEANINGFUL) or DEFAULTS.get((verb, f.name), object()) == v and type(v) is type(DEFAULTS[(verb, f.name)]):
            continue
        else:
            attrs.append((camel(f.name), absolute(v, base) if f.name in URL_ATTRS else _value(v)))
    if verb == "Redirect":
        attrs.append(("method", "POST"))
    return XmlNode(verb, sorted(attrs), children, text)


def _tokens(node: XmlNode, out: list[tuple[str, str, list[tuple[str, str]], str]]) -> None:
    """Flatten a node into open / empty / close tokens: the template loops once, no recursion."""
    if not node.children and node.text is None:
        out.append(("e", node.tag, node.attrs, ""))
        return
    out.append(("o", node.tag, node.attrs, node.text or ""))
    for child in node.children:
        _tokens(child, out)
    out.append(("c", node.tag, [], ""))


def render_laml(instructions: Iterable[Instruction], base: str) -> str:
    """The LaML document for ``instructions``; ``base`` is the tenant's absolute webhook base URL."""
    tokens: list[tuple[str, str, list[tuple[str, str]], str]] = []
    for i in instructions:
        _tokens(to_node(i, base), tokens)
    return _template.render(tokens=tokens)
