"""The log layer: entries, the hash chain, the RFC 9162 tree and the append-only store."""
