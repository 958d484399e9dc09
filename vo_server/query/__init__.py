"""The one execution path shared by TAP, SCS, SIA and the GW endpoints:
a protocol builds a ``QueryPlan``; ``run_query`` executes it read-only as
the query role and yields rows in batches; a writer streams them out."""

from vo_server.query.run import QueryFailed, QueryPlan, QueryResult, run_query

__all__ = ["QueryFailed", "QueryPlan", "QueryResult", "run_query"]
