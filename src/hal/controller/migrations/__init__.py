"""Alembic migrations of HAL's database (run by the store at startup)."""
