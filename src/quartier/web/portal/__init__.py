"""The portal: French-first HTML pages for residents, partners and staff.

Pages are Jinja2 templates with small ES modules (``static/js``); the map
library comes from npm into ``static/vendor`` (no CDN). Each area is a router:
``public`` (home, catalogue, dataset pages, charter), ``explorer`` (the map),
``profiles`` (neighbourhood profiles), ``auth`` (sign in/out), ``console``
(staff).
"""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from quartier.web.portal import (
        analyses,
        auth,
        calls,
        campaigns,
        console,
        console_forms,
        console_reference,
        diagnostic,
        diagnostic_report,
        ecosystem,
        evaluation,
        explorer,
        profiles,
        programme,
        programme_hub,
        public,
        reports,
        webforms,
    )

    return [
        public.router,
        explorer.router,
        profiles.router,
        diagnostic.router,
        programme_hub.router,
        ecosystem.router,
        diagnostic_report.router,
        evaluation.router,
        calls.router,
        analyses.router,
        auth.router,
        console.router,
        console_forms.router,
        console_reference.router,
        reports.router,
        reports.console_router,
        campaigns.router,
        campaigns.console_router,
        webforms.router,
        programme.router,
        programme.console_router,
    ]
