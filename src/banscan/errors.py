"""One error hierarchy; the CLI prints ``BanscanError`` as one line per problem and exits with its code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2  # unreadable input, bad registry or configuration, usage error


class BanscanError(Exception):
    exit_code = EXIT_INPUT

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class InputError(BanscanError):
    """An input could not be read (file and place named in the message)."""


class RegistryError(BanscanError):
    """The registry or an overlay is invalid."""


class ProfileError(BanscanError):
    """An unknown or invalid organisation profile."""


class StoreError(BanscanError):
    """The database could not be opened or written."""


class ConfigError(BanscanError):
    """A bad configuration value (banscan.toml, environment variable or flag)."""
