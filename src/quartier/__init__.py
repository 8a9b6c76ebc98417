"""Quartier — la plateforme des données urbaines d'une ville.

The public Python API for notebooks::

    from quartier import open_store, Settings
    store = open_store("demo.gpkg")
    store.list_datasets()
"""

from quartier.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuartierError,
)
from quartier.settings import Settings, load_settings
from quartier.storage import open_store

__version__ = "0.1.0"

__all__ = [
    "Conflict",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "QuartierError",
    "Settings",
    "load_settings",
    "open_store",
]
