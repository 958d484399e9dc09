"""What every TAP endpoint shares: settings, database, the published
catalog, the spatial compiler, and turning a validated request into a
``QueryPlan`` for the one execution path."""

from __future__ import annotations

from dataclasses import dataclass

from adql import AdqlError, translate
from vo_server.catalog import PublishedCatalog, with_tables
from vo_server.config import Settings
from vo_server.db.pools import Database
from vo_server.formats.fields import Field
from vo_server.query.run import QueryPlan
from vo_server.tap.errors import TapError
from vo_server.tap.params import QueryRequest
from vo_server.tap.uploads import UploadSet


@dataclass
class TapService:
    settings: Settings
    db: Database
    catalog: PublishedCatalog
    app_state: object  # the Starlette app state: ``spatial`` may be replaced after startup

    @property
    def spatial(self):  # noqa: ANN201 - adql.SpatialCompiler
        return self.app_state.spatial

    async def plan(self, request: QueryRequest, uploads: UploadSet | None = None,
                   statement_timeout: float | None = None) -> QueryPlan:
        """Translate the ADQL (raising TapError with the translator's message,
        line and column) and build the plan; the SQL can return MAXREC + 1
        rows so overflow is detected."""
        for attempt in range(2):
            catalog = await self.catalog.catalog()
            if uploads is not None:
                catalog = with_tables(catalog, uploads.tables)
            try:
                translation = translate(request.query, catalog, spatial=self.spatial, max_rows=request.max_rec)
                break
            except AdqlError as exc:
                # a table ingested a moment ago may not be in the cached catalog yet
                if attempt == 0 and await self.catalog.refresh(force=True):
                    continue
                raise TapError(f"invalid ADQL query: {exc}") from None
        fields = [Field.of(c) for c in translation.columns]
        infos = [("QUERY", request.query), ("LANG", request.lang), ("MAXREC", str(request.max_rec))]
        infos += [("WARNING", w) for w in translation.warnings]
        return QueryPlan(translation.sql, fields, None, max_rows=request.max_rec,
                         infos=infos, statement_timeout=statement_timeout)
