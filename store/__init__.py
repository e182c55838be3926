"""Durable state: account taxonomies and human corrections, in SQLite (embedded default)
or PostgreSQL (at scale), through SQLAlchemy 2.

This package never imports grpc or the generated stubs; `service` converts to and from them.
"""

from verbatim.store.corrections import Action, Correction, Outcome, SubmitResult, validate_correction
from verbatim.store.engine import DEFAULT_STORE_URL, STORE_URL_ENV, store_url_from_env
from verbatim.store.errors import (AccountExists, CorrectionConflict, InvalidCorrection, InvalidInput, InvalidTaxonomy,
                                   SchemaError, SchemaTooNew, StoreError, TagHasChildren, UnknownAccount, UnknownTag)
from verbatim.store.labels import CommentLabels, TagLabel
from verbatim.store.migrations import LATEST_VERSION
from verbatim.store.store import Store

__all__ = [
    "AccountExists", "Action", "CommentLabels", "Correction", "CorrectionConflict", "DEFAULT_STORE_URL",
    "InvalidCorrection",
    "InvalidInput", "InvalidTaxonomy", "LATEST_VERSION", "Outcome", "STORE_URL_ENV", "SchemaError",
    "SchemaTooNew", "Store", "StoreError", "SubmitResult", "TagHasChildren", "TagLabel", "UnknownAccount",
    "UnknownTag", "store_url_from_env", "validate_correction",
]
