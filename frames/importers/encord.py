"""Encord: the import JSON that registers cloud data (seed 003), and Encord label rows with their ontology.

**Input.** `path` is one of
- an import JSON file: `{"videos": [...], "images": [...], "image_groups": [...], "dicom_series": [...],
  "skip_duplicate_urls": true}`;
- a label row file (`*.label_row.json`: one label row, or a list of them as the SDK exports) with its ontology
  next to it (`<same name>.ontology.json`, or the only `*.ontology.json` there);
- a folder holding any of these: `*.ontology.json` are ontologies, files whose name ends in `.label_row.json`
  or `.label_rows.json` are label rows, `*.metadata_schema.json` is Encord's custom metadata schema
  (`{"key": "datetime", ...}`, typed fields of the version: frames.importers.encord_schema), every other
  `.json` is an import JSON (read in name order).
Options: `labels=<file or folder>` adds label rows (and the ontologies beside them) to an import JSON,
`ontology=<file>` names the ontology, `metadata_schema=<file>` the metadata schema; all relative to the input's
folder and inside it.

**Data units -> frames** (media URLs resolve against the media root; absolute URLs are kept):
- `videos[]` (`objectUrl`, `title`, `clientMetadata`, `videoMetadata`, `config`): frames of one context (the
  video's URI) at the sampled timestamps, in milliseconds like every HyperData timestamp. Sampling follows
  Encord: `config.sampling_rate` frames per second (default 1; 0 = the first frame and the key frames only)
  plus the key frames (`keyframes`, or Encord's reserved `clientMetadata.keyframes`), frame numbers unless
  `config.keyframe_mode` is `seconds`. The frame rate and duration come from `videoMetadata`, else from the
  file when it is local (PyAV), else only what the JSON states is imported and the summary says so
  (frames.importers.encord_video). Frames with metadata of their own (`clientMetadata.$encord.frame_metadata`,
  keyed like key frames) or with labels are imported too.
- `images[]` (`objectUrl`, `title`, `clientMetadata`, `imageMetadata`): one frame each.
- `image_groups[]` (`title`, `objectUrl_0`, `objectUrl_1`, ...): one FrameGroup, a source per image with ids
  "0", "1", ... (the position), context `title`. With `"createVideo": true` an image sequence: a frame per
  image in the context `title`, timestamp = position.
- `dicom_series[]` (`title`, `objectUrl_0`, ...): a frame per slice, in order, in the context `title`, content
  type `application/dicom` (the preview workers render slices with pydicom: frames.media.dicom).
- `clientMetadata` -> the frame's `meta` (less Encord's reserved `keyframes` and `$encord`), with a video
  frame's own metadata merged over the video's; custom embeddings (lists of numbers) stay under their keys.
- `skip_duplicate_urls: true`: a video or image whose URL, an image group whose URLs, a DICOM file whose URL
  came earlier in the same import is skipped, and the summary's notes say which.
- `audio`, `pdfs`, `text`, ... have no frames: they are left out and the notes say so.

**Label rows -> ROIs** (frames.importers.encord_labels): a row attaches to the data unit of the import JSON
whose title (`title`, else the URL's file name) is the row's `data_title`; image group units match by
`data_sequence` = position. With no import JSON the rows make the frames themselves (frames.importers.encord_rows).

Frame ids are derived from the context and timestamp, so importing the same file again replaces its frames.
Problems name the file, the field (`videos[2].clientMetadata.keyframes[0]`) and the line where the item starts.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from . import encord_json, encord_labels, encord_rows, encord_schema
from .base import ImportSource, Item, Problem, VersionExtras
from .encord_frames import ImportState
from .encord_items import ItemReader
from .encord_labels import LabelRow

ITEM_KEYS = {"videos": "video", "images": "image", "image_groups": "image_group", "dicom_series": "dicom_series"}
ONTOLOGY_SUFFIX = ".ontology.json"
LABEL_SUFFIXES = (".label_row.json", ".label_rows.json")
LABEL_ROW_DEPTH = 6  # lines known down to data_units.<hash>.labels.<frame>.objects[i]


def read(source: ImportSource) -> Iterator[Item]:
    files = _input_files(source)
    if isinstance(files, Problem):
        yield files
        return
    imports, rows, ontologies, schemas = files
    state = ImportState(source=source)
    typed = []
    for path in schemas:
        fields = yield from _metadata_schema(path, source, state)
        typed += fields
    label_rows = []
    for path in rows:
        for row in _label_rows(path, ontologies, source):
            if isinstance(row, Problem):
                yield row
            elif row.title in state.unmatched:
                yield Problem(row.file, "data_title", f"another label row has the data title {row.title!r}", row.line)
            else:
                state.unmatched[row.title] = row
                label_rows.append(row)
    if not imports and not rows:
        yield Problem(_name(source.path, source), "", "no Encord import JSON or label rows here")
    for path in imports:
        yield from _import_json(path, _name(path, source), state)
    if imports:
        for row in state.unmatched.values():
            yield Problem(row.file, "data_title", f"label row {row.title!r} matches no data unit of the import JSON "
                                                  "(by title, or the file name of its URL)", row.line)
    else:
        for row in label_rows:
            yield from encord_rows.frames_of(row, state)
    if state.notes or typed:
        yield VersionExtras(notes=state.notes, meta_schema=typed or None)


def _name(path: Path, source: ImportSource) -> str:
    base = source.path if source.path.is_dir() else source.path.parent
    try:
        return str(path.relative_to(base))
    except ValueError:
        return path.name


def _input_files(source: ImportSource) -> tuple[list[Path], list[Path], list[Path], list[Path]] | Problem:
    """(import JSONs, label row files, ontology files, metadata schema files) of the input and its options."""
    paths = sorted(p for p in source.path.iterdir() if p.suffix.lower() == ".json") if source.path.is_dir() else [source.path]
    imports, rows, ontologies, schemas = [], [], [], []
    for path in paths:
        if path.name.endswith(encord_schema.SUFFIX):
            schemas.append(path)
        elif path.name.endswith(ONTOLOGY_SUFFIX):
            ontologies.append(path)
        elif path.name.endswith(LABEL_SUFFIXES) or (path == source.path and _looks_like_label_rows(path)):
            rows.append(path)
        else:
            imports.append(path)
    for option in ("labels", "ontology", "metadata_schema"):
        value = source.option(option)
        extra = _inside_input(source, str(value)) if value else None
        if value and extra is None:
            return Problem(source.path.name, option, f"{value!r} is not a file or folder inside the input's folder")
        found = sorted(extra.glob("*.json")) if extra and extra.is_dir() else [extra] if extra else []
        for path in found:
            if option == "metadata_schema" or path.name.endswith(encord_schema.SUFFIX):
                schemas.append(path)
            elif option == "ontology" or path.name.endswith(ONTOLOGY_SUFFIX):
                ontologies.append(path)
            else:
                rows.append(path)
    return imports, *(list(dict.fromkeys(paths)) for paths in (rows, ontologies, schemas))


def _inside_input(source: ImportSource, value: str) -> Path | None:
    if not value:
        return None
    base = (source.path if source.path.is_dir() else source.path.parent).resolve()
    target = (base / value).resolve()
    return target if target.is_relative_to(base) and target.exists() else None


def _looks_like_label_rows(path: Path) -> bool:
    """A single input file that is a label row although not named so (its first key says)."""
    with path.open(encoding="utf-8-sig", errors="replace") as stream:
        head = stream.read(4096)
    return '"label_hash"' in head or '"data_units"' in head


def _label_rows(path: Path, ontologies: list[Path], source: ImportSource) -> Iterator[LabelRow | Problem]:
    name = _name(path, source)
    loaded = encord_json.load(path, name, depth=LABEL_ROW_DEPTH)
    if isinstance(loaded, Problem):
        yield loaded
        return
    ontology = _ontology_for(path, ontologies, source)
    if isinstance(ontology, Problem):
        yield ontology
        return
    document = loaded if isinstance(loaded, encord_json.Document) else encord_json.Document(values=loaded)
    yield from encord_labels.rows_in(document.values, file=name, names=encord_labels.ontology_names(ontology),
                                     line_of=document.line_of if isinstance(loaded, encord_json.Document) else None)


def _ontology_for(path: Path, ontologies: list[Path], source: ImportSource) -> dict | Problem:
    stem = path.name
    for suffix in LABEL_SUFFIXES:
        stem = stem.removesuffix(suffix)
    paired = [p for p in ontologies if p.name == stem + ONTOLOGY_SUFFIX]
    named = _inside_input(source, str(source.option("ontology") or ""))
    chosen = named or (paired[0] if paired else ontologies[0] if len(ontologies) == 1 else None)
    if chosen is None:
        return {}
    loaded = encord_json.load(chosen, _name(chosen, source), depth=0)
    if isinstance(loaded, Problem):
        return loaded
    if not isinstance(loaded, encord_json.Document):
        return Problem(_name(chosen, source), "", "an ontology is an object with objects and classifications")
    return loaded.values


def _metadata_schema(path: Path, source: ImportSource, state: ImportState):
    """Yields the schema file's problems; returns its typed fields (the notes go to the state)."""
    name = _name(path, source)
    loaded = encord_json.load(path, name, depth=1)
    if isinstance(loaded, Problem):
        yield loaded
        return []
    document = loaded if isinstance(loaded, encord_json.Document) else encord_json.Document(values=loaded)
    fields, notes, problems = encord_schema.schema_fields(document.values, file=name, line_of=document.line_of)
    state.notes += notes
    yield from problems
    return fields


def _import_json(path: Path, name: str, state: ImportState) -> Iterator[Item]:
    document = encord_json.load(path, name)
    if isinstance(document, Problem):
        yield document
        return
    if not isinstance(document, encord_json.Document):
        yield Problem(name, "", "an Encord import JSON is an object ({\"videos\": [...], \"images\": [...], ...})", 1)
        return
    if not any(key in document.values for key in ITEM_KEYS):
        yield Problem(name, "", f"not an Encord import JSON: it has none of {', '.join(ITEM_KEYS)}", 1)
        return
    flag = document.values.get("skip_duplicate_urls", False)
    if not isinstance(flag, bool):
        yield Problem(name, "skip_duplicate_urls", "expected true or false", document.line_of("skip_duplicate_urls"))
        return
    state.skip_duplicates = flag
    reader = ItemReader(state, name)
    for key, values in document.values.items():
        if key == "skip_duplicate_urls":
            continue
        if key not in ITEM_KEYS:
            if isinstance(values, list):
                state.notes.append(f"{name}: {key} ({len(values)}) not imported: HyperData keeps image and video frames")
            continue
        if not isinstance(values, list):
            yield Problem(name, key, "expected a list of data units", document.line_of(key))
            continue
        read_item = getattr(reader, ITEM_KEYS[key])
        for index, item in enumerate(values):
            where = f"{key}[{index}]"
            line = document.line_of(where)
            if isinstance(item, dict):
                yield from read_item(item, where, line)
            else:
                yield Problem(name, where, "expected an object", line)
