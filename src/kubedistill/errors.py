"""User-facing errors: what was wrong, where, and how to fix it, with an exit code.

The CLI catches ``UserError`` and prints its message and hint; no traceback reaches a user for
bad input. Exit codes: 0 ok, 1 findings, 2 usage or unreadable input.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class UserError(Exception):
    def __init__(self, message: str, hint: str = "", code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code

    def __str__(self) -> str:
        return self.message + (f"\nhint: {self.hint}" if self.hint else "")
