"""Reusable layout pieces: the app shell, KPI tiles, tables, theme helpers."""
