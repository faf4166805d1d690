"""Weather connectors: OpenWeatherMap, NOAA api.weather.gov, NOAA NCEI CDO v2."""
from connectors.weather.base import WEATHER_PROVIDERS, WeatherProvider, weather_provider

__all__ = ["WEATHER_PROVIDERS", "WeatherProvider", "weather_provider"]
