"""`contactpoint load`: load a feed folder, or a local system's files (docs/feeds.md).

contactpoint load FOLDER
contactpoint load --bulk [--chunk-size N] [--workers N] FOLDER   (a first load, empty registry)
contactpoint load [--bulk] --source CODE [--source-name NAME] --mapping MAPPING.toml PATH
contactpoint load [--bulk] --source CODE [--source-name NAME] --fhir PATH

Exit status: 0 when every file loaded at least one row (rejected rows are quarantined and
counted); 1 when a file held no records, or every one of its rows was rejected; 2 when
nothing could be loaded (a usage error, a file or mapping refused whole).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contactpoint.cli import error, progress
from contactpoint.ingest import fhir
from contactpoint.ingest.bulk.load import CHUNK, WORKERS, LocalFiles, bulk_load_folder
from contactpoint.ingest.loader import (
    FeedError,
    LoadReport,
    LocalSource,
    check_organisation,
    load_folder,
    load_local,
    local_files,
)
from contactpoint.ingest.mapping import Mapping, read_mapping
from contactpoint.ingest.organisations import OrganisationFileError
from contactpoint.ingest.rows import RowReader
from contactpoint.registry.feeds import SCHEME
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
        "--source-name",
        metavar="NAME",
        help="with --fhir, or a mapping that names no source: the source's name, the first time",
    )
    parser.add_argument(
        "--identifier-system",
        action="append",
        default=[],
        metavar="SYSTEM=SCHEME",
        help="with --fhir: read identifiers of this system as the local scheme (repeatable)",
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
    if args.source is not None and not local:
        args.usage_error("--source goes with --mapping or --fhir")
    if local and args.source is None:
        args.usage_error(f"{'--fhir' if args.fhir else '--mapping'} needs --source CODE")
    if args.source_name is not None and not local:
        args.usage_error("--source-name goes with --mapping or --fhir")
    if args.identifier_system and not args.fhir:
        args.usage_error("--identifier-system goes with --fhir (a mapping declares its own)")
    if local and (problem := local_code_problem(args.source)):
        args.usage_error(f"--source: {problem}")


def run(args: argparse.Namespace) -> int:
    _check_combination(args)
    if args.batch_size < 1 or args.chunk_size < 1 or args.workers < 1:
        return error("--batch-size, --chunk-size and --workers must be at least 1")
    say = None if args.quiet else progress
    try:
        if args.mapping is not None or args.fhir:
            report = _load_local(args)
        elif args.bulk:
            report = bulk_load_folder(args.path, say, args.chunk_size, args.workers)
        else:
            report = load_folder(args.path, say, args.batch_size)
    except (FeedError, OrganisationFileError) as exc:
        return error(str(exc))
    print(report.summary())
    for failure in report.failures:
        print(f"contactpoint: {failure}; nothing of it loaded", file=sys.stderr)
    return 1 if report.failures else 0


def _load_local(args: argparse.Namespace) -> LoadReport:
    """Load a local system's files (mapped CSV or FHIR), row by row or, with --bulk, at once."""
    organisation = ""
    if args.fhir:
        suffixes = fhir.BUNDLE_SUFFIXES + fhir.NDJSON_SUFFIXES
        source = LocalSource(args.source, args.source_name or args.source)
        reader: RowReader = fhir.reader(schemes=_schemes(args))
    else:
        mapping = read_mapping(args.mapping)
        source, suffixes = _mapped_source(args, mapping), CSV_SUFFIXES
        reader, organisation = mapping.reader(), mapping.constants.get("org_code", "")
    files = local_files(args.path, suffixes)
    say = None if args.quiet else progress
    if args.bulk:
        check_organisation(organisation)
        local = LocalFiles(source, files, reader)
        return bulk_load_folder(args.path, say, args.chunk_size, args.workers, local)
    return load_local(source, files, reader, say, args.batch_size, organisation=organisation)


def _schemes(args: argparse.Namespace) -> dict[str, str]:
    """--identifier-system SYSTEM=SCHEME options, checked as a mapping's schemes are."""
    schemes: dict[str, str] = {}
    for given in args.identifier_system:
        system, _, scheme = given.rpartition("=")
        if not system or not SCHEME.fullmatch(scheme) or system in schemes:
            args.usage_error(
                "--identifier-system is SYSTEM=SCHEME, each system once; a scheme is 1 to 40 "
                "lower-case letters, digits or '-'"
            )
        schemes[system] = scheme
    return schemes


def _mapped_source(args: argparse.Namespace, mapping: Mapping) -> LocalSource:
    """The source a mapping loads as: its own code, or (a mapping shared by several local
    systems names none) --source; its own name, else --source-name, else the code."""
    if mapping.code and mapping.code != args.source:
        raise FeedError(
            f"the mapping {args.mapping.name} is for source {mapping.code!r}, not {args.source!r}"
        )
    if mapping.name and args.source_name is not None:
        raise FeedError(
            f"the mapping {args.mapping.name} names its source: leave out --source-name"
        )
    return LocalSource(args.source, mapping.name or args.source_name or args.source)
