"""Errors the domain raises for its callers to map."""


class UnknownConnection(LookupError):
    """The store holds no live record of this connection id."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(f"no connection {connection_id!r} in the store")
        self.connection_id = connection_id


class TooManyRooms(ValueError):
    """A join would take the connection past the rooms it may be in at once."""

    def __init__(self, connection_id: str, limit: int) -> None:
        super().__init__(f"connection {connection_id!r} is already in {limit} rooms")
        self.limit = limit


class StoreError(RuntimeError):
    """The store could not complete an operation; the message says what is left undone."""


class InvalidToken(ValueError):
    """A token failed verification; the message says why (never echoes the token)."""


class DispatchError(RuntimeError):
    """Some shards of a broadcast could not be handed to workers; the others were."""

    def __init__(self, sent: int, failed: int, reason: str) -> None:
        super().__init__(f"{failed} shard(s) could not be dispatched ({sent} were): {reason}")
        self.sent = sent
        self.failed = failed
