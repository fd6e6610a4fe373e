"""`hyperdata`: the command line on the SDK's client (login, datasets, versions, frames, import, export, dataview).

    hyperdata login http://127.0.0.1:8000 --username alice      # password: --password, $HYPERDATA_PASSWORD or a prompt
    hyperdata datasets
    hyperdata versions "street scenes"                           # a dataset's name or id
    hyperdata frames VERSION_ID --limit 20 --label car --frame-query 'meta.weather:rain' --roi-query 'label:car'
    hyperdata import VERSION_ID frames.jsonl --format clearml [--options '{"lenient": true}'] [--dry-run]
    hyperdata export VERSION_ID --format jsonl|clearml|coco [-o out.jsonl] [--label ... --frame-query ... --roi-query ...]
    hyperdata dataview [DATAVIEW_ID] [--limit 100]               # your DataViews, or the frames one yields

Exit codes, for scripts:
    0  done
    1  the server refused: a 4xx (or 5xx) answer, printed with the field it names; an import whose file has
       problems (each printed as file:line:column field: message), also in a dry run; a failed or cancelled job
    2  usage error (unknown command or option, a bad --options JSON, an export format the CLI cannot produce)
    3  cannot reach the server, or not logged in: no configuration, or the server does not take the token (its
       answer 401, or 403 "Invalid token.")

Progress (imports and exports) goes to stderr as lines, results to stdout.

`export` reads the frames API (token authentication) page by page with its keyset cursor and writes ClearML
frame JSON (`jsonl`: one frame a line; `clearml`: one JSON array); `coco` streams the server's COCO export
(GET /api/versions/<id>/export/?format=coco, the same exporter as the browser's export page) into the file.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time

import requests

from .api import TIMEOUT, api
from .config import login
from .datasets import dataset_body
from .errors import ApiError, ConfigError, NotFoundError, raise_for_answer

OK, REFUSED, USAGE, UNREACHABLE = 0, 1, 2, 3
PAGE_SIZE = 500
POLL_SECONDS = 0.5
JOB_ENDED = {"done", "failed", "cancelled"}
EXPORT_FORMATS = ("jsonl", "clearml", "coco")
SERVER_EXPORTS = ("coco",)  # written by the server's exporter, streamed as they come
STREAM_CHUNK = 1024 * 1024


class UsageError(Exception):
    """Arguments argparse accepts but that cannot be carried out as given."""


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- commands ----------------------------------------------------------------------------------------------------
def cmd_login(args) -> int:
    password = args.password or os.environ.get("HYPERDATA_PASSWORD") or getpass.getpass(f"password for {args.username}: ")
    path = login(args.url, args.username, password)
    print(f"logged in to {args.url} as {args.username}; token saved in {path}")
    return OK


def cmd_datasets(args) -> int:
    for body in api().pages("datasets/", {"limit": 1000}):
        print(f"{body['id']}\t{body['name']}\t{body.get('version_count')} versions\t{body.get('frame_count')} frames")
    return OK


def _dataset(name_or_id: str) -> dict:
    try:
        return dataset_body(dataset_name=name_or_id)
    except NotFoundError:
        return dataset_body(dataset_id=name_or_id)


def cmd_versions(args) -> int:
    dataset = _dataset(args.dataset)
    for body in api().pages(f"datasets/{dataset['id']}/versions/", {"limit": 1000}):
        print(f"{body['id']}\t{body['name']}\t{body['status']}\t{body.get('frame_count')} frames\tparent {body.get('parent') or '-'}")
    return OK


def _filters(args) -> dict:
    named = {"label": args.label, "frame_query": args.frame_query, "roi_query": args.roi_query}
    return {key: value for key, value in named.items() if value}


def frame_pages(path: str, params: dict, limit: int | None = None):
    """Frames as the API returns them at `path` (a version's, a DataView's), following the keyset cursor, at most
    `limit`."""
    sent = 0
    query = {**params, "limit": PAGE_SIZE if limit is None else min(PAGE_SIZE, limit)}
    while limit is None or sent < limit:
        page = api().get(path, params=query)
        for frame in page["results"][: None if limit is None else limit - sent]:
            sent += 1
            yield frame
        if not page.get("cursor"):
            return
        query = {**query, "cursor": page["cursor"]}


def frame_labels(frame: dict) -> list[str]:
    return sorted({label for roi in frame.get("rois") or [] for label in roi.get("labels") or []})


def cmd_frames(args) -> int:
    for frame in frame_pages(f"versions/{args.version}/frames/", _filters(args), args.limit):
        print(f"{frame['id']}\t{','.join(frame_labels(frame))}")
    return OK


def cmd_dataview(args) -> int:
    """Without an id, your DataViews; with one, the frames it yields (in its order), at most --limit."""
    if not args.dataview:
        for view in api().pages("dataviews/", {"limit": 1000}):
            print(f"{view['id']}\t{view.get('name') or '-'}\t{view['iteration_order']}\t{len(view.get('queries') or [])} queries")
        return OK
    counted = api().get(f"dataviews/{args.dataview}/count/")
    say(f"dataview: {counted['count']:,} frames match; an iteration yields {'no end' if counted['length'] is None else format(counted['length'], ',')}")
    for frame in frame_pages(f"dataviews/{args.dataview}/frames/", {}, args.limit):
        version = (frame.get("dataset") or {}).get("version")  # {"id", "version"}: where a DataView's frame is from
        print(f"{frame['id']}\t{version}\t{','.join(frame_labels(frame))}")
    return OK


def _options(text: str) -> dict:
    try:
        options = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--options is not valid JSON: {exc}") from None
    if not isinstance(options, dict):
        raise UsageError("--options must be a JSON object, e.g. '{\"lenient\": true}'")
    return options


def cmd_import(args) -> int:
    if not os.path.isfile(args.file):
        raise UsageError(f"{args.file}: no such file")
    form = {"format": args.format, "options": json.dumps(_options(args.options)), "dry_run": "true" if args.dry_run else "false"}
    with open(args.file, "rb") as upload:
        job = api().request("POST", f"versions/{args.version}/imports/", data=form,
                            files={"file": (os.path.basename(args.file), upload)})
    say(f"import: job {job['id']} queued ({job.get('subject')})")
    job = follow_job(job)
    return print_report(job, args.file)


def follow_job(job: dict) -> dict:
    """Poll the job until it ends, printing a progress line whenever its count or message moves."""
    shown = None
    while job["state"] not in JOB_ENDED:
        time.sleep(POLL_SECONDS)
        job = api().get(f"jobs/{job['id']}/")
        line = _progress_line(job)
        if line != shown and job["state"] not in JOB_ENDED:  # the report says how it ended
            say(line)
            shown = line
    return job


def _progress_line(job: dict) -> str:
    done, total = job.get("done") or 0, job.get("total")
    share = f" ({job['progress']:.0%})" if job.get("progress") is not None and total else ""
    count = f"{done:,} / {total:,}" if total else f"{done:,}"
    return f"import: {job['state']}, {count} frames{share}" + (f": {job['message']}" if job.get("message") else "")


def print_report(job: dict, file: str) -> int:
    result = job.get("result") or {}
    for problem in result.get("problems") or []:
        where = ":".join(str(part) for part in (problem.get("file") or os.path.basename(file), problem.get("line"), problem.get("column")) if part)
        say(f"{where}: {problem.get('field')}: {problem.get('message')}")
    if result.get("problem_count", 0) > len(result.get("problems") or []):
        say(f"... {result['problem_count'] - len(result['problems'])} more problems")
    if job["state"] != "done":
        say(f"import {job['state']}: {job.get('error') or job.get('message') or 'no reason given'}")
        return REFUSED
    what = "dry run: would import" if result.get("dry_run") else "imported"
    print(f"{what} {result.get('frames', 0)} frames (added {result.get('added', 0)}, replaced {result.get('replaced', 0)}) "
          f"in {result.get('seconds', 0):.1f} s")
    for label, rois in sorted((result.get("labels") or {}).items()):
        print(f"  {label}\t{rois} ROIs")
    for note in result.get("notes") or []:
        print(f"  note: {note}")
    return REFUSED if result.get("problem_count") else OK


def cmd_export(args) -> int:
    if args.format not in EXPORT_FORMATS:
        raise UsageError(f"--format {args.format}: the CLI exports {', '.join(EXPORT_FORMATS)}")
    if args.format in SERVER_EXPORTS:
        return export_from_server(args)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        count = write_frames(out, frame_pages(f"versions/{args.version}/frames/", _filters(args)), args.format)
    finally:
        if args.output:
            out.close()
    say(f"export: {count:,} frames written" + (f" to {args.output}" if args.output else ""))
    return OK


def export_from_server(args) -> int:
    """Stream the server's export (COCO) to the file or stdout; a refused filter is an error before any byte.
    The file is written under a temporary name and renamed at the end, so a broken download leaves no half file."""
    params = {**_filters(args), "format": args.format}
    with api().http.get(api().url(f"versions/{args.version}/export/"), params=params, stream=True, timeout=TIMEOUT) as answer:
        raise_for_answer(answer)
        partial = f"{args.output}.partial" if args.output else None
        out = open(partial, "wb") if partial else sys.stdout.buffer
        written, shown = 0, 0
        try:
            for chunk in answer.iter_content(STREAM_CHUNK):
                out.write(chunk)
                written += len(chunk)
                if written - shown >= 10 * STREAM_CHUNK:
                    say(f"export: {written / STREAM_CHUNK:,.0f} MiB")
                    shown = written
        finally:
            if partial:
                out.close()
            else:
                out.flush()
    if partial:
        os.replace(partial, args.output)
    say(f"export: {args.format} written, {written:,} bytes" + (f" to {args.output}" if args.output else ""))
    return OK


def write_frames(out, frames, export_format: str) -> int:
    count = 0
    out.write("[\n" if export_format == "clearml" else "")
    for frame in frames:
        separator = ",\n" if export_format == "clearml" and count else ""
        out.write(separator + json.dumps(frame, ensure_ascii=False) + ("\n" if export_format == "jsonl" else ""))
        count += 1
        if count % 10_000 == 0:
            say(f"export: {count:,} frames")
    out.write("\n]\n" if export_format == "clearml" else "")
    return count


# -- parsing and exit codes --------------------------------------------------------------------------------------
def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _add_filters(parser) -> None:
    parser.add_argument("--label", help="frames with this label")
    parser.add_argument("--frame-query", help="Lucene query on the frame (e.g. 'meta.weather:rain')")
    parser.add_argument("--roi-query", help="Lucene query on the ROIs (e.g. 'label:car AND confidence:>0.5')")


# The server answers a missing or unknown token with 403 (its session authentication comes first, so DRF sends
# no 401 challenge); these are DRF's messages for it, as opposed to a 403 for what this user may not do.
AUTHENTICATION_MESSAGES = ("Invalid token", "Authentication credentials were not provided", "User inactive or deleted")


def not_authenticated(exc: ApiError) -> bool:
    return exc.status == 401 or (exc.status == 403 and str(exc.detail).startswith(AUTHENTICATION_MESSAGES))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hyperdata", description="HyperData from the command line (the SDK's client, its config and token).",
        epilog="Exit codes: 0 ok, 1 the server refused, 2 usage error, 3 cannot reach the server or not logged in.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    login_parser = commands.add_parser("login", help="trade a password for an API token and save it")
    login_parser.add_argument("url", help="the server, e.g. http://127.0.0.1:8000")
    login_parser.add_argument("--username", required=True)
    login_parser.add_argument("--password", help="else $HYPERDATA_PASSWORD, else asked for")
    login_parser.set_defaults(run=cmd_login)
    commands.add_parser("datasets", help="the datasets you can see").set_defaults(run=cmd_datasets)
    versions = commands.add_parser("versions", help="a dataset's versions")
    versions.add_argument("dataset", help="the dataset's name or id")
    versions.set_defaults(run=cmd_versions)
    frames = commands.add_parser("frames", help="a version's frames: id and labels")
    frames.add_argument("version", help="the version's id")
    frames.add_argument("--limit", type=positive, default=100, help="at most this many (default 100)")
    _add_filters(frames)
    frames.set_defaults(run=cmd_frames)
    imports = commands.add_parser("import", help="import a file into a draft version and follow the job")
    imports.add_argument("version", help="the draft version's id")
    imports.add_argument("file")
    imports.add_argument("--format", required=True, help="clearml, coco, encord or lightly")
    imports.add_argument("--options", default="{}", help="the format's options as a JSON object")
    imports.add_argument("--dry-run", action="store_true", help="read and check only; import nothing")
    imports.set_defaults(run=cmd_import)
    export = commands.add_parser("export", help="write a version's frames as ClearML frame JSON or COCO")
    export.add_argument("version", help="the version's id")
    export.add_argument("--format", default="jsonl",
                        help="jsonl (one frame a line, the default), clearml (a JSON array) or coco (COCO JSON: images, annotations, categories)")
    export.add_argument("-o", "--output", help="the file to write (default: stdout)")
    _add_filters(export)
    export.set_defaults(run=cmd_export)
    dataview = commands.add_parser("dataview", help="your DataViews, or the frames one yields: id, version, labels")
    dataview.add_argument("dataview", nargs="?", help="the DataView's id (none: list them)")
    dataview.add_argument("--limit", type=positive, default=100, help="at most this many frames (default 100)")
    dataview.set_defaults(run=cmd_dataview)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # exits 2 on a usage error
    try:
        return args.run(args)
    except UsageError as exc:
        say(f"hyperdata {args.command}: {exc}")
        return USAGE
    except ConfigError as exc:
        say(f"hyperdata: not logged in: {exc}")
        return UNREACHABLE
    except ApiError as exc:
        if not_authenticated(exc):
            say(f"hyperdata: the server does not take the saved token ({exc.detail}); run `hyperdata login` again")
            return UNREACHABLE
        say(f"hyperdata {args.command}: {exc}")
        return REFUSED
    except (requests.ConnectionError, requests.Timeout) as exc:
        say(f"hyperdata: cannot reach the server: {exc}")
        return UNREACHABLE


if __name__ == "__main__":
    sys.exit(main())
