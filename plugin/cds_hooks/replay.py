"""JWT ids already seen, so a captured CDS client token cannot be replayed (CDS Hooks 2.0
§Trusting CDS Clients: `jti` is a nonce).

Kept in this process's memory until the token's own `exp` (plus the clock leeway): a token
cannot pass the expiry check after that, so forgetting it then is safe. One process only — with
several workers behind a load balancer a replay could reach another worker within the token's
lifetime; such a deployment needs a shared store.
"""

from __future__ import annotations

__all__ = ["SeenTokenIds"]


class SeenTokenIds:
    def __init__(self) -> None:
        self._until: dict[tuple[str, str], float] = {}
        self._next_purge = 0.0

    def first_use(self, iss: str, jti: str, *, keep_until: float, now: float) -> bool:
        """Record (iss, jti) until `keep_until`; False when it was already recorded. Check and
        record happen without an await between them, so two concurrent uses cannot both win."""
        if now >= self._next_purge:
            self._purge(now)
        key = (iss, jti)
        if key in self._until and self._until[key] > now:
            return False
        self._until[key] = keep_until
        return True

    def __len__(self) -> int:
        return len(self._until)

    def _purge(self, now: float) -> None:
        self._until = {key: until for key, until in self._until.items() if until > now}
        self._next_purge = now + 60.0
