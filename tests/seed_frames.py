"""The example frames of the seed documents, read from ../shared (not copied: the docs are SSPL-licensed)."""
import json
import re
from functools import cache
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"


def _read(relative: str) -> str:
    path = SHARED / relative
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the tests read the seed documents and test data from ../shared beside the repo"
        )
    return path.read_text()


def _seed(prefix: str) -> str:
    matches = sorted((SHARED / "seeds").glob(f"{prefix}_*.txt"))
    if not matches:
        raise FileNotFoundError(f"seed {prefix} not found under {SHARED / 'seeds'}")
    return matches[0].read_text()


def _array_after(text: str, marker: str):
    """The JSON array printed after `marker` in the WebApp dump of seed 001 (`rois : Array[2] [ ... ]`)."""
    start = text.index(marker) + len(marker)
    depth, end = 0, start
    for end in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[end], 0)
        if depth == 0 and text[end] == "]":
            break
    return json.loads(text[start : end + 1])


@cache
def seed_frames() -> dict[str, dict]:
    """name -> frame dict: every example frame of seeds 000, 001 and 002."""
    frames = {}
    seed000 = _seed("000")
    frames["seed000_framegroup"] = json.loads(seed000[seed000.index('{\n    "timestamp"') : seed000.rindex("}") + 1])
    frames["sources_example3"] = json.loads(_read("testdata/imports/clearml-docs/frame_sources_masks_rois.example.json"))

    seed001 = _seed("001")
    frames["seed001_coco"] = {
        "id": "287024",
        "timestamp": 0,
        "rois": _array_after(seed001, "rois : Array[2] "),
        "sources": _array_after(seed001, "sources : Array[1] "),
        "context_id": "https://s3.amazonaws.com/allegro-datasets/coco/train2017/000000287024.jpg",
        "num_frames": 1,
    }

    blocks = re.findall(r"```json\n(.*?)```", _seed("002"), re.S)
    frames["seed002_masks_example1"] = json.loads(blocks[0])
    # Example 2 is printed as a fragment: "sources": [...], "rois": [... (no closing bracket).
    fragment = blocks[1].strip().rstrip(",")
    frames["seed002_masks_example2"] = json.loads("{" + fragment + ("]" if fragment.count("[") > fragment.count("]") else "") + "}")
    return frames
