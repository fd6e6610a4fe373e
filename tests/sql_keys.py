"""What the SQL of captured queries names."""
import re


def revision_keys_named(sql: str) -> set[int]:
    """The revision keys a query lists (`"id" = ANY('{...}')` on PostgreSQL, `"id" IN (...)` on SQLite), but not
    those it leaves out (NOT)."""
    found = re.search(r'(NOT \(?)?(?:"frames_frame"|U0)\."id" (?:= ANY\(\'\{([\d,]*)\}|IN \(([\d, ]*)\))', sql)
    if not found or found.group(1):
        return set()
    return {int(pk) for pk in re.split(r"[, ]+", found.group(2) or found.group(3)) if pk}
