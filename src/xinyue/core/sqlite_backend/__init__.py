"""Django's SQLite backend, with every transaction queued for the one writer across processes
(``core.sqlite_writer``). ``config.sqlite_config`` names it as the engine."""
