"""JSON for people: indented, but short arrays and small flat objects stay on one line, so a mask-label
entry reads `{"value": [220, 20, 60], "labels": ["person"]}` instead of ten lines. static/js/metadata.js
formats the same way (compactJson)."""
import json

WIDTH = 72


def _flat(value) -> bool:
    """Scalars, or a list/object whose members are scalars or lists of scalars."""
    if isinstance(value, (list, dict)):
        members = value.values() if isinstance(value, dict) else value
        return all(not isinstance(m, (list, dict)) or (isinstance(m, list) and all(not isinstance(x, (list, dict)) for x in m)) for m in members)
    return True


def _scalars(value) -> bool:
    return isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value)


def compact_json(value, indent: int = 2, _level: int = 0, *, long_lists_inline: bool = False) -> str:
    """`long_lists_inline`: a list of numbers or strings stays on one line however long (a frame's `poly`, as
    seed 001 prints it, instead of one line per coordinate)."""
    inline = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (list, dict)) or not value or (_flat(value) and len(inline) + indent * _level <= WIDTH):
        return inline
    if long_lists_inline and _scalars(value):
        return inline
    pad, inner = " " * indent * _level, " " * indent * (_level + 1)
    nested = {"long_lists_inline": long_lists_inline}
    if isinstance(value, list):
        items = [inner + compact_json(v, indent, _level + 1, **nested) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {compact_json(v, indent, _level + 1, **nested)}" for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + pad + "}"
