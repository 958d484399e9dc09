"""Database access: the embedded server, connections, migrations, roles."""
