"""Command line: poolkit tidy, fetch, audit, diff, report and run (the weekly job)."""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import textwrap
from pathlib import Path

import pandas as pd

from ._version import __version__
from .analysis import headline
from .dataset import dataset_snapshots
from .errors import AuthenticationError, ConfigurationError, PoolkitError
from .excel import write_excel
from .findings import SEVERITIES
from .loaders import load, require_answers, resolve_data
from .masking import masked_frame
from .present import plural, severities
from .sample import sample_path
from .schemas import is_dataset
from .snapshot import read_manifest, snapshot_at, write_atomic
from .tables import select_snapshots, snapshots_in
from .weekly import add_to_dataset, run


def _summary(tables) -> str:
    """The headline of tables read, saying so when they add several snapshots up."""
    counts, snapshots = headline(tables), len(snapshots_in(tables))
    failed = counts["locations_not_fetched"]
    return (
        (f"{snapshots:,} snapshots, counted together: " if snapshots > 1 else "")
        + f"{plural(counts['locations'], 'location')} "
        f"({counts['locations_without_pools']:,} without pools"
        + (f", {failed:,} more not fetched" if failed else "")
        + f"), {plural(counts['pools'], 'pool')}, {plural(counts['numbers'], 'number')}, "
        f"{counts['pools_with_service']:,} with an inbound call service, "
        f"{plural(counts['problems'], 'problem')}"
    )


def cmd_tidy(args: argparse.Namespace) -> int:
    data, out = resolve_data(args.data), Path(args.out)
    added = add_to_dataset(
        data, out, xlsx=args.xlsx, check=lambda tables: require_answers(tables, args.data)
    )
    if added.already:
        print(f"already in {out}, not added again: {', '.join(added.already)}")
    if added.tables is not None:
        print(_summary(added.tables))
    else:
        print(f"nothing new to add to {out}")
    kinds = ".parquet, .csv" + (", tables.xlsx" if args.xlsx else "")
    print(f"tidy tables of {plural(len(dataset_snapshots(out)), 'snapshot')} in {out}/ ({kinds})")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    if not (args.location_ids or args.company_id or args.resume):
        print(
            "poolkit fetch: give LOCATION_ID ..., --company-id ID, or --resume DIR", file=sys.stderr
        )
        return 2
    from .fetch import fetch_pools

    result = fetch_pools(
        args.location_ids,
        company_id=args.company_id,
        out=args.out,
        workers=args.workers,
        resume=args.resume,
        base_url=args.base_url,
        progress=True if args.progress else None,
        numbers=args.numbers,
    )
    return _say_fetched(result, then=f"resume with: poolkit fetch --resume {result.snapshot}")


def _say_fetched(result, *, then: str, tables=None) -> int:
    """Say how a fetch went, and ``then`` what completes it when a location failed; the exit
    code (0 every location ok, 1 some failed, 2 every location refused the token). ``tables``
    are the snapshot's where they were read already (``poolkit run``'s, added to the
    dataset); else the fetch's are read now."""
    failures = result.failures
    tables = result.tables if tables is None else tables
    summary = read_manifest(result.snapshot)["summary"]
    inventories = int(failures["error"].str.endswith("(active numbers)").sum())
    print(
        f"locations: {summary['ok']:,} ok, {summary['failed']:,} failed"
        + (f" ({inventories:,} more whose numbers failed)" if inventories else "")
        + f"; {plural(len(tables.pools), 'pool')}, "
        f"{plural(len(tables.numbers), 'number')}, "
        f"{plural(len(tables.problems), 'problem')}"
    )
    print(f"snapshot: {result.snapshot}")
    for row in failures.head(20).itertuples():
        status = "" if pd.isna(row.http_status) else f" HTTP {row.http_status}"
        print(f"  failed {row.location_id}: {row.error}{status}: {row.message}", file=sys.stderr)
    if len(failures) > 20:
        print(
            f"  ... and {len(failures) - 20:,} more (see {result.snapshot}/manifest.json)",
            file=sys.stderr,
        )
    if (
        len(failures)
        and (failures["error"] == "AuthenticationError").all()
        and not len(tables.pools)
    ):
        print(
            f"poolkit: error: every location refused the token. Hint: {AuthenticationError.hint}",
            file=sys.stderr,
        )
        return 2
    if len(failures):
        print(then, file=sys.stderr)
    return 1 if len(failures) else 0


def cmd_run(args: argparse.Namespace) -> int:
    """The weekly job (``poolkit.run``): say how it went; exit by --fail-on like ``audit``
    (1 too when a location failed)."""
    if not (args.location_ids or args.company_id):
        raise ConfigurationError("poolkit run: give LOCATION_ID ... or --company-id ID")
    report = None if args.no_report else _output_file(args.report)
    result = run(
        args.location_ids,
        company_id=args.company_id,
        raw=args.raw,
        out=args.out,
        report=report,
        mask_numbers=args.mask_numbers,
        new=args.new,
        workers=args.workers,
        base_url=args.base_url,
        progress=True if args.progress else None,
        numbers=args.numbers,
    )
    failed, added = 0, None
    if result.added.tables is not None:  # this snapshot's tables, read once into the dataset
        added = select_snapshots(result.added.tables, {result.snapshot.id})
    if result.fetch is not None:
        then = "the next poolkit run finishes it"
        failed = _say_fetched(result.fetch, then=then, tables=added)
    for label, ids in (("added to", result.added.added), ("replaced in", result.added.replaced)):
        if ids:
            print(f"{plural(len(ids), 'snapshot')} {label} {args.out}: {', '.join(ids)}")
    if added is not None:
        print(_summary(added))
    counts = result.findings["severity"].astype(str).value_counts()
    print(
        f"findings: {severities(counts, SEVERITIES[:2])}"
        + (f"; report written to {report}" if report else "")
    )
    return max(failed, int(_fails(result.findings, args.fail_on)))


def _ids(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def _findings_text(findings, summary, locations: int) -> str:
    """A terminal summary: counts per rule, then every finding with what to do."""
    counts = findings["severity"].value_counts()
    lines = [
        f"{plural(locations, 'location')} audited: {severities(counts)}",
        "",
    ]
    if summary.empty:
        return "\n".join(lines + ["No findings."]) + "\n"
    lines.append(f"{'severity':<8} {'rule':<28} {'findings':>8} {'locations':>9}")
    lines += [
        f"{r.severity:<8} {r.rule:<28} {r.findings:>8,} {r.locations:>9,}"
        for r in summary.itertuples()
    ] + [""]
    for row in findings.astype(object).fillna("").itertuples():
        where = " / ".join(str(p) for p in (row.location, row.pool, row.phone_number) if p)
        lines.append(f"{row.severity:<8} {row.rule}  {where}")
        lines += textwrap.wrap(row.detail, 96, initial_indent="    ", subsequent_indent="    ")
        lines += textwrap.wrap(
            row.suggestion, 96, initial_indent="    -> ", subsequent_indent="       "
        )
    return "\n".join(lines) + "\n"


def cmd_audit(args: argparse.Namespace) -> int:
    from .findings import audit, findings_summary

    tables = require_answers(load(args.data), args.data)
    findings = audit(tables, select=_ids(args.select), ignore=_ids(args.ignore))
    summary, locations = findings_summary(findings), headline(tables)["locations"]
    if args.mask_numbers:  # counted on the real numbers, then masked
        findings = masked_frame(findings)
    _write_or_print(
        findings,
        args.format,
        args.out,
        lambda f: _findings_text(f, summary, locations),
        sheet="findings",
    )
    return int(_fails(findings, args.fail_on))


def cmd_rules(args: argparse.Namespace) -> int:
    """Every rule of the audit: its id, severity and what it finds."""
    from .findings import RULES

    for checked in RULES:
        print(f"{checked.id:<27} {checked.severity:<8} {checked.description}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """One rule, as ``ruff rule`` explains one: what it finds, why it matters, a case of it in
    the shipped sample, and what to do (``rulebook.explain``)."""
    from .rulebook import explain

    said = explain(args.rule).paragraphs()
    print("\n\n".join(textwrap.fill(p, 88) for p in said))
    return 0


def _output_file(out: str | os.PathLike, *, make_folder: bool = True) -> Path:
    """``out`` as a file to write, its folder made where missing (unless the writer makes it
    once the work succeeded); an ``OSError`` naming it where it is a folder or sits under a
    file (before any work is done)."""
    path = Path(out)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder: give a file name", str(path))
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "is a file, not a folder", str(parent))
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write_or_print(frame, fmt: str | None, out: str | None, text, sheet: str) -> None:
    """A table as CSV, JSON (records, NA as null), an Excel workbook (one ``sheet``; to a
    file only) or ``text(frame)``, to ``out`` or stdout; without a format, the one ``out``'s
    ending names."""
    if fmt is None:
        ending = Path(out).suffix.lower() if out else ""
        fmt = {".csv": "csv", ".json": "json", ".xlsx": "xlsx"}.get(ending, "table")
    if fmt == "xlsx":
        if not out:
            raise ConfigurationError("--format xlsx writes a file: give --out FILE.xlsx")
        write_excel({sheet: frame}, _output_file(out))
        print(f"{len(frame):,} rows written to {out}", file=sys.stderr)
        return
    if fmt == "csv":
        body = frame.to_csv(index=False)
    elif fmt == "json":
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        body = json.dumps(records, indent=1, ensure_ascii=False) + "\n"
    else:
        body = text(frame)
    if out:
        write_atomic(_output_file(out), body.encode())
        print(f"{len(frame):,} rows written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(body)


def _changes_text(changes) -> str:
    """A terminal summary of changes: counts per kind, then one line per change."""
    if changes.empty:
        return "No changes.\n"
    before, after = changes["before"].iloc[0], changes["after"].iloc[0]
    head = f"{before} -> {after}: {plural(len(changes), 'change')}"
    counts = changes["change"].value_counts(sort=False)
    lines = [head, ""] + [f"  {kind:<16} {n:>7,}" for kind, n in counts.items() if n] + [""]
    for row in changes.fillna("").itertuples():
        where = " / ".join(str(p) for p in (row.location, row.pool, row.phone_number) if p)
        what = f"  {row.field}: {row.old!r} -> {row.new!r}" if row.field else ""
        lines.append(f"{row.change:<16} {where}{what}")
    return "\n".join(lines) + "\n"


def cmd_diff(args: argparse.Namespace) -> int:
    from .history import changes, history_of_folders, read_history, snapshot_tables

    old, new = Path(args.old), Path(args.new)
    if old.is_dir() and new.is_dir() and old.resolve() == new.resolve():
        raise ConfigurationError(f"{args.old} and {args.new} are the same folder: give two")
    if old.is_dir() and new.is_dir():
        history = history_of_folders([old, new])
        before, after = snapshot_at(old.resolve()).id, snapshot_at(new.resolve()).id
    elif is_dataset(args.dataset):
        history = read_history(args.dataset, snapshots=[args.old, args.new])
        before, after = args.old, args.new
    else:
        raise ConfigurationError(
            f"{args.old}, {args.new}: give two snapshot folders, or two snapshot names of the "
            f"dataset in --dataset ({args.dataset} is not one)"
        )
    if before == after:
        raise ConfigurationError(f"{args.old} and {args.new} are the same snapshot ({before})")
    for label, given in ((before, args.old), (after, args.new)):
        require_answers(snapshot_tables(history, label), given)
    found = changes(history, before, after)
    _write_or_print(
        masked_frame(found) if args.mask_numbers else found,
        args.format,
        args.out,
        _changes_text,
        sheet="changes",
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report

    if args.data is None:
        args.data = sample_path()
        print("poolkit: no DATA given: reporting the shipped sample", file=sys.stderr)
    out = build_report(  # the data is read once
        resolve_data(args.data),
        _output_file(args.out, make_folder=False),  # made once the report is built
        mask_numbers=args.mask_numbers,
        require_answers=True,
    )
    print(f"report written to {out}")
    return 0


def _output_options(command: argparse.ArgumentParser, what: str) -> None:
    """``--format table|csv|json|xlsx`` and ``--out FILE`` (``_write_or_print`` honours them)."""
    command.add_argument(
        "--format",
        choices=("table", "csv", "json", "xlsx"),
        help="(default: by the --out file's ending, .csv, .json or .xlsx; else table)",
    )
    command.add_argument("--out", metavar="FILE", help=f"write {what} here, not to stdout")
    command.add_argument(
        "--mask-numbers",
        action="store_true",
        help="mask phone numbers, for sharing outside the team",
    )


def _at_least_one(text: str) -> int:
    """A whole number of 1 or more, for argparse."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _fetch_options(command: argparse.ArgumentParser) -> None:
    """What to fetch and how: the options ``fetch`` and ``run`` share."""
    command.add_argument(
        "location_ids", nargs="*", metavar="LOCATION_ID", help="locations to fetch"
    )
    command.add_argument("--company-id", help="fetch every location of this agency (agency token)")
    command.add_argument(
        "--workers",
        type=_at_least_one,
        default=32,
        help="locations fetched at once, each at its own rate budget; the agency's location "
        "tokens are asked at the agency's own pace (default: %(default)s)",
    )
    command.add_argument(
        "--base-url", help="API base URL (default: GHL_BASE_URL or the HighLevel API)"
    )
    command.add_argument(
        "--numbers",
        action="store_true",
        help="also fetch every number each location holds, pool numbers included (scope "
        "phonenumbers.read): the inventory and cost analysis needs them",
    )
    command.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar even when stderr is not a terminal",
    )


def _fail_on_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--fail-on",
        choices=(*SEVERITIES, "never"),
        default="error",
        help="exit 1 when a finding is this severe or more (default: %(default)s)",
    )


def _fails(findings: pd.DataFrame, fail_on: str) -> bool:
    """A finding at or above ``fail_on`` (never, for ``never``)."""
    if fail_on == "never":
        return False
    return bool(findings["severity"].isin(SEVERITIES[: SEVERITIES.index(fail_on) + 1]).any())


#: What each command's --help ends with: its exit codes and the environment it reads.
_EXITS = {
    "tidy": "0 the tables written; 2 nothing to read, or an output that cannot be written",
    "fetch": "0 every location fetched; 1 some failed (the others are saved: --resume "
    "finishes); 2 usage, or the token refused (by the API, or by every location)",
    "run": "0 done, nothing at or above --fail-on; 1 a finding at or above --fail-on, or a "
    "location failed (the next run finishes it); 2 could not do its job (nothing could be "
    "fetched, another run holds the dataset)",
    "audit": "0 nothing at or above --fail-on; 1 something is; 2 usage (such as an unknown "
    "rule id) or no data to audit",
    "diff": "0 the changes listed (none is no error); 2 usage, or a snapshot found nowhere",
    "report": "0 the report written; 2 no data to report on (none found, none readable, no "
    "location answered) or an output that cannot be written",
    "rules": "0 listed; 2 a usage error",
    "explain": "0 explained; 2 an unknown rule",
}
_ENVIRONMENT = {
    "fetch": "GHL_TOKEN (or GHL_TOKEN=... in ./.env) the API token; GHL_BASE_URL the API "
    "(default https://services.leadconnectorhq.com)",
}
_ENVIRONMENT["run"] = _ENVIRONMENT["fetch"]


def _command(commands, name: str, **texts: str) -> argparse.ArgumentParser:
    """A subcommand (``help``, ``description``) whose --help ends with its exit codes and
    the environment it reads (``_epilog``)."""
    return commands.add_parser(name, **texts, epilog=_epilog(name))


def _epilog(command: str) -> str:
    """The end of a command's --help: exit codes (130: interrupted, as every command) and
    the environment variables it reads."""
    environment = _ENVIRONMENT.get(command, "none of its own")
    return (
        f"exit codes: {_EXITS[command]}; 130 interrupted.\n"
        f"environment: {environment}; POOLKIT_DEBUG=1 shows a traceback where poolkit "
        "failed unexpectedly."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="poolkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"poolkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tidy = _command(
        commands,
        "tidy",
        help="turn saved responses into tidy tables (Parquet and CSV)",
        description="Read DATA (a snapshot folder, a folder of snapshots, a response file or "
        "a glob) into tidy tables and add its snapshots to the Parquet dataset --out (one "
        "partition a snapshot, those it holds already left as they are), with a CSV per "
        "table beside it.",
    )
    tidy.add_argument("data", help="a response file, a snapshot folder or a glob")
    tidy.add_argument(
        "--out",
        default="data/processed/weekly",
        help="folder for the tables (default: %(default)s)",
    )
    tidy.add_argument(
        "--xlsx",
        action="store_true",
        help="also write OUT/tables.xlsx: a sheet per table, numbers as text",
    )
    tidy.set_defaults(run=cmd_tidy)

    fetch = _command(
        commands,
        "fetch",
        help="fetch number pools from the API into a raw snapshot folder",
        description="Fetch number pools of the given locations (sub-account token) or of every "
        "location of --company-id (agency token) into OUT/<UTC time>/, at the pace the "
        "API's rate limits allow; --numbers also the numbers each location holds.",
    )
    fetch.add_argument(
        "--out", default="data/raw", help="folder for snapshots (default: %(default)s)"
    )
    fetch.add_argument(
        "--resume",
        metavar="DIR",
        help="complete this snapshot: fetch only missing or failed locations",
    )
    _fetch_options(fetch)
    fetch.set_defaults(run=cmd_fetch)

    run = _command(
        commands,
        "run",
        help="the weekly job: fetch, add the snapshot to the dataset, write the report",
        description="Fetch this week's snapshot into --raw (finishing it where a run left it "
        "unfinished; fetching nothing when the dataset holds it complete, unless --new), add "
        "it and every snapshot the dataset lacks to the dataset --out (Parquet and CSV), write "
        "the report of it and its history, and print the headline.",
    )
    _fetch_options(run)
    run.add_argument(
        "--raw", default="data/raw", help="folder for snapshots (default: %(default)s)"
    )
    run.add_argument(
        "--out",
        default="data/processed/weekly",
        help="the dataset to add to (default: %(default)s)",
    )
    run.add_argument(
        "--report", default="reports/number-pools.html", help="the HTML file (default: %(default)s)"
    )
    run.add_argument(
        "--no-report", action="store_true", help="add the week to the dataset, write no report"
    )
    run.add_argument(
        "--new",
        action="store_true",
        help="fetch a new snapshot even when this week's is complete and in the dataset",
    )
    _fail_on_option(run)
    run.add_argument("--mask-numbers", action="store_true", help="mask phone numbers in the report")
    run.set_defaults(run=cmd_run)

    audit = _command(
        commands,
        "audit",
        help="list what is wrong with the pools, where, and what to do (the findings)",
        description="Run the audit rules on DATA (a snapshot folder, a response file, a glob or "
        "a poolkit Parquet dataset; of a folder of snapshots or a dataset, the newest "
        "snapshot).",
    )
    audit.add_argument("data", help="what to audit")
    _output_options(audit, "the findings")
    _fail_on_option(audit)
    audit.add_argument("--select", metavar="IDS", help="run only these rules (comma-separated)")
    audit.add_argument("--ignore", metavar="IDS", help="skip these rules (comma-separated)")
    audit.set_defaults(run=cmd_audit)

    diff = _command(
        commands,
        "diff",
        help="what changed between two snapshots (pools, numbers, settings, locations)",
        description="List what changed from OLD to NEW: two snapshot folders (such as "
        "data/raw/2026-11-19T080000Z data/raw/2026-11-26T080000Z), or two snapshot names of "
        "the Parquet dataset in --dataset.",
    )
    diff.add_argument("old", help="the earlier snapshot")
    diff.add_argument("new", help="the later snapshot")
    diff.add_argument(
        "--dataset", default="data/processed/weekly", help="where snapshot names are looked up"
    )
    _output_options(diff, "the changes")
    diff.set_defaults(run=cmd_diff)

    rules = _command(
        commands,
        "rules",
        help="list the audit's rules: id, severity, what each finds",
        description="List every rule of the audit: its id (for --select and --ignore), its "
        "severity and what it finds. poolkit explain RULE says more of one.",
    )
    rules.set_defaults(run=cmd_rules)
    explain = _command(
        commands,
        "explain",
        help="explain one audit rule: what it finds, why it matters, an example, what to do",
        description="Explain one rule of the audit: what it finds, why it matters, a case of "
        "it in the shipped sample, and what to do.",
    )
    explain.add_argument("rule", help="a rule id, such as duplicate-number (poolkit rules)")
    explain.set_defaults(run=cmd_explain)

    report = _command(
        commands,
        "report",
        help="run the report notebook on DATA and write one self-contained HTML file",
        description="Run the report notebook on DATA (a snapshot folder, a folder of "
        "snapshots, a response file, a glob or a poolkit Parquet dataset) and write it as "
        "one HTML file: code hidden, charts inside the page, nothing loaded from the network.",
    )
    report.add_argument(
        "data", nargs="?", help="what to report on (default: the shipped sample, said so)"
    )
    report.add_argument(
        "--out", default="reports/number-pools.html", help="the HTML file (default: %(default)s)"
    )
    report.add_argument(
        "--mask-numbers",
        action="store_true",
        help="mask phone numbers, for sharing outside the team",
    )
    report.set_defaults(run=cmd_report)
    return parser


#: Control characters as escapes: a message quoting the data (a JSON key, a server's
#: message) stays one line.
_ONE_LINE = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F]} | {
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
}


#: What an interrupted command leaves, and how to go on (every write is atomic).
_RESUMES = {
    "fetch": "what was fetched is kept: poolkit fetch --resume SNAPSHOT (the folder it made "
    "under --out, if it got that far) fetches the rest",
    "run": "what was fetched is kept; the next poolkit run finishes this week's snapshot",
    "tidy": "every file written is whole; run it again to finish",
    "report": "no report was written; run it again",
}


def _error(message: str) -> int:
    """One line on stderr; exit 2, the command could not do its job."""
    print(f"poolkit: error: {message.translate(_ONE_LINE)}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Run a command; its exit code is the README's: 0 done, 1 findings or some locations
    failed, 2 the command could not do its job (one line on stderr says why), 130
    interrupted. No traceback reaches the user (``POOLKIT_DEBUG=1`` shows one)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except PoolkitError as exc:
        return _error(str(exc))
    except OSError as exc:  # a file that cannot be read or written: where, and why
        where = exc.filename if exc.filename is not None else ""
        return _error(f"{where}: {exc.strerror or exc}" if where else str(exc.strerror or exc))
    except KeyboardInterrupt:
        print(
            f"poolkit: interrupted: {_RESUMES.get(args.command, 'nothing was changed')}",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:  # a bug of poolkit's: one line, and where it is to be reported
        if os.environ.get("POOLKIT_DEBUG") == "1":
            raise
        return _error(
            f"unexpected {type(exc).__name__}: {exc}. This is a bug in poolkit {__version__}: "
            "please report it with the command you ran (POOLKIT_DEBUG=1 shows the traceback)"
        )


if __name__ == "__main__":
    sys.exit(main())
