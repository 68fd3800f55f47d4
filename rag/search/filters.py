"""Parse user filters (`--filter key=value`) into a `SearchFilter`.

Keys: `doc` (id, id prefix or file name), `modality` (page, image, audio, video, text),
`tag`, `after` and `before` (ISO dates or datetimes, UTC). A key given twice matches
any of its values; different keys must all hold.
"""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from rag.core.errors import QueryError
from rag.core.records import Modality, SearchFilter

KEYS = ("doc", "modality", "tag", "after", "before")


def _timestamp(value: str) -> float:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise QueryError(f"{value!r} is not a date; use YYYY-MM-DD or an ISO datetime.") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def parse_filters(specs: Iterable[str], resolve_document: Callable[[str], str]) -> SearchFilter:
    """`resolve_document` maps a user's document reference to its id (raising if unknown)."""
    where = SearchFilter()
    modalities = {m.value for m in Modality}
    for spec in specs:
        key, sep, value = spec.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value or key not in KEYS:
            raise QueryError(
                f"Bad filter {spec!r}; use key=value with key one of {', '.join(KEYS)}."
            )
        if key == "doc":
            where.documents.append(resolve_document(value))
        elif key == "modality":
            if value not in modalities:
                raise QueryError(
                    f"Unknown modality {value!r}; one of {', '.join(sorted(modalities))}."
                )
            where.modalities.append(value)
        elif key == "tag":
            where.tags.append(value)
        elif key == "after":
            where.added_after = _timestamp(value)
        else:
            where.added_before = _timestamp(value)
    return where
