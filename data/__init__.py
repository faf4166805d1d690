"""Data access: SQLAlchemy models, engine and session handling, and read queries for pages and API."""
