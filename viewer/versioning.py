"""What the version pages show about the rules of DESIGN.md section 2: which actions a version allows (and
why not, for the tooltip of a disabled button), and the versions as a tree. The services enforce the rules;
this only decides what to offer."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse


@dataclass
class Action:
    key: str
    label: str
    url: str
    allowed: bool
    why_not: str = ""
    style: str = ""  # "", "primary", "danger"


OWNERS_ONLY = "Only an owner of this dataset can do this"


def version_actions(version, *, owner: bool) -> list[Action]:
    """Actions in the order the header shows them, allowed when the rules and the user's role (`owner`) allow
    them. Rename works on every version (a name is a label)."""
    published = version.is_published

    def url(name):
        return reverse(f"viewer:version-{name}", args=[version.pk])

    actions = [
        Action("child", "New child", url("child"), published, "Publish this draft first: children start from a published version", "primary" if published else ""),
        Action("snapshot", "Snapshot", url("snapshot"), not published, "Already published: a snapshot publishes a draft", "primary" if not published else ""),
        Action("publish", "Publish", url("publish"), not published, "Already published", ""),
        Action("edit", "Rename", url("edit"), True, "", ""),
        Action("delete", "Delete", url("delete"), not published, "Published versions cannot be deleted; only drafts can", "danger"),
    ]
    if not owner:
        for action in actions:
            action.allowed, action.why_not = False, OWNERS_ONLY
    return actions


@dataclass
class TreeNode:
    version: object
    children: list["TreeNode"] = field(default_factory=list)


def version_tree(versions) -> list[TreeNode]:
    """Roots (versions without a parent) with their children, each level in creation order."""
    nodes = {v.pk: TreeNode(v) for v in versions}
    roots = []
    for version in sorted(versions, key=lambda v: v.seq):
        node = nodes[version.pk]
        parent = nodes.get(version.parent_id)
        (parent.children if parent else roots).append(node)
    return roots
