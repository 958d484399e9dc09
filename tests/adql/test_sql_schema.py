"""TableInfo.sql_schema: the schema the SQL names, when it differs from the
one queries use (TAP uploads: TAP_UPLOAD.t in ADQL, a per-job schema in SQL)."""

from __future__ import annotations

from adql import translate
from adql.catalog import ColumnInfo, SimpleCatalog, TableInfo

COLUMNS = (ColumnInfo("id", "long"), ColumnInfo("name", "char", "*"))
CATALOG = SimpleCatalog.of([
    TableInfo("TAP_UPLOAD", "mine", COLUMNS, sql_schema="tap_upload_0123abcd"),
    TableInfo("cat", "stars", COLUMNS),
])


def test_sql_names_the_physical_schema():
    sql = translate("SELECT u.id FROM TAP_UPLOAD.mine AS u WHERE u.name = 'TAP_UPLOAD.mine'", CATALOG).sql
    assert '"tap_upload_0123abcd"."mine"' in sql
    assert '"TAP_UPLOAD"' not in sql
    assert "'TAP_UPLOAD.mine'" in sql  # a string literal is data, untouched


def test_tables_without_sql_schema_keep_their_schema():
    sql = translate("SELECT s.id FROM cat.stars AS s JOIN tap_upload.mine AS u ON s.id = u.id", CATALOG).sql
    assert '"cat"."stars"' in sql and '"tap_upload_0123abcd"."mine"' in sql
