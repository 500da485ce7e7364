"""Storage: SQLAlchemy models and the database, the webhooks' call store, prepared statements, the
directory of sellers and orders, and the Alembic migrations."""
