"""The portal's own database: accounts, tokens, idempotency records and the read model of
tickets projected from ledger blocks (SQLite by default, PostgreSQL by setting)."""
