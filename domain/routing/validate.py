"""Check a plan document (and the configuration it points into) before it can reach a call.

Invariant: ``validate_plan`` returns every problem it finds, each naming the node and a JSON
pointer into the document; an empty list means the plan parses, every action exists and gets data
its schema accepts, every reference resolves, every node is reachable from the root, and no cycle
of nodes can spin without handing control back to the caller (an action that waits).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

import domain.actions  # noqa: F401  (registers the built-in actions)
from domain.actions.base import REGISTRY, waits
from domain.tenant import TenantSnapshot

# Node data fields that name configuration, whichever action uses them.
REFERENCE_FIELDS: Mapping[str, str] = {
    "extension": "extensions", "extensions": "extensions", "group": "groups", "box": "voicemail_boxes",
    "schedule": "schedules", "room": "conferences", "audio": "audio", "greeting_audio": "audio",
    "queue": "queues",
}
# Fields with one of those names that mean something else for one action (a bridge's room is the
# call's own ad-hoc conference, not a configured room).
NOT_REFERENCES = frozenset({("bridge", "room")})
SINGULAR = {"extensions": "extension", "groups": "group", "voicemail_boxes": "voicemail box",
            "schedules": "schedule", "conferences": "conference room", "audio": "audio file", "plans": "plan",
            "queues": "queue"}


@dataclass(frozen=True, slots=True)
class Problem:
    node: str
    pointer: str
    message: str


@dataclass(frozen=True, slots=True)
class Reference:
    """``owner`` (e.g. ``plan 'main' node 'sales'``) points at ``section/target`` from ``pointer``."""

    owner: str
    pointer: str
    section: str
    target: str


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True, slots=True)
class _Entry:
    node_id: str
    pointer: str
    doc: Mapping[str, Any]


def _walk(document: Mapping[str, Any], problems: list[Problem]) -> tuple[list[_Entry], list[tuple[str, str, str]]]:
    """Nodes in document order (ids as parse_plan derives them) and (owner, pointer, target) id references."""
    entries: list[_Entry] = []
    refs: list[tuple[str, str, str]] = []
    root_key = "/root" if "root" in document else ""
    root_doc = document.get("root", document)
    stack: list[tuple[Any, str, str]] = [(root_doc, "root", root_key)]
    detached = document.get("nodes", {}) if "root" in document else {}
    if not isinstance(detached, Mapping):
        problems.append(Problem("", "/nodes", "'nodes' must be an object of node id -> node"))
        detached = {}
    stack.extend((doc, str(key), f"/nodes/{escape(str(key))}") for key, doc in reversed(list(detached.items())))
    while stack:
        doc, default_id, pointer = stack.pop()
        if not isinstance(doc, Mapping):
            problems.append(Problem(default_id, pointer, "a node must be an object with an 'action'"))
            continue
        node_id = str(doc.get("id") or default_id)
        entries.append(_Entry(node_id, pointer, doc))
        children = doc.get("children", {})
        if not isinstance(children, Mapping):
            problems.append(Problem(node_id, f"{pointer}/children", "'children' must be an object of branch -> node"))
            continue
        for branch, child in reversed(list(children.items())):
            child_pointer = f"{pointer}/children/{escape(str(branch))}"
            if isinstance(child, str):
                refs.append((node_id, child_pointer, child))
            else:
                stack.append((child, f"{node_id}.{branch}", child_pointer))
    return entries, refs


def _schema_problems(entry: _Entry, schema: Mapping[str, Any], data: Any) -> Iterator[Problem]:
    for error in sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "".join(f"/{escape(str(p))}" for p in error.absolute_path)
        yield Problem(entry.node_id, f"{entry.pointer}/data{where}", f"{error.message}")


def plan_references(document: Mapping[str, Any], owner: str) -> list[Reference]:
    """Every configuration id a plan document's nodes name (through REFERENCE_FIELDS)."""
    entries, _ = _walk(document, [])
    out: list[Reference] = []
    for entry in entries:
        data = entry.doc.get("data")
        if not isinstance(data, Mapping):
            continue
        for name, section in REFERENCE_FIELDS.items():
            if (entry.doc.get("action"), name) in NOT_REFERENCES:
                continue
            value = data.get(name)
            targets = value if isinstance(value, list) else [value] if isinstance(value, str) else []
            for i, target in enumerate(targets):
                suffix = f"/{i}" if isinstance(value, list) else ""
                out.append(Reference(f"{owner} node {entry.node_id!r}", f"{entry.pointer}/data/{name}{suffix}",
                                     section, str(target)))
    return out


def _cycles(edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Strongly connected components with a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in edges:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = [s for s in edges.get(node, ()) if s in edges]
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    out.append(sorted(component))
    return out


def validate_plan(document: Any, tenant: TenantSnapshot) -> list[Problem]:
    """Every reason this plan document must not be published for this tenant (empty: it may)."""
    if not isinstance(document, Mapping):
        return [Problem("", "", "a plan must be a JSON object with a root node")]
    problems: list[Problem] = []
    entries, refs = _walk(document, problems)
    ids: dict[str, _Entry] = {}
    for entry in entries:
        if entry.node_id in ids:
            problems.append(Problem(entry.node_id, f"{entry.pointer}/id", f"duplicate node id {entry.node_id!r}"))
            continue
        ids[entry.node_id] = entry
        action_name = entry.doc.get("action")
        action = REGISTRY.get(action_name) if isinstance(action_name, str) else None
        if action is None:
            known = ", ".join(sorted(REGISTRY))
            problems.append(Problem(entry.node_id, f"{entry.pointer}/action",
                                    f"unknown action {action_name!r} (known: {known})"))
        data = entry.doc.get("data", {})
        if not isinstance(data, Mapping):
            problems.append(Problem(entry.node_id, f"{entry.pointer}/data", "'data' must be an object"))
        elif action is not None:
            problems.extend(_schema_problems(entry, action.schema, data))
    for owner, pointer, target in refs:
        if target not in ids:
            problems.append(Problem(owner, pointer, f"refers to unknown node {target!r}"))
    for ref in plan_references(document, "plan"):
        if ref.target not in tenant.section(ref.section):
            node = ref.owner.split("node ", 1)[1].strip("'")
            problems.append(Problem(node, ref.pointer, f"no {SINGULAR[ref.section]} {ref.target!r} in the configuration"))
    edges: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for entry in entries:
        children = entry.doc.get("children", {})
        for child in (children.values() if isinstance(children, Mapping) else ()):
            target = child if isinstance(child, str) else str(child.get("id") or "") if isinstance(child, Mapping) else ""
            if target:
                edges.setdefault(entry.node_id, []).append(target)
    _derived_child_ids(entries, edges)
    for cycle in _cycles(edges):
        if not any(waits(str(ids[n].doc.get("action", ""))) for n in cycle if n in ids):
            problems.append(Problem(cycle[0], ids[cycle[0]].pointer,
                                    f"nodes {cycle} form a loop in which no action waits for the caller"))
    root_doc = document.get("root", document)
    root_id = str(root_doc.get("id") or "root") if isinstance(root_doc, Mapping) else "root"
    reachable = _reachable(root_id, edges)
    for node_id, entry in ids.items():
        if node_id not in reachable:
            problems.append(Problem(node_id, entry.pointer, f"node {node_id!r} cannot be reached from the root"))
    return problems


def _derived_child_ids(entries: list[_Entry], edges: dict[str, list[str]]) -> None:
    """Nested children without an ``id`` get ``<parent>.<branch>``: add those edges too."""
    for entry in entries:
        children = entry.doc.get("children", {})
        if not isinstance(children, Mapping):
            continue
        for branch, child in children.items():
            if isinstance(child, Mapping) and not child.get("id"):
                edges.setdefault(entry.node_id, []).append(f"{entry.node_id}.{branch}")


def _reachable(root: str, edges: Mapping[str, Sequence[str]]) -> set[str]:
    seen = {root}
    todo = [root]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def config_references(config: Mapping[str, Any]) -> list[Reference]:
    """References between configuration items (group members, mailboxes, schedules, audio, plans)."""
    out: list[Reference] = []

    def items(section: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        value = config.get(section) or {}
        for key, item in (value.items() if isinstance(value, Mapping) else ()):
            if isinstance(item, Mapping):
                yield str(key), item

    for ext, item in items("extensions"):
        owner = f"extension {ext!r}"
        if isinstance(item.get("voicemail"), str):
            out.append(Reference(owner, "/voicemail", "voicemail_boxes", item["voicemail"]))
        forwarding = item.get("forwarding")
        for kind, rule in (forwarding.items() if isinstance(forwarding, Mapping) else ()):
            if isinstance(rule, Mapping) and isinstance(rule.get("schedule"), str):
                out.append(Reference(owner, f"/forwarding/{kind}/schedule", "schedules", rule["schedule"]))
    for gid, item in items("groups"):
        members = item.get("members")
        for i, member in enumerate(members if isinstance(members, list) else []):
            out.append(Reference(f"group {gid!r}", f"/members/{i}", "extensions", str(member)))
        if isinstance(item.get("voicemail"), str):
            out.append(Reference(f"group {gid!r}", "/voicemail", "voicemail_boxes", item["voicemail"]))
    for qid, item in items("queues"):
        members = item.get("members")
        for i, member in enumerate(members if isinstance(members, list) else []):
            # a member is an extension, or {"agent": extension, "penalty": n}
            agent = member.get("agent") if isinstance(member, Mapping) else member
            pointer = f"/members/{i}/agent" if isinstance(member, Mapping) else f"/members/{i}"
            out.append(Reference(f"queue {qid!r}", pointer, "extensions", str(agent)))
    for box, item in items("voicemail_boxes"):
        if isinstance(item.get("greeting_audio"), str):
            out.append(Reference(f"voicemail box {box!r}", "/greeting_audio", "audio", item["greeting_audio"]))
    for number, item in items("numbers"):
        if isinstance(item.get("plan"), str):
            out.append(Reference(f"number {number!r}", "/plan", "plans", item["plan"]))
    if isinstance(config.get("hold_music"), str):
        out.append(Reference("tenant settings", "/hold_music", "audio", str(config["hold_music"])))
    return out


def all_references(tenant: TenantSnapshot) -> list[Reference]:
    """Configuration references plus those of every plan's current published version."""
    out = config_references(tenant.config)
    for plan_id, plan in sorted(tenant.plans.items()):
        out.extend(plan_references(plan.document, f"plan {plan_id!r} v{plan.version}"))
    return out


def dangling(tenant: TenantSnapshot) -> list[Reference]:
    """References whose target does not exist."""
    def exists(ref: Reference) -> bool:
        if ref.section == "plans":
            return ref.target in tenant.plans
        return ref.target in tenant.section(ref.section)

    return [ref for ref in all_references(tenant) if not exists(ref)]
