"""Generated ClearML frames (JSON lines) that bench/imports.py and bench/load.py import: every frame has one
source, two polygon ROIs with a confidence and four metadata keys, 100 frames per context."""
from __future__ import annotations

import json
import random
from pathlib import Path

LABELS = ["car", "person", "bike", "truck", "bus", "dog"]


def clearml_frame(i: int, rnd: random.Random) -> dict:
    rois = []
    for r in range(2):
        x, y = rnd.randint(0, 600), rnd.randint(0, 400)
        rois.append({"id": f"r{r}", "labels": [LABELS[(i + r) % 6]], "poly": [x, y, x + 30, y, x + 30, y + 20, x, y + 20], "confidence": round(rnd.random(), 3)})
    return {
        "id": f"img/{i:07d}.jpg", "context_id": f"seq-{i // 100}", "timestamp": i % 100,
        "meta": {"split": "val" if i % 5 == 0 else "train", "weather": ["fog", "sun", "rain"][i % 3], "score": i % 97, "camera": f"cam{i % 4}"},
        "sources": [{"id": "default", "uri": f"s3://bucket/img/{i:07d}.jpg", "width": 640, "height": 480}], "rois": rois,
    }


def clearml_lines(folder: Path, n: int) -> Path:
    """`folder`/clearml-`n`.jsonl with frames 0..n-1, written once (the same seed gives the same file)."""
    path = folder / f"clearml-{n}.jsonl"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        rnd = random.Random(n)
        partial = path.with_suffix(".partial")
        with partial.open("w") as out:
            for i in range(n):
                out.write(json.dumps(clearml_frame(i, rnd)) + "\n")
        partial.rename(path)  # a run stopped half-way leaves no short file behind
    return path
