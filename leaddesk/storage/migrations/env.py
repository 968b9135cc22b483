"""Alembic environment: upgrades run on the connection LeadDesk passes in."""

from alembic import context
from sqlalchemy import create_engine

from leaddesk.storage.models import Base

target_metadata = Base.metadata


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        # Used when a developer runs `alembic` by hand against a file given in the URL.
        url = context.config.get_main_option("sqlalchemy.url")
        with create_engine(url).connect() as own_connection:
            _run(own_connection)
            own_connection.commit()
        return
    _run(connection)


def _run(connection) -> None:
    # render_as_batch lets later migrations alter SQLite tables, which ALTER cannot.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_online()
