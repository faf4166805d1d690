"""The error a connector helper raises for one refused payload field (turned into the provider's error)."""
from __future__ import annotations


class FieldError(ValueError):
    """A field of a payload holds a value the parser refuses; the message names the field."""
