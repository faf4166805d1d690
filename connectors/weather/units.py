"""Unit codes of weather payloads (WMO / NWS ``unitCode``) converted to the canonical WeatherObs units.

Canonical units (see connectors.records.WeatherObs): temperature °C, speed m/s, pressure hPa,
precipitation mm, direction degrees, cloud cover %. NWS writes codes as ``wmoUnit:<code>`` (WMO
Manual on Codes, common code table C-6) or, in older answers, ``unit:<code>``. A code that is not
in :data:`UNITS`, or a code for another quantity than the field's, is refused by name: a value is
never read in a unit we do not know.
"""
from __future__ import annotations

from collections.abc import Callable

from connectors.errors import FieldError

Converter = Callable[[float], float]

#: code (without prefix) -> (quantity, conversion to the canonical unit of that quantity)
UNITS: dict[str, tuple[str, Converter]] = {
    "degC": ("temperature", lambda v: v),
    "degF": ("temperature", lambda v: (v - 32.0) * 5.0 / 9.0),
    "K": ("temperature", lambda v: v - 273.15),
    "m_s-1": ("speed", lambda v: v),
    "km_h-1": ("speed", lambda v: v / 3.6),
    "kt": ("speed", lambda v: v * 0.514444),  # WMO code for knot
    "mi_h-1": ("speed", lambda v: v * 0.44704),
    "Pa": ("pressure", lambda v: v / 100.0),
    "hPa": ("pressure", lambda v: v),
    "mm": ("length", lambda v: v),
    "cm": ("length", lambda v: v * 10.0),
    "m": ("length", lambda v: v * 1000.0),
    "in": ("length", lambda v: v * 25.4),
    "degree_(angle)": ("angle", lambda v: v),
    "percent": ("percent", lambda v: v),
}
PREFIXES = ("wmoUnit:", "unit:", "wmo:")


def convert(value: float, unit_code: object, quantity: str, field: str) -> float:
    """Return ``value`` given in ``unit_code`` in the canonical unit of ``quantity``.

    Raises FieldError naming ``field`` and the code when the code is missing, unknown, or measures
    another quantity (e.g. ``wmoUnit:Pa`` on a temperature).
    """
    if not isinstance(unit_code, str) or not unit_code.strip():
        raise FieldError(f"{field}: value {value!r} has no unitCode")
    code = unit_code.strip()
    bare = next((code[len(p):] for p in PREFIXES if code.startswith(p)), None)
    entry = UNITS.get(bare) if bare is not None else None
    if entry is None:
        raise FieldError(f"{field}: unknown unitCode {code!r} (known: {', '.join(sorted(UNITS))})")
    kind, to_canonical = entry
    if kind != quantity:
        raise FieldError(f"{field}: unitCode {code!r} measures {kind}, expected {quantity}")
    return to_canonical(value)
