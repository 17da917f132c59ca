"""`hotstar-sync db upgrade|current`: the source database's schema."""
