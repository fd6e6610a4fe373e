"""How the pages word a user's role in a dataset: the chip in the dataset and version headers, and what each
role may do (the Members tab's legend). frames.selectors.access decides who may do what; this only says it."""
from __future__ import annotations

from dataclasses import dataclass

from frames import selectors

ROLE_DOES = {
    selectors.VIEWER: "Viewers see the dataset: its versions, frames, statistics and exports.",
    selectors.ANNOTATOR: "Annotators also add, edit and delete the frames of draft versions.",
    selectors.OWNER: "Owners also make, publish and delete versions, edit or delete the dataset and manage its members.",
}
STAFF_DOES = "Staff see and manage every dataset, member or not."


@dataclass(frozen=True)
class RoleChip:
    role: str  # viewer | annotator | owner | staff (the CSS modifier too)
    title: str


def role_of(user, target) -> str:
    """The highest role the user has in the target's dataset (the role read with the target: no query)."""
    for role in (selectors.OWNER, selectors.ANNOTATOR):
        if selectors.allows(user, target, role):
            return role
    return selectors.VIEWER


def role_chip(user, target) -> RoleChip:
    """The user's role in the dataset of a dataset or version they can see, with what it allows."""
    if user.is_staff:
        return RoleChip("staff", f"You are staff. {STAFF_DOES}")
    role = role_of(user, target)
    return RoleChip(role, f"Your role in this dataset is {role}. {ROLE_DOES[role]}")
