"""UWS 1.1 XML documents: job, job list, parameters, results."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

from vo_server.tap.estimate import completion_quote
from vo_server.tap.jobs import Job

UWS_NS = "http://www.ivoa.net/xml/UWS/v1.0"
NAMESPACES = (f'xmlns:uws="{UWS_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _time(tag: str, value: dt.datetime | None) -> str:
    if value is None:
        return f'<uws:{tag} xsi:nil="true"/>'
    return f"<uws:{tag}>{iso(value)}</uws:{tag}>"


def parameters_element(job: Job, namespaces: str = "") -> str:
    parts = []
    for name, values in job.parameters.items():
        for value in values:
            parts.append(f"<uws:parameter id={quoteattr(name)}>{escape(value)}</uws:parameter>")
    for part in job.upload_parts:
        parts.append(f'<uws:parameter id={quoteattr(part)} byReference="true">param:{escape(part)}</uws:parameter>')
    return f"<uws:parameters{namespaces}>{''.join(parts)}</uws:parameters>"


def results_element(job: Job, base: str, namespaces: str = "") -> str:
    inner = ""
    if job.phase == "COMPLETED" and job.result_path:
        inner = (f'<uws:result id="result" xlink:type="simple" '
                 f'xlink:href={quoteattr(f"{base}/{job.job_id}/results/result")} '
                 f"mime-type={quoteattr(job.result_mime or '')}/>")
    return f"<uws:results{namespaces}>{inner}</uws:results>"


def job_document(job: Job, base: str) -> str:
    run_id = f"<uws:runId>{escape(job.run_id)}</uws:runId>" if job.run_id else ""
    error = ""
    if job.phase in ("ERROR", "ABORTED") and job.error_message:
        kind = "transient" if job.error_timeout else "fatal"
        error = (f'<uws:errorSummary type="{kind}" hasDetail="true">'
                 f"<uws:message>{escape(job.error_message)}</uws:message></uws:errorSummary>")
    info = ""
    if job.result_rows is not None:
        info = (f"<uws:jobInfo><rows>{job.result_rows}</rows>"
                f"<overflow>{'true' if job.result_overflow else 'false'}</overflow></uws:jobInfo>")
    return (HEAD + f'<uws:job {NAMESPACES} version="1.1">'
            f"<uws:jobId>{escape(job.job_id)}</uws:jobId>{run_id}"
            '<uws:ownerId xsi:nil="true"/>'
            f"<uws:phase>{job.phase}</uws:phase>"
            f"{_time('quote', completion_quote(job))}"
            f"{_time('creationTime', job.creation_time)}{_time('startTime', job.start_time)}"
            f"{_time('endTime', job.end_time)}"
            f"<uws:executionDuration>{job.execution_duration}</uws:executionDuration>"
            f"{_time('destruction', job.destruction)}"
            f"{parameters_element(job)}{results_element(job, base)}{error}{info}</uws:job>\n")


def job_list(jobs: list[Job], base: str) -> str:
    refs = "".join(
        f'<uws:jobref id={quoteattr(j.job_id)} xlink:href={quoteattr(f"{base}/{j.job_id}")}>'
        f"<uws:phase>{j.phase}</uws:phase>"
        + (f"<uws:runId>{escape(j.run_id)}</uws:runId>" if j.run_id else "")
        + f"<uws:creationTime>{iso(j.creation_time)}</uws:creationTime></uws:jobref>"
        for j in jobs)
    return HEAD + f'<uws:jobs {NAMESPACES} version="1.1">{refs}</uws:jobs>\n'
