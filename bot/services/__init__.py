"""The service catalog (SERVICES_FILE): who owns a service, how to page its on-call, where to
tell, which runbooks come first."""

from bot.services.loader import load_catalog
from bot.services.model import Catalog, CatalogProblem, OpsgenieTarget, PagerDutyTarget, Service

__all__ = [
    "Catalog",
    "CatalogProblem",
    "OpsgenieTarget",
    "PagerDutyTarget",
    "Service",
    "load_catalog",
]
