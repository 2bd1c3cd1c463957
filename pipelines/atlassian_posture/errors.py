"""What can go wrong in a run, as one-line messages with the exit code a scheduler acts on.

Library code raises these; only the CLI prints and exits.
"""

from __future__ import annotations

from collections.abc import Iterator

EXIT_OK = 0
EXIT_FAILED = 1  # network, server: retry later
EXIT_CONFIG = 2  # fix the configuration
EXIT_AUTH = 3  # a credential was rejected (401)
EXIT_LOCKED = 4  # another run holds the warehouse lock
EXIT_TRANSFORM = 5  # dbt build failed; the raw data of this run is loaded
EXIT_GAPS = 6  # done, but coverage has a status `--fail-on` names (strict mode)

EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_FAILED: "failed (network, server)",
    EXIT_CONFIG: "configuration error",
    EXIT_AUTH: "a credential was rejected (401)",
    EXIT_LOCKED: "another run holds the warehouse lock",
    EXIT_TRANSFORM: "the transformation failed",
    EXIT_GAPS: "done, with coverage statuses --fail-on names",
}


class PostureError(Exception):
    """A failure a person can act on: the message is one line, `exit_code` is one of EXIT_CODES."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(PostureError, ValueError):
    """A configuration problem, in one line that names the key to fix."""

    exit_code = EXIT_CONFIG


class RunFailed(PostureError):
    """Extraction, the lock or the configuration stopped the run."""


class TransformFailed(PostureError):
    """dbt build failed; the message names the first failing node."""

    exit_code = EXIT_TRANSFORM


def causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what caused it (`__cause__`, else `__context__`), innermost last; each once."""
    cause: BaseException | None = exc
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__
