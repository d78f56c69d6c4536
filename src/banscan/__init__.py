"""banscan: find products of banned or restricted ICT vendors, link each to the law, track removal.

The pipeline, one subpackage per stage:

    registry/  vendor families, signatures, restrictions, profiles (sourced data)
    sources/   one reader per input format -> Observations with locators
    match/     Observations x signatures -> Detections
    policy/    Detections x restrictions x profile x date -> Findings
    store/     scan history and the findings lifecycle (SQLite / PostgreSQL)
    report/    terminal, JSON, SARIF, CSV, HTML, FAR drafts, OSCAL
    cli/       the command line
"""

__version__ = "0.1.0"
