"""Where demo sites may stand: inland anchor towns per market region, with pricing node and time zone.

Anchors are real inland places in areas with wind, solar or storage build-out; demo sites are
placed within about 9 km of one (``JITTER_DEG``), so they stay on land. Pricing nodes are real:
ERCOT hubs and load zones (from the ERCOT DAM SPP fixture), CAISO trading hubs (from the CAISO
OASIS PRC_LMP fixture) and European bidding zones matching the SMARD price columns.
"""
from __future__ import annotations

from dataclasses import dataclass

JITTER_DEG = (0.08, 0.10)  # (lat, lon) half-widths


@dataclass(frozen=True)
class Anchor:
    """A place demo sites cluster around."""

    name: str
    latitude: float
    longitude: float
    altitude_m: float
    pricing_node: str
    timezone: str
    country: str
    area: str
    kinds: tuple[str, ...] = ("solar", "wind", "storage", "substation")
    price_zone: str = "DE-LU"


@dataclass(frozen=True)
class Region:
    """A market region of the demo fleet."""

    code: str
    portfolio_id: str
    portfolio_name: str
    market: str
    anchors: tuple[Anchor, ...]
    kind_weights: dict[str, float]
    temp_offset_c: float  # added to the source temperature (PSM3 Golden / ERA5 La Haute Borne)
    storage_duration_h: float
    wind_resource: tuple[float, float]


_TX = "America/Chicago"
ERCOT = Region(
    "ERC", "fl-ercot", "Fleetlight ERCOT", "ERCOT",
    (
        Anchor("Midland", 31.997, -102.078, 870, "HB_WEST", _TX, "US", "West Texas"),
        Anchor("Fort Stockton", 30.894, -102.879, 920, "LZ_WEST", _TX, "US", "West Texas"),
        Anchor("Pecos", 31.422, -103.493, 790, "HB_WEST", _TX, "US", "West Texas"),
        Anchor("McCamey", 31.132, -102.222, 740, "LZ_WEST", _TX, "US", "West Texas", ("wind", "substation")),
        Anchor("Sweetwater", 32.471, -100.406, 660, "HB_WEST", _TX, "US", "West Texas", ("wind", "storage", "substation")),
        Anchor("Abilene", 32.449, -99.733, 520, "LZ_WEST", _TX, "US", "West Texas"),
        Anchor("San Angelo", 31.464, -100.437, 560, "HB_WEST", _TX, "US", "West Texas"),
        Anchor("Snyder", 32.718, -100.917, 720, "LZ_WEST", _TX, "US", "West Texas", ("wind", "solar")),
        Anchor("Wichita Falls", 33.913, -98.493, 300, "HB_NORTH", _TX, "US", "North Texas"),
        Anchor("Graham", 33.107, -98.589, 330, "LZ_NORTH", _TX, "US", "North Texas"),
        Anchor("Waco", 31.549, -97.147, 140, "HB_NORTH", _TX, "US", "Central Texas"),
        Anchor("Llano", 30.751, -98.675, 310, "LZ_LCRA", _TX, "US", "Central Texas", ("solar", "storage")),
        Anchor("Austin East", 30.262, -97.560, 150, "LZ_AEN", _TX, "US", "Central Texas", ("solar", "storage", "substation")),
        Anchor("San Antonio South", 29.300, -98.500, 180, "LZ_CPS", _TX, "US", "South Texas", ("solar", "storage")),
        Anchor("Laredo", 27.600, -99.350, 140, "HB_SOUTH", _TX, "US", "South Texas"),
        Anchor("Kingsville", 27.500, -97.950, 20, "LZ_SOUTH", _TX, "US", "South Texas", ("wind", "solar")),
        Anchor("Victoria", 28.805, -97.003, 30, "HB_SOUTH", _TX, "US", "South Texas"),
        Anchor("Brookshire", 29.790, -95.950, 45, "HB_HOUSTON", _TX, "US", "Houston", ("solar", "storage", "substation")),
        Anchor("Angleton", 29.220, -95.450, 10, "LZ_HOUSTON", _TX, "US", "Houston", ("solar", "storage")),
    ),
    {"solar": 0.35, "wind": 0.35, "storage": 0.2, "substation": 0.1},
    7.0, 2.0, (1.0, 1.2),
)

_CA = "America/Los_Angeles"
CAISO = Region(
    "CAI", "fl-caiso", "Fleetlight CAISO", "CAISO",
    (
        Anchor("Woodland", 38.680, -121.800, 20, "TH_NP15_GEN-APND", _CA, "US", "Sacramento Valley", ("solar", "storage", "substation")),
        Anchor("Rio Vista", 38.180, -121.780, 10, "TH_NP15_GEN-APND", _CA, "US", "Solano", ("wind", "substation")),
        Anchor("Altamont Pass", 37.730, -121.660, 300, "TH_NP15_GEN-APND", _CA, "US", "Altamont", ("wind",)),
        Anchor("Redding", 40.500, -122.300, 150, "TH_NP15_GEN-APND", _CA, "US", "Shasta", ("solar",)),
        Anchor("Kettleman City", 36.010, -119.960, 80, "TH_ZP26_GEN-APND", _CA, "US", "Central Valley"),
        Anchor("Huron", 36.200, -120.100, 115, "TH_ZP26_GEN-APND", _CA, "US", "Westlands", ("solar", "storage")),
        Anchor("Hanford", 36.330, -119.650, 75, "TH_ZP26_GEN-APND", _CA, "US", "Central Valley", ("solar", "storage", "substation")),
        Anchor("Bakersfield", 35.370, -119.020, 120, "TH_ZP26_GEN-APND", _CA, "US", "Kern", ("solar", "storage")),
        Anchor("Tehachapi", 35.100, -118.350, 1200, "TH_SP15_GEN-APND", _CA, "US", "Tehachapi", ("wind", "substation")),
        Anchor("Mojave", 35.000, -118.100, 840, "TH_SP15_GEN-APND", _CA, "US", "Antelope Valley", ("solar", "wind", "storage")),
        Anchor("Lancaster", 34.720, -118.300, 720, "TH_SP15_GEN-APND", _CA, "US", "Antelope Valley", ("solar", "storage", "substation")),
        Anchor("Victorville", 34.540, -117.290, 870, "TH_SP15_GEN-APND", _CA, "US", "High Desert", ("solar", "storage")),
        Anchor("San Gorgonio", 33.920, -116.620, 400, "TH_SP15_GEN-APND", _CA, "US", "Coachella Valley", ("wind",)),
        Anchor("Blythe", 33.620, -114.700, 80, "TH_SP15_GEN-APND", _CA, "US", "Colorado Desert", ("solar", "storage", "substation")),
        Anchor("El Centro", 32.790, -115.560, 0, "TH_SP15_GEN-APND", _CA, "US", "Imperial Valley", ("solar", "storage")),
    ),
    {"solar": 0.5, "wind": 0.15, "storage": 0.25, "substation": 0.1},
    5.0, 4.0, (0.9, 1.1),
)

EUROPE = Region(
    "EU", "fl-europe", "Fleetlight Europe", "EPEX",
    (
        Anchor("Ohrstedt", 54.510, 9.270, 20, "DE-LU", "Europe/Berlin", "DE", "Schleswig-Holstein", ("wind", "substation"), "DE-LU"),
        Anchor("Aurich", 53.470, 7.480, 10, "DE-LU", "Europe/Berlin", "DE", "Lower Saxony", ("wind",), "DE-LU"),
        Anchor("Magdeburg", 52.130, 11.630, 60, "DE-LU", "Europe/Berlin", "DE", "Saxony-Anhalt", ("wind", "solar", "storage"), "DE-LU"),
        Anchor("Neuhardenberg", 52.600, 14.240, 20, "DE-LU", "Europe/Berlin", "DE", "Brandenburg", ("solar", "storage", "substation"), "DE-LU"),
        Anchor("Cottbus", 51.760, 14.330, 75, "DE-LU", "Europe/Berlin", "DE", "Brandenburg", ("solar", "wind", "storage"), "DE-LU"),
        Anchor("Regensburg", 49.010, 12.100, 340, "DE-LU", "Europe/Berlin", "DE", "Bavaria", ("solar",), "DE-LU"),
        Anchor("Augsburg", 48.370, 10.900, 490, "DE-LU", "Europe/Berlin", "DE", "Bavaria", ("solar", "storage"), "DE-LU"),
        Anchor("Chartres", 48.450, 1.490, 150, "FR", "Europe/Paris", "FR", "Centre-Val de Loire", ("wind", "substation"), "FR"),
        Anchor("Amiens", 49.890, 2.300, 60, "FR", "Europe/Paris", "FR", "Hauts-de-France", ("wind",), "FR"),
        Anchor("Reims", 49.260, 4.030, 90, "FR", "Europe/Paris", "FR", "Grand Est", ("wind", "storage"), "FR"),
        Anchor("Carcassonne", 43.210, 2.350, 110, "FR", "Europe/Paris", "FR", "Occitanie", ("solar", "wind"), "FR"),
        Anchor("Manosque", 43.830, 5.790, 400, "FR", "Europe/Paris", "FR", "Provence", ("solar", "storage"), "FR"),
        Anchor("Mont-de-Marsan", 43.890, -0.500, 60, "FR", "Europe/Paris", "FR", "Nouvelle-Aquitaine", ("solar",), "FR"),
        Anchor("Dronten", 52.520, 5.720, -4, "NL", "Europe/Amsterdam", "NL", "Flevoland", ("wind", "solar", "substation"), "NL"),
        Anchor("Veendam", 53.100, 6.880, 0, "NL", "Europe/Amsterdam", "NL", "Groningen", ("wind", "solar", "storage"), "NL"),
        Anchor("Herning", 56.140, 8.970, 50, "DK1", "Europe/Copenhagen", "DK", "Central Jutland", ("wind", "substation"), "DK1"),
        Anchor("Viborg", 56.450, 9.400, 40, "DK1", "Europe/Copenhagen", "DK", "Central Jutland", ("wind", "solar"), "DK1"),
        Anchor("Varde", 55.620, 8.480, 10, "DK1", "Europe/Copenhagen", "DK", "Southern Jutland", ("wind",), "DK1"),
        Anchor("Sjöbo", 55.630, 13.700, 60, "SE4", "Europe/Stockholm", "SE", "Skåne", ("wind",), "SE4"),
        Anchor("Słupsk", 54.400, 17.030, 30, "PL", "Europe/Warsaw", "PL", "Pomerania", ("wind", "substation"), "PL"),
        Anchor("Poznań", 52.410, 16.930, 80, "PL", "Europe/Warsaw", "PL", "Greater Poland", ("wind", "solar"), "PL"),
        Anchor("Łódź", 51.760, 19.460, 200, "PL", "Europe/Warsaw", "PL", "Łódź", ("solar",), "PL"),
        Anchor("Mantova", 45.160, 10.790, 20, "IT-NORD", "Europe/Rome", "IT", "Lombardy", ("solar", "storage"), "IT-NORD"),
        Anchor("Piacenza", 45.050, 9.690, 60, "IT-NORD", "Europe/Rome", "IT", "Emilia-Romagna", ("solar",), "IT-NORD"),
        Anchor("Kecskemét", 46.900, 19.690, 120, "HU", "Europe/Budapest", "HU", "Great Plain", ("solar", "storage"), "HU"),
    ),
    {"solar": 0.4, "wind": 0.4, "storage": 0.1, "substation": 0.1},
    0.0, 2.0, (0.9, 1.1),
)

REGIONS: tuple[Region, ...] = (ERCOT, CAISO, EUROPE)
REGION_WEIGHTS = {"ERC": 0.35, "CAI": 0.30, "EU": 0.35}
