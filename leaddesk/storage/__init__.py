"""Storage: the SQLite data file, its models, sessions and migrations."""
