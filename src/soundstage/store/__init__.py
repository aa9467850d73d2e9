"""Persistence: the database (SQLAlchemy 2 typed ORM, Alembic migrations) and the media store."""
