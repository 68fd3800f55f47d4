"""The one exception tree of mmrag; every message is written for the person using the tool.

    RagError
    ├── ConfigError            a setting or profile that cannot work
    ├── ModelError             a model that cannot be found or loaded
    ├── StoreError             the vector store cannot be opened or used
    │   ├── StoreBusyError     another process holds the embedded store
    │   └── EmbedderMismatchError  the collection was built by another embedder
    ├── DocumentNotFoundError  no document matches the given id or name
    ├── QueryError             a query that cannot be run (empty, too long)
    ├── GeneratorError         the answer model's server failed (ask falls back to quotes)
    ├── BackupError            a backup is not ours or unreadable, or a restore would overwrite
    └── IngestError            one file could not be ingested (the batch goes on)
        ├── EmptyFileError
        ├── UnsupportedFileError
        ├── CorruptFileError
        ├── EncryptedFileError
        ├── TooLargeError
        └── MissingExtraError  an optional tool the file needs is not installed

The CLI turns these into a red one-line message and an exit code; nothing else
is caught at the edges, so a bug still shows its traceback.
"""


def first_line(exc: BaseException) -> str:
    """An exception as one line for a summary: its first line of text, else its type name."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class RagError(Exception):
    """Base class: `str(error)` is a complete sentence shown to the user."""


class ConfigError(RagError):
    """A setting has a value that cannot work."""


class ModelError(RagError):
    """A model reference does not resolve or the model fails to load."""


class StoreError(RagError):
    """The vector store cannot be opened, read or written."""


class StoreBusyError(StoreError):
    """The embedded store is open in another process (it allows one writer)."""


class EmbedderMismatchError(StoreError):
    """The collection holds vectors of another embedder than the configured one."""


class DocumentNotFoundError(RagError):
    """No catalogued document matches what the user named."""


class QueryError(RagError):
    """A query that cannot be run as given."""


class GeneratorError(RagError):
    """The OpenAI-compatible server could not produce an answer."""


class BackupError(RagError):
    """A backup file is missing, unreadable or not ours, or a restore would overwrite data."""


class IngestError(RagError):
    """One file could not be ingested; the message is its one-line reason."""


class EmptyFileError(IngestError):
    """The file has no bytes."""


class UnsupportedFileError(IngestError):
    """The file's content is of a type no loader handles."""


class CorruptFileError(IngestError):
    """The file claims a supported type but cannot be parsed."""


class EncryptedFileError(IngestError):
    """The file is password protected."""


class TooLargeError(IngestError):
    """The file is over a configured limit (bytes or pages)."""


class MissingExtraError(IngestError):
    """An optional tool this file needs is not installed; the message says which."""
