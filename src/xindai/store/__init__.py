"""Storage: SQLAlchemy 2.0 models, the database engine and sessions, Alembic migrations.

SQLite is the embedded default, PostgreSQL the production database. Imports no service.
"""
