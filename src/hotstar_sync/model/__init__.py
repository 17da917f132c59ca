"""The pure model of the mirror: content types, validation, window planning. No I/O."""

from hotstar_sync.model.content import CONTENT_TYPES, MOVIE, Column, ContentType

__all__ = ["CONTENT_TYPES", "MOVIE", "Column", "ContentType"]
