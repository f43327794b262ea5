"""The one exception family. Raised only when a file cannot be processed at all."""


class JixiaoError(Exception):
    """Base of every error jixiao raises on purpose; its message is Chinese and shown to users."""


class RejectedFile(JixiaoError):
    """A submitted file cannot be read as a submission (corrupt, encrypted, empty, not a template)."""

    def __init__(self, reason: str, *, code: str = "unreadable") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class DefinitionError(JixiaoError):
    """A form definition, rule catalogue or profile in schemas/ is malformed."""


class OutputError(JixiaoError):
    """An output cannot be written (disk full, permission denied)."""
