"""Alembic environment of the ledger: the URL comes from the config that :func:`mednet.ledger.store.upgrade` builds.

Alembic runs this file; imported anywhere else it does nothing.
"""

from alembic import context
from sqlalchemy import pool

from mednet.ledger.store import create_ledger_engine, metadata


def run_migrations(url: str) -> None:
    if context.is_offline_mode():  # `alembic upgrade --sql`: print the statements
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_ledger_engine(url)
    engine.pool = pool.NullPool(engine.pool._creator)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


config = getattr(context, "config", None)  # set only while Alembic runs this file
if config is not None:
    run_migrations(config.get_main_option("sqlalchemy.url") or "")
