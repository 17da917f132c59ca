"""`hotstar-sync simulate`: serve the local partner API simulator."""
