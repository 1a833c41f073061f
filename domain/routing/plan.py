"""A routing plan: a tree of ``{action, data, children: {branch: node}}`` flattened to nodes by id.

Invariant: every node has a unique id (given, or derived from its path: ``root.1._``); a child
may be a nested node or the id of another node (a reference, for "go to").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class PlanError(ValueError):
    """A plan document that cannot be used; ``node`` names where."""

    def __init__(self, node: str, message: str) -> None:
        super().__init__(f"node {node!r}: {message}")
        self.node = node
        self.message = message


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    action: str
    data: Mapping[str, Any] = field(default_factory=dict)
    children: Mapping[str, str] = field(default_factory=dict)

    def child(self, branch: str) -> str | None:
        """The node id for a branch, falling back to the default branch ``_``."""
        return self.children.get(branch) or self.children.get("_")


@dataclass(frozen=True, slots=True)
class Plan:
    plan_id: str
    version: int
    root: str
    nodes: Mapping[str, Node]
    document: Mapping[str, Any] = field(default_factory=dict)

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise PlanError(node_id, "no such node in the plan") from None


def parse_plan(plan_id: str, version: int, document: Mapping[str, Any]) -> Plan:
    """Flatten a plan document; raise PlanError on a structural problem (ids, shapes)."""
    root_doc = document.get("root", document)
    if not isinstance(root_doc, Mapping):
        raise PlanError("root", "the plan must be an object with an 'action'")
    nodes: dict[str, Node] = {}
    refs: list[tuple[str, str]] = []
    stack: list[tuple[Mapping[str, Any], str]] = [(root_doc, "root")]
    # Optional detached nodes ``{"root": ..., "nodes": {id: node}}``, reached through id references.
    detached = document.get("nodes", {}) if "root" in document else {}
    if not isinstance(detached, Mapping):
        raise PlanError("nodes", "'nodes' must be an object of node id -> node")
    for key, doc in detached.items():
        if not isinstance(doc, Mapping):
            raise PlanError(str(key), "a node must be an object with an 'action'")
        stack.append(({"id": str(key), **doc}, str(key)))
    while stack:
        doc, default_id = stack.pop()
        node_id = str(doc.get("id") or default_id)
        if node_id in nodes:
            raise PlanError(node_id, "duplicate node id")
        action = doc.get("action")
        if not isinstance(action, str) or not action:
            raise PlanError(node_id, "'action' must be a non-empty string")
        data = doc.get("data", {})
        if not isinstance(data, Mapping):
            raise PlanError(node_id, "'data' must be an object")
        raw_children = doc.get("children", {})
        if not isinstance(raw_children, Mapping):
            raise PlanError(node_id, "'children' must be an object of branch -> node")
        children: dict[str, str] = {}
        for branch, child in raw_children.items():
            if isinstance(child, str):
                children[str(branch)] = child
                refs.append((node_id, child))
            elif isinstance(child, Mapping):
                child_id = str(child.get("id") or f"{node_id}.{branch}")
                children[str(branch)] = child_id
                stack.append((child, child_id))
            else:
                raise PlanError(node_id, f"child {branch!r} must be a node object or a node id")
        nodes[node_id] = Node(node_id, action, dict(data), children)
    for owner, target in refs:
        if target not in nodes:
            raise PlanError(owner, f"refers to unknown node {target!r}")
    root_id = str(root_doc.get("id") or "root")
    return Plan(plan_id, version, root_id, nodes, dict(document))
