"""MOC services: coverage of tables and sky maps, and MOC-based discovery."""
