"""Platform tables (SQLAlchemy Core): one schema, two dialects.

Feature tables are not here: each dataset has its own table, created by the
store (a GeoPackage feature table or a PostGIS table).
"""

from __future__ import annotations

import sqlalchemy as sa

# GeoPackage readers (GDAL, QGIS) know TEXT/INTEGER/REAL, not VARCHAR(n) or BIGINT.
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SCHEMA_VERSION = 3

metadata = sa.MetaData()

meta = sa.Table(
    "quartier_meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

workspace = sa.Table(
    "quartier_workspace",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("working_crs", sa.Integer, nullable=False),
    sa.Column("boundary_wkt", sa.Text),
    sa.Column("admin_dataset", sa.Text),
    sa.Column("created", sa.Text, nullable=False),
)

organisations = sa.Table(
    "quartier_organisations",
    metadata,
    sa.Column("slug", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("website", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.Text, nullable=False),
)

datasets = sa.Table(
    "quartier_datasets",
    metadata,
    sa.Column("slug", sa.Text, primary_key=True),
    sa.Column("table_name", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("title_en", sa.Text, nullable=False, default=""),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("description_en", sa.Text, nullable=False, default=""),
    sa.Column("theme", sa.Text, nullable=False, default=""),
    sa.Column("producer", sa.Text, sa.ForeignKey("quartier_organisations.slug")),
    sa.Column("steward", sa.Text, sa.ForeignKey("quartier_organisations.slug")),
    sa.Column("licence", sa.Text, nullable=False, default=""),
    sa.Column("attribution", sa.Text, nullable=False, default=""),
    sa.Column("access", sa.Text, nullable=False, default="public"),
    sa.Column("sensitive_fields", sa.Text, nullable=False, default="[]"),
    sa.Column("update_frequency", sa.Text, nullable=False, default=""),
    sa.Column("lineage", sa.Text, nullable=False, default=""),
    sa.Column("temporal_start", sa.Text),
    sa.Column("temporal_end", sa.Text),
    sa.Column("key_field", sa.Text),
    sa.Column("illustrative", sa.Boolean, nullable=False, default=False),
    sa.Column("kind", sa.Text, nullable=False, default="features"),
    sa.Column("geometry_type", sa.Text, nullable=False, default="GEOMETRY"),
    # every column the feature table has, as JSON [[name, type], …]
    sa.Column("columns", sa.Text, nullable=False, default="[]"),
    sa.Column("current_version", sa.Integer, nullable=False, default=0),
    sa.Column("feature_count", BigInt, nullable=False, default=0),
    sa.Column("min_x", sa.Float),
    sa.Column("min_y", sa.Float),
    sa.Column("max_x", sa.Float),
    sa.Column("max_y", sa.Float),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("updated", sa.Text, nullable=False),
)

versions = sa.Table(
    "quartier_versions",
    metadata,
    sa.Column(
        "dataset",
        sa.Text,
        sa.ForeignKey("quartier_datasets.slug"),
        primary_key=True,
    ),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("feature_count", BigInt, nullable=False),
    sa.Column("added", BigInt, nullable=False),
    sa.Column("removed", BigInt, nullable=False),
    sa.Column("changed", BigInt, nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("source", sa.Text, nullable=False, default=""),
    sa.Column("checksum", sa.Text, nullable=False, default=""),
    sa.Column("restored_from", sa.Integer),
    sa.Column("author", sa.Text, nullable=False, default=""),
    sa.Column("min_x", sa.Float),
    sa.Column("min_y", sa.Float),
    sa.Column("max_x", sa.Float),
    sa.Column("max_y", sa.Float),
)

users = sa.Table(
    "quartier_users",
    metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False, default=""),
    sa.Column("password_hash", sa.Text),
    sa.Column("created", sa.Text, nullable=False),
    # added in schema 2
    sa.Column("email", sa.Text, nullable=False, default=""),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
)

#: a user's role in an organisation (admin, steward, moderator, contributor, viewer)
memberships = sa.Table(
    "quartier_memberships",
    metadata,
    sa.Column(
        "username", sa.Text, sa.ForeignKey("quartier_users.username"), primary_key=True
    ),
    sa.Column(
        "organisation",
        sa.Text,
        sa.ForeignKey("quartier_organisations.slug"),
        primary_key=True,
    ),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
)

#: API tokens: only a SHA-256 of the secret is kept (tokens are 256-bit random)
tokens = sa.Table(
    "quartier_tokens",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, sa.ForeignKey("quartier_users.username")),
    sa.Column("name", sa.Text, nullable=False, default=""),
    sa.Column("secret_hash", sa.Text, nullable=False, unique=True),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("expires", sa.Text),
    sa.Column("last_used", sa.Text),
    sa.Column("revoked", sa.Text),
    #: "api" (Bearer) or "collect" (only in an ODK Collect server URL)
    sa.Column("scope", sa.Text, nullable=False, default="api", server_default="api"),
)

#: browser sessions: a SHA-256 of the cookie value, the CSRF token and expiry
sessions = sa.Table(
    "quartier_sessions",
    metadata,
    sa.Column("id_hash", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, sa.ForeignKey("quartier_users.username")),
    sa.Column("csrf", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("expires", sa.Text, nullable=False),
)

#: the change feed: one row per new dataset version (or metadata change), in order
changes = sa.Table(
    "quartier_changes",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("dataset", sa.Text, nullable=False),
    sa.Column("version", sa.Integer),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default="{}"),
)

#: outgoing webhooks; ``cursor`` is the last change-feed ``seq`` delivered
webhooks = sa.Table(
    "quartier_webhooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.Text, sa.ForeignKey("quartier_users.username")),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("datasets", sa.Text, nullable=False, default="[]"),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("cursor", sa.Integer, nullable=False, default=0),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.Text, nullable=False),
)

audit = sa.Table(
    "quartier_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default="{}"),
)

#: form versions (XForm XML as converted from the XLSForm); the latest is current
forms = sa.Table(
    "quartier_forms",
    metadata,
    sa.Column("form_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("xml", sa.Text, nullable=False),
    sa.Column("md5", sa.Text, nullable=False),
    sa.Column("organisation", sa.Text, sa.ForeignKey("quartier_organisations.slug")),
    sa.Column("dataset", sa.Text),
    sa.Column("mapping", sa.Text, nullable=False, default="{}"),
    sa.Column("campaign", sa.Text),
    sa.Column("media", sa.Text, nullable=False, default="{}"),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
)

#: media files of a form version (images and audio of its labels and choices)
form_media = sa.Table(
    "quartier_form_media",
    metadata,
    sa.Column("form_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("md5", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

#: submissions: ``instance_id`` is the idempotency key
submissions = sa.Table(
    "quartier_submissions",
    metadata,
    sa.Column("instance_id", sa.Text, primary_key=True),
    sa.Column("form_id", sa.Text, nullable=False, index=True),
    sa.Column("form_version", sa.Text, nullable=False),
    sa.Column("xml", sa.Text, nullable=False),
    sa.Column("submitter", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("received", sa.Text, nullable=False),
    sa.Column("updated", sa.Text, nullable=False),
    sa.Column("reviewer", sa.Text, nullable=False, default=""),
    sa.Column("note", sa.Text, nullable=False, default=""),
)

#: a submission's files, kept in the store so that a 201 means they are durable
attachments = sa.Table(
    "quartier_attachments",
    metadata,
    sa.Column("instance_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

#: residents' reports and contests of features; ``id`` (a client UUID) is the
#: idempotency key; ``status`` mirrors the last status event
reports = sa.Table(
    "quartier_reports",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False, default=""),
    sa.Column("organisation", sa.Text, nullable=False, default=""),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False, default=False),
    sa.Column("created", sa.Text, nullable=False, index=True),
    sa.Column("updated", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False, default=""),
    sa.Column("contact", sa.Text, nullable=False, default=""),
    sa.Column("reporter", sa.Text, nullable=False, default=""),
    sa.Column("dataset", sa.Text, index=True),
    sa.Column("feature_id", sa.Text),
    sa.Column("dataset_version", sa.Integer),
    sa.Column("verdict", sa.Text),
)

#: a report's history: rows are only ever added
report_events = sa.Table(
    "quartier_report_events",
    metadata,
    sa.Column("report_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("actor", sa.Text, nullable=False, default=""),
    sa.Column("organisation", sa.Text, nullable=False, default=""),
)

#: a report's photos (metadata stripped before they are stored)
report_photos = sa.Table(
    "quartier_report_photos",
    metadata,
    sa.Column("report_id", sa.Text, primary_key=True),
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

#: mapping campaigns (task grids over an area, HOT Tasking Manager style)
campaigns = sa.Table(
    "quartier_campaigns",
    metadata,
    sa.Column("slug", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("instructions", sa.Text, nullable=False, default=""),
    sa.Column("organisation", sa.Text, sa.ForeignKey("quartier_organisations.slug")),
    sa.Column("area", sa.Text, nullable=False),  # WKT, EPSG:4326
    sa.Column("grid", sa.Text, nullable=False),
    sa.Column("cell_size", sa.Float, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("public", sa.Boolean, nullable=False, default=True),
    sa.Column("forms", sa.Text, nullable=False, default="[]"),
    sa.Column("dataset", sa.Text),
    sa.Column("starts", sa.Text, nullable=False, default=""),
    sa.Column("ends", sa.Text, nullable=False, default=""),
    sa.Column("lock_minutes", sa.Integer, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
    # touched by every cell transition: serialises them per campaign
    sa.Column("touched", sa.Text, nullable=False, default=""),
)

#: a campaign's task cells: settled state plus the current lock, if any
campaign_cells = sa.Table(
    "quartier_campaign_cells",
    metadata,
    sa.Column("campaign", sa.Text, primary_key=True),
    sa.Column("cell", sa.Integer, primary_key=True),
    sa.Column("geometry", sa.Text, nullable=False),  # WKT, EPSG:4326
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("locked_by", sa.Text, nullable=False, default=""),
    sa.Column("locked_until", sa.Text, nullable=False, default=""),
    sa.Column("lock_kind", sa.Text, nullable=False, default=""),
    sa.Column("mapped_by", sa.Text, nullable=False, default=""),
    sa.Column("validated_by", sa.Text, nullable=False, default=""),
    sa.Column("updated", sa.Text, nullable=False, default=""),
)

#: every cell transition, append-only
campaign_events = sa.Table(
    "quartier_campaign_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign", sa.Text, nullable=False, index=True),
    sa.Column("cell", sa.Integer, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("from_state", sa.Text, nullable=False),
    sa.Column("to_state", sa.Text, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
)

#: data-sharing agreements (a holder lets partner organisations read datasets)
agreements = sa.Table(
    "quartier_agreements",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("holder", sa.Text, sa.ForeignKey("quartier_organisations.slug")),
    sa.Column("partners", sa.Text, nullable=False),  # JSON list of slugs
    sa.Column("datasets", sa.Text, nullable=False),  # JSON list of slugs
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("starts", sa.Text, nullable=False),
    sa.Column("ends", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
    sa.Column("updated", sa.Text, nullable=False, default=""),
)

#: the city's objectives for its data programme (indicators as JSON)
objectives = sa.Table(
    "quartier_objectives",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("owner", sa.Text, sa.ForeignKey("quartier_organisations.slug")),
    sa.Column("indicators", sa.Text, nullable=False),  # JSON list of objects
    sa.Column("datasets", sa.Text, nullable=False),  # JSON list of slugs
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
    sa.Column("updated", sa.Text, nullable=False, default=""),
    sa.Column("updated_by", sa.Text, nullable=False, default=""),
)

#: roadmap items: datasets or capabilities to build, with a steward
roadmap = sa.Table(
    "quartier_roadmap",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("organisation", sa.Text, sa.ForeignKey("quartier_organisations.slug")),
    sa.Column("steward", sa.Text, nullable=False, default=""),
    sa.Column("target_date", sa.Text, nullable=False, default=""),
    sa.Column("reference", sa.Text, nullable=False, default="", index=True),
    sa.Column("dataset", sa.Text, nullable=False, default=""),
    sa.Column("objective", sa.Text, nullable=False, default=""),
    sa.Column("priority", sa.Text, nullable=False, default=""),  # "": suggested
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
    sa.Column("updated", sa.Text, nullable=False, default=""),
    sa.Column("updated_by", sa.Text, nullable=False, default=""),
)

#: every status change of an objective or roadmap item, append-only
programme_events = sa.Table(
    "quartier_programme_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.Text, nullable=False),  # objective | roadmap
    sa.Column("subject", sa.Text, nullable=False, index=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("from_status", sa.Text, nullable=False),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
)

#: the city's own reference list of essential datasets (empty: the shipped one)
reference_entries = sa.Table(
    "quartier_reference_entries",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),  # the entry as JSON
    sa.Column("updated", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
)
#: what organisations declare they can do, produce, could produce or offer
#: on request (the ecosystem; see domain/ecosystem.py)
capacities = sa.Table(
    "quartier_capacities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organisation", sa.Text, nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("ref", sa.Text, nullable=False, default=""),
    sa.Column("label", sa.Text, nullable=False, default=""),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
)

#: partners' requests for access to restricted datasets (decided once)
access_requests = sa.Table(
    "quartier_access_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dataset", sa.Text, nullable=False, index=True),
    sa.Column("requester", sa.Text, nullable=False, index=True),
    sa.Column("organisation", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("starts", sa.Text, nullable=False),
    sa.Column("ends", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("decided_by", sa.Text, nullable=False, default=""),
    sa.Column("decided_at", sa.Text, nullable=False, default=""),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("agreement", sa.Text, nullable=False, default=""),
)
#: one pending request per requester and dataset (two sent at once: one wins)
sa.Index(
    "quartier_access_requests_one_pending",
    access_requests.c.requester,
    access_requests.c.dataset,
    unique=True,
    sqlite_where=access_requests.c.status == "pending",
    postgresql_where=access_requests.c.status == "pending",
)
