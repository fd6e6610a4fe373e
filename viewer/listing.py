"""What the dataset list (home page) and the version tree show besides the rows themselves: the project groups,
the tag chips and filter links (each a URL, so every filter works without JavaScript and can be shared), the
remembered cards/table layout, and the version search of the tree.

Pure functions of what the selectors returned and the query string: no reads, no writes."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.http import QueryDict

VIEWS = ("cards", "table")
# The table stays the default (existing links, tests and habits); the cards are one click away and remembered.
DEFAULT_VIEW = "table"
VIEW_COOKIE = "datasets_view"
TAG_MODES = [("any", "Any", "Datasets with at least one of the chosen tags"),
             ("all", "All", "Datasets with every chosen tag"),
             ("not", "Not", "Datasets with none of the chosen tags")]
FILTER_KEYS = ("q", "project", "tag", "tag_mode", "created_by_me")


@dataclass
class ProjectGroup:
    project: object
    datasets: list = field(default_factory=list)
    may_manage: bool = False
    only_url: str = ""  # the list narrowed to this project


@dataclass(frozen=True)
class Chip:
    label: str
    count: int
    active: bool
    url: str


def chosen_view(query: QueryDict, cookies) -> tuple[str, str | None]:
    """The layout asked for (`?view=`), else the one remembered in a cookie, else the default; and an error
    naming the field when `?view=` is neither."""
    asked = query.get("view")
    if asked is not None and asked not in VIEWS:
        return DEFAULT_VIEW, f"view: must be one of {', '.join(VIEWS)}, not {asked!r}"
    remembered = cookies.get(VIEW_COOKIE)
    return asked or (remembered if remembered in VIEWS else DEFAULT_VIEW), None


def filter_data(query: QueryDict) -> QueryDict:
    """The page's query string in the words of DatasetFilterSet (`q` is its `search`)."""
    data = query.copy()
    data["search"] = query.get("q", "").strip()
    return data


def url_with(query: QueryDict, key: str, value=None, *, toggle=False) -> str:
    """The page's URL with `key` set to `value` (None removes it); with toggle, `value` is added to or removed
    from the repeated parameter instead."""
    changed = query.copy()
    changed.pop("view", None)  # the layout is remembered on its own, not carried by filter links
    if toggle:
        values = changed.getlist(key)
        changed.setlist(key, [v for v in values if v != value] if value in values else [*values, value])
    elif value is None:
        changed.pop(key, None)
    else:
        changed[key] = value
    encoded = changed.urlencode()
    return f"?{encoded}" if encoded else "?"


def is_filtered(query: QueryDict) -> bool:
    return any(query.get(key) for key in FILTER_KEYS)


def tag_chips(all_tags: list[list[str]], query: QueryDict) -> list[Chip]:
    """One chip per tag of the datasets the user sees (most used first), a click toggling it in the filter."""
    counts = Counter(tag for tags in all_tags for tag in tags)
    chosen = set(query.getlist("tag"))
    for tag in chosen - set(counts):
        counts[tag] = 0  # a chosen tag no dataset has any more stays visible, so it can be removed
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))
    return [Chip(tag, n, tag in chosen, url_with(query, "tag", tag, toggle=True)) for tag, n in ordered]


def mode_links(query: QueryDict) -> list[dict]:
    current = query.get("tag_mode") or "any"
    return [{"mode": mode, "label": label, "title": title, "active": mode == current,
             "url": url_with(query, "tag_mode", None if mode == "any" else mode)} for mode, label, title in TAG_MODES]


def group_by_project(datasets: list, projects: list, query: QueryDict, *, show_empty: bool, may_manage) -> list[ProjectGroup]:
    """The datasets under their projects, projects by name; projects without a listed dataset only when the
    list is not filtered (an empty project of one's own is still somewhere to put a dataset)."""
    def group_of(project):
        return ProjectGroup(project, may_manage=may_manage(project), only_url=url_with(query, "project", project.pk))

    groups = {project.pk: group_of(project) for project in projects}
    for dataset in datasets:
        if dataset.project_id not in groups:  # a project the list of projects did not have: still show its dataset
            groups[dataset.project_id] = group_of(dataset.project)
        groups[dataset.project_id].datasets.append(dataset)
    ordered = sorted(groups.values(), key=lambda g: g.project.name.lower())
    return [group for group in ordered if group.datasets or show_empty]


def versions_matching(versions: list, text: str) -> tuple[set[str], set[str]] | None:
    """For the tree's search: the ids of the versions whose name, id or description contains `text` (any
    case), and the ids to show (those and their ancestors, so each match keeps its place in the tree).
    None when there is nothing to search for."""
    needle = text.strip().lower()
    if not needle:
        return None
    by_id = {v.pk: v for v in versions}
    matches = {v.pk for v in versions if needle in f"{v.name}\n{v.pk}\n{v.description}".lower()}
    shown = set()
    for pk in matches:
        while pk and pk not in shown:
            shown.add(pk)
            pk = by_id[pk].parent_id if pk in by_id else None
    return matches, shown
