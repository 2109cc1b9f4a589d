"""Alembic environment of the ledger: the URL comes from the config that :func:`mednet.ledger.store.upgrade` builds."""

from alembic import context
from sqlalchemy import pool

from mednet.ledger.store import create_ledger_engine, metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():  # `alembic upgrade --sql`: print the statements
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_ledger_engine(url)
    engine.pool = pool.NullPool(engine.pool._creator)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
