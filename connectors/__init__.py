"""Connectors: one module per provider, pure ``parse_*`` functions plus thin ``fetch_*`` clients.

Families: :mod:`connectors.weather` (WeatherProvider) and :mod:`connectors.markets`
(MarketProvider); canonical records in :mod:`connectors.records`; storage in
:mod:`connectors.store`; scheduled polling in :mod:`connectors.polling`.
"""
