"""The library and its upkeep: `rag list`, `delete`, `status`, `reindex`, `backup`, `restore`."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from rag.cli.common import err, fail, open_rag, out
from rag.cli.ingest import columns
from rag.core.errors import RagError


def list_documents(
    as_json: Annotated[bool, typer.Option("--json", help="Print documents as JSON.")] = False,
) -> None:
    """List ingested documents with their status. Example: rag list --json"""
    with open_rag() as rag:
        docs = rag.documents()
    if as_json:
        rows = [
            {
                "id": d.id,
                "source": d.source,
                "title": d.title,
                "media_type": d.media_type,
                "status": str(d.status),
                "units": d.units,
                "tags": d.tags,
                "added": d.added,
                "reason": d.reason,
            }
            for d in docs
        ]
        out.print_json(json.dumps(rows, ensure_ascii=False))
    else:
        table = Table("id", "source", "status", "units", "tags", "reason")
        for d in docs:
            table.add_row(
                d.id[:12],
                escape(d.source),
                str(d.status),
                str(d.units),
                escape(",".join(d.tags)),
                escape(d.reason or ""),
            )
        out.print(table)
    err.print(f"{len(docs)} document(s).")


def delete(
    document: Annotated[str, typer.Argument(help="Document id, id prefix or file name.")],
) -> None:
    """Delete a document with its points and images. Example: rag delete report.pdf"""
    with open_rag() as rag:
        try:
            doc = rag.delete(document)
        except RagError as exc:
            raise fail(exc) from exc
    err.print(f"Deleted {escape(doc.source)} ({doc.id[:12]}, {doc.units} units).")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print status as JSON.")] = False,
) -> None:
    """Show the data directory, profile, document and point counts. Example: rag status"""
    with open_rag() as rag:
        try:
            info = rag.status().to_json()
        except RagError as exc:
            raise fail(exc) from exc
    if as_json:
        out.print_json(json.dumps(info))
    else:
        for key, value in info.items():
            out.print(f"{key:>16}: {escape(str(value))}")
    points = (
        "the store is open in another process"
        if info["store_busy"]
        else (f"{info['points']} point(s) in the store")
    )
    err.print(f"{info['documents']} document(s); {points}.")


def reindex() -> None:
    """Re-embed every unit with the configured profile/model from the stored page images
    and texts (no re-rendering, no re-upload), then switch to the new collection.
    Example: RAG_PROFILE=qwen3-vl rag reindex"""
    with open_rag() as rag:
        try:
            with Progress(*columns(), console=err, transient=True) as progress:
                task = progress.add_task("re-embedding", total=None)
                report = rag.reindex(
                    lambda done, total: progress.update(task, completed=done, total=total)
                )
        except RagError as exc:
            raise fail(exc) from exc
    rate = report.points / report.seconds if report.seconds else 0.0
    err.print(
        f"Re-indexed {report.points} units with {escape(report.embedder)} in"
        f" {report.seconds:.1f} s ({rate:.1f} units/s); now using {report.collection}."
    )


def backup(
    out: Annotated[Path, typer.Argument(help="The tar file to write.")],
) -> None:
    """Back up catalog, store, page images and uploads to one tar file.
    Example: rag backup backups/mmrag-2026-11-23.tar"""
    with open_rag() as rag:
        try:
            manifest = rag.backup(out)
        except RagError as exc:
            raise fail(exc) from exc
    size = out.stat().st_size / 1e6
    err.print(
        f"Backed up {manifest.documents} document(s), {manifest.units} units"
        f" to {escape(str(out))} ({size:.1f} MB)."
    )


def restore(
    backup_file: Annotated[Path, typer.Argument(help="A tar file written by rag backup.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a data directory that holds documents.")
    ] = False,
) -> None:
    """Restore a backup into the data directory, then check points against the catalog.
    Example: rag --data-dir restored/ restore backups/mmrag-2026-11-23.tar"""
    with open_rag() as rag:
        try:
            manifest = rag.restore(backup_file, replace)
        except RagError as exc:
            raise fail(exc) from exc
    err.print(
        f"Restored {manifest.documents} document(s), {manifest.points} points"
        f" into {escape(str(rag.settings.data_dir))}."
    )
