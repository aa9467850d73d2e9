"""The producer's page of the review room: the production's books summed (hours by department,
role, union and residence; each person's confirmed AI-assisted hours; local and other spend) and
each incentive program's estimate.

Rates and pay are the producer's business: the page is for producers only (others get 403), as
``soundstage books report --no-pay`` is the crew's version.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from soundstage.project import incentives
from soundstage.web.auth import Producer, production_of
from soundstage.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/books")
async def books_page(
    request: Request,
    _who: Producer,
    as_of: Annotated[date | None, Query(description="the rules in effect on this day; default today")] = None,
) -> HTMLResponse:
    """The books summary and the incentive estimates, as of ``as_of``."""
    # The report's formatting and its note on AI-assisted work, imported here: it brings
    # matplotlib and fpdf2, which the rest of the review room does not need at start.
    from soundstage.books.report import AI_HOURS_NOTE, hours, money, percent

    context = production_of(request)
    # The estimate reads the whole ledger: off the event loop, as the other long reads are.
    found = await run_in_threadpool(incentives.incentives, context, as_of=as_of)
    summary = await run_in_threadpool(incentives.summary, context)
    page = {
        "summary": summary,
        "estimate": found.estimate,
        "skipped": found.skipped,
        "money": money,
        "hours": hours,
        "percent": percent,
        "ai_note": AI_HOURS_NOTE,
    }
    return render(request, "books.html", page)
