"""Energy-market connectors: ERCOT, CAISO OASIS, ENTSO-E Transparency, EEX."""
from connectors.markets.base import MARKET_PROVIDERS, MarketProvider, market_provider

__all__ = ["MARKET_PROVIDERS", "MarketProvider", "market_provider"]
