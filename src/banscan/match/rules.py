"""Which observation fields each kind of signature is checked against, and how much a hit weighs.

A vendor name in the publisher field means more than the same name inside a product name:
the weight of a hit depends on the signature's own strength and on the field it was found in.
"""

from __future__ import annotations

from banscan.model import F

# Text fields searched with the multi-pattern matcher, per signature kind (defaults; a signature's
# own ``fields`` list overrides them).
PUBLISHER_FIELDS = (F.PUBLISHER, F.OUI_VENDOR, F.TLS_SUBJECT_ORG, F.TLS_ISSUER_ORG)
NAME_FIELDS = (F.NAME,)
BANNER_FIELDS = (F.HTTP_SERVER, F.HTTP_TITLE, F.WWW_AUTH, F.RTSP_SERVER, F.BANNER, F.SYS_DESCR,
                 F.VENDOR_CLASS, F.MODEL)
TEXT_FIELDS = tuple(dict.fromkeys(PUBLISHER_FIELDS + NAME_FIELDS + BANNER_FIELDS))

DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    # a publisher string found in a name or banner counts too, one step weaker
    "publisher": PUBLISHER_FIELDS + NAME_FIELDS + BANNER_FIELDS,
    "product-name": NAME_FIELDS + (F.PUBLISHER,) + BANNER_FIELDS,
    "banner": BANNER_FIELDS + (F.TLS_SUBJECT_ORG, F.TLS_ISSUER_ORG),
}

# Fields where a hit of the kind keeps its full strength; elsewhere it is one step weaker.
HOME_FIELDS: dict[str, frozenset[str]] = {
    "publisher": frozenset(PUBLISHER_FIELDS),
    "product-name": frozenset(NAME_FIELDS),
    "banner": frozenset(BANNER_FIELDS + (F.TLS_SUBJECT_ORG, F.TLS_ISSUER_ORG)),
}

WEAKER = {"strong": "medium", "medium": "weak", "weak": "weak"}
POINTS = {"strong": 3, "medium": 2, "weak": 1}


def strength_in(kind: str, field: str, strength: str) -> str:
    """The strength of a ``kind`` signature hit found in ``field``."""
    home = HOME_FIELDS.get(kind)
    if home is not None and field not in home:
        return WEAKER[strength]
    return strength


def confidence_of(points: int) -> str:
    """Distinct signatures add up: 3 points (one strong, or medium + weak) is certain."""
    if points >= 3:
        return "certain"
    if points == 2:
        return "likely"
    return "possible"
