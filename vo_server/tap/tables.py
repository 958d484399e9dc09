"""VOSI /tables (VODataService 1.1 tableset) from the same TAP_SCHEMA rows
the translator reads: the whole tableset, ``detail=min`` (tables without
columns, for archives with many tables) and ``/tables/{schema.table}``."""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from vo_server.catalog import find_table
from vo_server.metadata.model import ColumnMeta, KeyMeta, TableMeta
from vo_server.tap.errors import TapError, error_response
from vo_server.tap.service import TapService

NAMESPACES = ('xmlns:vosi="http://www.ivoa.net/xml/VOSITables/v1.0" '
              'xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')


def _element(tag: str, value: str | None) -> str:
    return f"<{tag}>{escape(value)}</{tag}>" if value else ""


def column_element(column: ColumnMeta, primary_key: list[str]) -> str:
    attrs = ""
    if column.arraysize:
        attrs += f' arraysize="{escape(column.arraysize)}"'
    if column.xtype:
        attrs += f' extendedType="{escape(column.xtype)}"'
    flags = "".join(f"<flag>{flag}</flag>" for flag, on in (
        ("indexed", column.indexed), ("primary", column.name in primary_key), ("nullable", column.nullable))
        if on)
    std = ' std="true"' if column.std else ""
    return (f"<column{std}>{_element('name', column.name)}{_element('description', column.description)}"
            f"{_element('unit', column.unit)}{_element('ucd', column.ucd)}{_element('utype', column.utype)}"
            f'<dataType xsi:type="vs:VOTableType"{attrs}>{escape(column.datatype)}</dataType>{flags}</column>')


def key_element(key: KeyMeta) -> str:
    columns = "".join(f"<fkColumn><fromColumn>{escape(f)}</fromColumn><targetColumn>{escape(t)}</targetColumn>"
                      "</fkColumn>" for f, t in key.columns)
    return (f"<foreignKey><targetTable>{escape(key.target_table)}</targetTable>{columns}"
            f"{_element('description', key.description)}{_element('utype', key.utype)}</foreignKey>")


def table_element(table: TableMeta, detail: bool = True, tag: str = "table", namespaces: str = "") -> str:
    body = _element("name", table.qualified_name) + _element("description", table.description) + _element(
        "utype", table.utype)
    if detail:
        body += "".join(column_element(c, table.primary_key) for c in table.columns)
        body += "".join(key_element(k) for k in table.keys)
    return f'<{tag}{namespaces} type="{escape(table.table_type or "table")}">{body}</{tag}>'


async def schema_descriptions(service: TapService) -> dict[str, str | None]:
    async with service.db.owner.connection() as conn:
        cur = await conn.execute("SELECT schema_name, description FROM tap_schema.schemas "
                                 "ORDER BY schema_index NULLS LAST, schema_name")
        return dict(await cur.fetchall())


async def tableset(request: Request) -> Response:
    service: TapService = request.app.state.tap
    detail = request.query_params.get("detail", "").lower()
    if detail not in ("", "min", "max"):
        return error_response(TapError(f"detail={detail!r}: use detail=min or detail=max"))
    tables = await service.catalog.tables()
    schemas = await schema_descriptions(service)
    by_schema: dict[str, list[TableMeta]] = {name: [] for name in schemas}
    for table in tables:
        by_schema.setdefault(table.schema, []).append(table)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', f"<vosi:tableset {NAMESPACES}>"]
    for name, members in by_schema.items():
        if not members:
            continue
        parts.append(f"<schema>{_element('name', name)}{_element('description', schemas.get(name))}")
        parts += [table_element(t, detail != "min") for t in members]
        parts.append("</schema>")
    parts.append("</vosi:tableset>\n")
    return Response("".join(parts), media_type="text/xml")


async def single_table(request: Request) -> Response:
    service: TapService = request.app.state.tap
    name = request.path_params["name"]
    table = find_table(await service.catalog.tables(), name)
    if table is None:
        return error_response(TapError(f"no table named {name!r}; see {service.settings.public_url}/tap/tables",
                                       status=404))
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + table_element(
        table, tag="vosi:table", namespaces=" " + NAMESPACES) + "\n"
    return Response(body, media_type="text/xml")
