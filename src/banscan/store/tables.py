"""SQLAlchemy Core tables.  The schema itself is created by the Alembic migrations in
``migrations/versions``; keep the two in step (``tests/store`` checks they agree).

Findings lifecycle: one ``findings`` row per stable key ``asset + family + product +
restriction`` (the requirement is not part of the key: a restriction's obligations, report then
remove, are steps of one finding; the row keeps the strongest requirement and earliest open
deadline seen last), and ``finding_events`` is the append-only history.  What each scan found
is its report JSON (``scans.report``), the one record every read rebuilds from.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Integer primary keys autoincrement on both SQLite (INTEGER PRIMARY KEY) and PostgreSQL.
PK = BigInteger().with_variant(Integer(), "sqlite")

scans = Table(
    "scans", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # scan | reevaluation
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("registry_version", String(100), nullable=False),
    Column("registry_sha256", String(64), nullable=False),
    Column("profiles", Text, nullable=False),  # JSON list
    Column("as_of", Date, nullable=False),
    Column("tool_version", String(40), nullable=False),
    Column("based_on", Text, nullable=True),  # JSON list of scan ids a re-evaluation started from
    Column("note", Text, nullable=True),
    Column("report", Text, nullable=False),  # the full ScanResult JSON, to rebuild a report
)

inputs = Table(
    "inputs", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("scan_id", ForeignKey("scans.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("path", Text, nullable=False),
    Column("format", String(64), nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("observations", Integer, nullable=False, default=0),
    Column("errors", Text, nullable=False),  # JSON list
    Column("deviations", Text, nullable=False),  # JSON list
    Column("skipped", Text, nullable=True),
)

# The distinct normalised observations of one asset and evidence class (banscan.evidence), stored
# once per distinct content: ``data`` is the zlib-compressed canonical JSON of the records.
evidence_sets = Table(
    "evidence_sets", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("asset", String(512), nullable=False),
    Column("evidence_class", String(32), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("records", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    UniqueConstraint("asset", "evidence_class", "digest", name="uq_evidence_sets_key"),
)

# Which asset and evidence class each scan covered, with the evidence set it read (NULL for scans
# recorded before evidence was kept, and for re-evaluations) and the inputs (JSON [[path, format, sha256]]).
scan_assets = Table(
    "scan_assets", metadata,
    Column("scan_id", ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    Column("asset", String(512), primary_key=True),
    Column("evidence_class", String(32), primary_key=True),
    Column("evidence_set", ForeignKey("evidence_sets.id", ondelete="SET NULL",
                                      name="fk_scan_assets_evidence_set"), nullable=True),
    Column("inputs", Text, nullable=True),
    # the filter the evidence set's records were selected with (evidence_filters.digest; NULL:
    # every record was kept) -- banscan.fast.evfilter
    Column("evidence_filter", String(64), nullable=True),
    Index("ix_scan_assets_asset", "asset", "scan_id"),
)

# The filters (the registry's anchors) that block-scanned stored evidence was selected with,
# once per distinct filter: ``spec`` is the zlib-compressed JSON of banscan.fast.evfilter.spec_of.
evidence_filters = Table(
    "evidence_filters", metadata,
    Column("digest", String(64), primary_key=True),
    Column("spec", LargeBinary, nullable=False),
)

# The day each product (registry product id, else "") of a family was first seen on an asset
# (banscan.keys.product_key): report windows count from it.
products_seen = Table(
    "products_seen", metadata,
    Column("key", String(32), primary_key=True),
    Column("asset", String(512), nullable=False),
    Column("family", String(64), nullable=False),
    Column("product", String(200), nullable=False),
    Column("first_seen", String(40), nullable=False),
    Column("first_scan", ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
    Column("last_seen", String(40), nullable=False),
    Column("last_scan", ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
    Index("ix_products_seen_asset", "asset"),
)

findings = Table(
    "findings", metadata,
    Column("id", String(32), primary_key=True),  # F-<12 hex>: stable key digest
    Column("asset", String(512), nullable=False),
    Column("family", String(64), nullable=False),
    Column("product", String(200), nullable=False),  # "" when the detection names no product
    Column("restriction", String(128), nullable=False),
    Column("requirement", String(32), nullable=False),
    Column("deadline", Date, nullable=True),
    Column("profiles", Text, nullable=False),  # JSON list of profiles it was found under
    Column("status", String(16), nullable=False),
    Column("evidence_classes", Text, nullable=False),  # JSON list: classes still seeing it
    Column("owner", Text, nullable=True),
    Column("due", Date, nullable=True),
    Column("note", Text, nullable=True),
    Column("reason", Text, nullable=True),  # waiver or false-positive reason
    Column("approver", Text, nullable=True),
    Column("expires", Date, nullable=True),  # waiver expiry (valid through this date)
    Column("first_seen", String(40), nullable=False),
    Column("first_scan", ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
    Column("last_seen", String(40), nullable=False),
    Column("last_scan", ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
    Column("resolved_at", String(40), nullable=True),
    Column("resolved_scan", ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
    Column("updated_at", String(40), nullable=False),
    Column("data", Text, nullable=False),  # the latest Finding JSON
    UniqueConstraint("asset", "family", "product", "restriction", name="uq_findings_key"),
    Index("ix_findings_status", "status"),
    Index("ix_findings_asset", "asset"),
)

finding_events = Table(
    "finding_events", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("finding_key", ForeignKey("findings.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("scan_id", ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
    Column("at", String(40), nullable=False),
    Column("actor", Text, nullable=False),
    Column("event", String(32), nullable=False),  # opened seen resolved reopened planned waived ...
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=True),
    Column("detail", Text, nullable=False),  # JSON object
)

# Each scan's report (``scans.report``) also in parts, to read one asset's without the whole scan's:
# part "head" (asset "") is the report without its detections, findings and upcoming obligations;
# part "asset" holds one asset's detections, the findings of those detections and its upcoming
# obligations (JSON {"detections", "findings", "upcoming"}).  Scans recorded before have none.
scan_report_parts = Table(
    "scan_report_parts", metadata,
    Column("scan_id", ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
    Column("part", String(8), primary_key=True),
    Column("asset", String(512), primary_key=True),
    Column("data", Text, nullable=False),
)

from banscan.store import service_tables as _service_tables  # noqa: E402,F401  (same metadata)
from banscan.store import web_tables as _web_tables  # noqa: E402,F401  (same metadata)
