"""User-facing errors: what was wrong, where, and how to fix it, with an exit code.

The CLI catches ``UserError`` and prints its message and hint; no traceback reaches a user for
bad input. Exit codes: 0 ok, 1 findings, 2 usage or unreadable input, 3 out of memory.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_MEMORY = 3


class UserError(Exception):
    def __init__(self, message: str, hint: str = "", code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code

    def __str__(self) -> str:
        return self.message + (f"\nhint: {self.hint}" if self.hint else "")


MEMORY_HINT = ("lower --batch-size or -j (eval), --concurrency or --max-new-tokens (serve, generate), batch_size or "
               "max_length (train, pipeline configs), or run on a machine with more memory")


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says the machine or the accelerator ran out of memory: Python's MemoryError, torch's
    OutOfMemoryError, or the CUDA runtime's error that torch raises as a RuntimeError when the allocation fails
    inside a kernel launch. A user can act on it (a smaller batch), so it gets a message, not a traceback."""
    if isinstance(exc, MemoryError):
        return True
    if not isinstance(exc, RuntimeError):
        return False
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()
