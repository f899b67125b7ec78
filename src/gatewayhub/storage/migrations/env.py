"""Alembic environment: migrations always run on a connection gatewayhub hands over."""

from alembic import context

from gatewayhub.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through gatewayhub (Database.migrate), which passes a connection"
    )

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
