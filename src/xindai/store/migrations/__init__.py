"""Alembic migrations of the Xindai schema, shipped inside the package so that an installed
`xindai` can migrate its database (`xindai db upgrade`); see `xindai.store.migrate`."""
