"""Location search helpers (place geocoding for the fleet map)."""
