"""The demo fleet: real measured series (demo_data/), output models derived from them, and seeding.

* :mod:`demo.series`   loads and cleans the real series (cached).
* :mod:`demo.pvmodel`  vectorised pvlib clear-sky PV output at many sites.
* :mod:`demo.dispatch` battery dispatch against real day-ahead prices.
* :mod:`demo.profiles` kW (and weather) for many assets at arbitrary UTC timestamps.
* :mod:`demo.fleet`    the deterministic demo fleet plan and :func:`demo.fleet.seed_demo_fleet`.
"""
