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


def compact_json(value, indent: int = 2, _level: int = 0) -> str:
    inline = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (list, dict)) or not value or (_flat(value) and len(inline) + indent * _level <= WIDTH):
        return inline
    pad, inner = " " * indent * _level, " " * indent * (_level + 1)
    if isinstance(value, list):
        items = [inner + compact_json(v, indent, _level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {compact_json(v, indent, _level + 1)}" for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + pad + "}"
