"""Seeds derived from what a computation is about; nothing random at module level."""

import hashlib


def derive_seed(*parts: object) -> int:
    """A stable 31-bit seed from any printable parts (same parts, same seed)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF
