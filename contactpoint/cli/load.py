"""`contactpoint load`: load a feed folder, or a local system's files (docs/feeds.md).

contactpoint load FOLDER
contactpoint load --bulk [--chunk-size N] [--workers N] FOLDER   (a first load, empty registry)
contactpoint load --source CODE --mapping MAPPING.toml PATH
contactpoint load --source CODE [--source-name NAME] --fhir PATH
"""

from __future__ import annotations

import argparse
from pathlib import Path

from contactpoint.cli import error, progress
from contactpoint.ingest import fhir
from contactpoint.ingest.bulkload import CHUNK, WORKERS, bulk_load_folder
from contactpoint.ingest.loader import (
    FeedError,
    LoadReport,
    LocalSource,
    load_folder,
    load_local,
    local_files,
)
from contactpoint.ingest.mapping import read_mapping
from contactpoint.ingest.organisations import OrganisationFileError
from contactpoint.registry.sources import local_code_problem

CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        type=Path,
        metavar="PATH",
        help="a feed folder (docs/feeds.md); with --mapping or --fhir, a file or a folder of them",
    )
    parser.add_argument("--source", metavar="CODE", help="the local source that sent PATH")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument(
        "--mapping", type=Path, metavar="FILE", help="PATH is a local CSV read through this mapping"
    )
    kind.add_argument(
        "--fhir", action="store_true", help="PATH is FHIR Patients: a Bundle .json or .ndjson"
    )
    parser.add_argument(
        "--source-name", metavar="NAME", help="with --fhir: the source's name, the first time"
    )
    parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="a first load into an empty registry: cluster every record at once (docs/loading.md)",
    )
    parser.add_argument(
        "--chunk-size", type=int, default=CHUNK, help="with --bulk: clusters per transaction"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help=f"with --bulk: processes writing chunks at once (default {WORKERS}, the cores)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(usage_error=parser.error)


def _check_combination(args: argparse.Namespace) -> None:
    """Refuse options that do not go together, the way argparse refuses (usage, exit 2)."""
    local = args.mapping is not None or args.fhir
    if args.bulk and (local or args.source is not None):
        args.usage_error("--bulk loads a feed folder: not with --source, --mapping or --fhir")
    if args.source is not None and not local:
        args.usage_error("--source goes with --mapping or --fhir")
    if local and args.source is None:
        args.usage_error(f"{'--fhir' if args.fhir else '--mapping'} needs --source CODE")
    if args.source_name is not None and not args.fhir:
        args.usage_error("--source-name goes with --fhir (a mapping file names its source)")
    if local and (problem := local_code_problem(args.source)):
        args.usage_error(f"--source: {problem}")


def run(args: argparse.Namespace) -> int:
    _check_combination(args)
    if args.batch_size < 1 or args.chunk_size < 1 or args.workers < 1:
        return error("--batch-size, --chunk-size and --workers must be at least 1")
    say = None if args.quiet else progress
    try:
        if args.mapping is not None:
            report = _load_mapped(args)
        elif args.fhir:
            source = LocalSource(args.source, args.source_name or args.source)
            files = local_files(args.path, fhir.BUNDLE_SUFFIXES + fhir.NDJSON_SUFFIXES)
            report = load_local(source, files, fhir.reader(), say, args.batch_size)
        elif args.bulk:
            report = bulk_load_folder(args.path, say, args.chunk_size, args.workers)
        else:
            report = load_folder(args.path, say, args.batch_size)
    except (FeedError, OrganisationFileError) as exc:
        return error(str(exc))
    print(report.summary())
    return 0


def _load_mapped(args: argparse.Namespace) -> LoadReport:
    mapping = read_mapping(args.mapping)
    if mapping.code != args.source:
        raise FeedError(
            f"the mapping {args.mapping.name} is for source {mapping.code!r}, not {args.source!r}"
        )
    return load_local(
        LocalSource(mapping.code, mapping.name),
        local_files(args.path, CSV_SUFFIXES),
        mapping.reader(),
        None if args.quiet else progress,
        args.batch_size,
        organisation=mapping.constants.get("org_code", ""),
    )
