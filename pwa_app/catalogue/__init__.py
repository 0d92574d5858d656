"""What citizens read about the town hall's procedures and offices, in every language."""

__all__ = ["content", "published"]  # the public modules; the rest is theirs
