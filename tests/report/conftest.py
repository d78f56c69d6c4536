"""A realistic multi-asset scan for the report tests.

``estate`` is built from data objects (several assets and families, every requirement, past and
future deadlines, line, JSON Pointer and XPath locators, hostile inventory strings), so the report
tests do not wait on the policy engine.  ``pipeline_result`` runs the real scanner on the fixture
inventories under ``tests/fixtures/report`` (detections, no profile).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from banscan import registry as registry_mod
from banscan.errors import RegistryError
from banscan.model import (
    Confidence,
    Detection,
    Evidence,
    EvidenceClass,
    Finding,
    Locator,
    Observation,
    Relation,
    Requirement,
)
from banscan.scan import InputReport, ScanRequest, ScanResult, run

FIXTURES = Path(__file__).parent.parent / "fixtures" / "report"
XSS_NAME = "<script>alert(1)</script>"
IMG_XSS = '<img src=x onerror="window.__xss=1">'
FORMULA_PUBLISHER = '=HYPERLINK("http://x")'
HOSTILE_ASSET = "=cmd|' /C calc'!A0"
AS_OF = dt.date(2024, 1, 15)


@pytest.fixture(scope="session")
def reg(tmp_path_factory: pytest.TempPathFactory) -> registry_mod.Registry:
    return load_registry(tmp_path_factory.mktemp("registry"))


def load_registry(dst: Path) -> registry_mod.Registry:
    """The bundled registry; if it is mid-edit and does not load, the families and the restrictions
    whose references resolve (the report tests need names, texts and sources, not completeness)."""
    try:
        return registry_mod.load()
    except RegistryError:
        pass
    src = registry_mod.DATA_DIR
    shutil.copy(src / "registry.yaml", dst / "registry.yaml")
    for sub in ("families", "profiles", "generated"):
        if (src / sub).is_dir():
            shutil.copytree(src / sub, dst / sub)
    fams = {yaml.safe_load(p.read_text(encoding="utf-8"))["id"] for p in (src / "families").glob("*.yaml")}
    (dst / "restrictions").mkdir()
    for p in (src / "restrictions").glob("*.yaml"):
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        if set(doc.get("covers", {}).get("families", [])) <= fams:
            shutil.copy(p, dst / "restrictions" / p.name)
    return registry_mod.load(data_dir=dst)


def _det(did: str, asset: str, family: str, entity: str, product: str | None, category: str,
         fields: dict[str, str], path: str, locator: str, evidence: list[Evidence],
         confidence: Confidence = Confidence.CERTAIN, relation: Relation = Relation.PRODUCT,
         kind: str = "software", ec: EvidenceClass = EvidenceClass.INSTALLED,
         observed_at: str | None = None, service: str | None = None) -> Detection:
    return Detection(id=did, asset=asset, family=family, entity=entity, product=product, category=category,
                     relation=relation, confidence=confidence, evidence=evidence,
                     observation=Observation(kind, asset, fields, Locator(path, locator), ec, observed_at),
                     service=service)


FAR23_SOURCES = ["https://www.acquisition.gov/node/28710/printable/print"]
FAR25_SOURCES = ["https://farclause.com/FARregulation/Clause/FAR52.204-25,_Basic"]
BOD_SOURCES = ["https://www.cisa.gov/news-events/directives/bod-17-01-removal-kaspersky-branded-products"]


def _f(fid: str, det: Detection, restriction: str, citation: str, req: Requirement, deadline: str | None,
       sources: list[str], action: str, status: str = "open", legal_force: str = "procurement-rule",
       instrument: str = "FAR", steps: list | None = None, window: dict | None = None) -> Finding:
    return Finding(id=fid, detection=det.id, restriction=restriction, instrument=instrument, citation=citation,
                   sources=sources, requirement=req, deadline=deadline, profile="us-federal-contractor",
                   legal_force=legal_force, action=action, reasons=["profile us-federal-contractor"],
                   steps=steps or [], report_window=window, status=status, asset=det.asset, family=det.family)


@pytest.fixture
def estate() -> ScanResult:
    return build_estate()


def build_estate() -> ScanResult:
    kes = _det("det-kes0000001", "ws-finance-01", "kaspersky", "AO Kaspersky Lab", "Kaspersky Endpoint Security",
               "security-software",
               {"name": "Kaspersky Endpoint Security for Windows", "publisher": "AO Kaspersky Lab",
                "version": "12.3.0.493"},
               "inventories/ws-finance-01.cdx.json", "/components/1",
               [Evidence("publisher", "AO Kaspersky Lab", "kaspersky.publisher.0", "strong"),
                Evidence("name", "Kaspersky Endpoint Security for Windows", "kaspersky.product-name.0", "strong")],
               kind="component", ec=EvidenceClass.SBOM, observed_at="2024-01-12T09:30:00Z")
    xss = _det("det-xss0000002", "ws-finance-01", "kaspersky", "AO Kaspersky Lab", None, "security-software",
               {"name": XSS_NAME, "publisher": FORMULA_PUBLISHER + " Kaspersky Lab"},
               "inventories/ws-finance-01.cdx.json", "/components/2",
               [Evidence("publisher", FORMULA_PUBLISHER + " Kaspersky Lab", "kaspersky.publisher.1", "strong")],
               confidence=Confidence.LIKELY, kind="component", ec=EvidenceClass.SBOM)
    img = _det("det-img0000003", HOSTILE_ASSET, "kaspersky", "AO Kaspersky Lab", None, "security-software",
               {"name": IMG_XSS + " Kaspersky Free", "publisher": "Kaspersky"},
               "/srv/exports/arp-inventory.csv", "line 7",
               [Evidence("name", IMG_XSS + " Kaspersky Free", "kaspersky.product-name.3", "medium")],
               confidence=Confidence.POSSIBLE)
    cam = _det("det-cam0000004", "cctv-lobby", "hikvision",
               "Hangzhou Hikvision Digital Technology Co., Ltd.", "Hikvision cameras and recorders",
               "video-surveillance", {"name": "DS-2CD2143G2-I", "model": "DS-2CD2143G2-I",
                                      "publisher": "Hikvision", "serial": "G12345678"},
               "scans/lobby nmap.xml", "/nmaprun/host[3]",
               [Evidence("http_server", "App-webs/", "hikvision.banner.0", "medium"),
                Evidence("oui_vendor", "Hangzhou Hikvision Digital Technology Co.,Ltd.", "hikvision.publisher.0",
                         "strong")],
               kind="device", ec=EvidenceClass.NETWORK_DEVICE, observed_at="2024-01-10T14:00:00Z")
    rtr = _det("det-rtr0000005", "rtr-branch-02", "huawei", "Huawei Technologies Co., Ltd.", "Huawei AR router",
               "telecom-equipment", {"name": "AR6120", "model": "AR6120", "sys_descr": "Huawei Versatile Routing Platform"},
               "scans/snmp-walk.txt", "line 42",
               [Evidence("sys_descr", "Huawei Versatile Routing Platform", "huawei.banner.2", "strong")],
               kind="snmp", ec=EvidenceClass.NETWORK_DEVICE)
    ksn = _det("det-ksn0000006", "10.0.4.17", "kaspersky", "AO Kaspersky Lab", None, "cloud-service",
               {"domain": "dnl-01.geo.kaspersky.com"}, "logs/dns.log", "line 9",
               [Evidence("domain", "dnl-01.geo.kaspersky.com", "kaspersky.domain.0", "strong")],
               relation=Relation.SERVICE_CLIENT, kind="dns", ec=EvidenceClass.NETWORK_TRAFFIC,
               service="Kaspersky Security Network")
    dets = [kes, xss, img, cam, rtr, ksn]
    far23 = "us-far-52-204-23"
    far25 = "us-far-52-204-24-25-26"
    report_action_23 = ("Report to the Contracting Officer the contract number, order number, supplier, brand, "
                        "model, item description and mitigation actions.")
    findings = [
        _f("fnd-kes-prohib", kes, far23, "FAR 52.204-23(b)", Requirement.PROHIBITED, "2018-10-01", FAR23_SOURCES,
           "Do not use any covered article in performance of the contract."),
        _f("fnd-kes-report", kes, far23, "FAR 52.204-23(c)(2)(i)", Requirement.REPORT, "2024-01-18", FAR23_SOURCES,
           report_action_23,
           # the policy engine's steps: every variant, with deadlines counted from the as-of date
           steps=[{"requirement": "report", "action": report_action_23, "window": {"days": 1, "business": True},
                   "effective": "2018-07-16", "until": "2023-12-04", "deadline": "2024-01-16", "status": "ended",
                   "citation": "FAR 52.204-23(c)(2)(i)"},
                  {"requirement": "report", "action": report_action_23, "window": {"days": 3, "business": True},
                   "effective": "2023-12-04", "until": None, "deadline": "2024-01-18", "status": "active",
                   "citation": "FAR 52.204-23(c)(2)(i) as amended by FAC 2023-06"},
                  {"requirement": "report", "action": "Follow-up report - further information on mitigation.",
                   "window": {"days": 10, "business": True}, "effective": "2018-07-16", "until": None,
                   "deadline": "2024-01-29", "status": "active", "citation": "FAR 52.204-23(c)(2)(ii)"}]),
        _f("fnd-xss-prohib", xss, far23, "FAR 52.204-23(b)", Requirement.PROHIBITED, "2018-10-01", FAR23_SOURCES,
           "Do not use any covered article in performance of the contract."),
        _f("fnd-img-bod", img, "us-dhs-bod-17-01", "BOD 17-01", Requirement.REMOVE, "2024-02-20", BOD_SOURCES,
           "Remove Kaspersky-branded products.", legal_force="binding-directive", instrument="DHS BOD 17-01",
           status="planned"),
        _f("fnd-cam-prohib", cam, far25, "FAR 52.204-25(b)(2)", Requirement.PROHIBITED, "2020-08-13",
           FAR25_SOURCES, "Part B: do not use covered telecommunications equipment or services."),
        _f("fnd-cam-report", cam, far25, "FAR 52.204-25(d)(2)(i)", Requirement.REPORT, None, FAR25_SOURCES,
           "Report covered equipment identified during contract performance.", window={"days": 1, "business": True}),
        _f("fnd-rtr-procure", rtr, far25, "FAR 52.204-25(b)(1)", Requirement.DO_NOT_PROCURE, "2024-03-29",
           FAR25_SOURCES, "Part A: do not provide covered equipment to the Government.", status="resolved"),
        _f("fnd-ksn-adv", ksn, "us-bis-kaspersky-final-determination-2024", "15 CFR 791 (BIS final determination)",
           Requirement.ADVISORY, None,
           ["https://www.bis.gov/press-release/commerce-department-prohibits-russian-kaspersky-software-us-customers"],
           "Plan to stop using Kaspersky Security Network services.", legal_force="binding-regulation",
           instrument="BIS final determination"),
    ]
    inputs = [
        InputReport(path="inventories/ws-finance-01.cdx.json", format="cyclonedx-json", observations=4,
                    sha256="a" * 64, assets={"ws-finance-01": ["sbom"]}),
        InputReport(path="/srv/exports/arp-inventory.csv", format="software-csv", observations=12,
                    sha256="b" * 64, assets={HOSTILE_ASSET: ["installed"], "ws-hr-07": ["installed"]},
                    deviations=["line 3: " + XSS_NAME + " column without a header"]),
        InputReport(path="scans/lobby nmap.xml", format="nmap-xml", observations=3, sha256="c" * 64,
                    assets={"cctv-lobby": ["network-device"]}),
        InputReport(path="scans/snmp-walk.txt", format="snmp-walk", observations=50, sha256="d" * 64,
                    assets={"rtr-branch-02": ["network-device"]}),
        InputReport(path="logs/dns.log", format="zeek", observations=20, sha256="e" * 64,
                    assets={"10.0.4.17": ["network-traffic"], "10.0.4.23": ["network-traffic"]},
                    errors=["logs/dns.log:15: unterminated record"]),
    ]
    return ScanResult(registry={"version": "2024.01.15", "sha256": "f" * 64}, profiles=["us-federal-contractor"],
                      as_of=AS_OF, started_at="2024-01-15T10:00:00+00:00", finished_at="2024-01-15T10:00:05+00:00",
                      inputs=inputs, detections=dets, findings=findings)


@pytest.fixture
def pipeline_result(reg: registry_mod.Registry) -> ScanResult:
    return build_pipeline_result(reg)


def build_pipeline_result(reg: registry_mod.Registry) -> ScanResult:
    inputs = tuple(str(FIXTURES / n) for n in ("ws-finance-01.cdx.json", "cctv-lobby.cdx.json", "dns.log"))
    return run(ScanRequest(inputs=inputs, as_of=AS_OF), reg)


@pytest.fixture
def hostile() -> dict[str, str]:
    """The hostile inventory strings the estate carries."""
    return {"xss": XSS_NAME, "img": IMG_XSS, "formula": FORMULA_PUBLISHER, "asset": HOSTILE_ASSET}


@pytest.fixture
def profiled_result(reg: registry_mod.Registry) -> ScanResult:
    """The fixture inventories through the whole pipeline with the us-federal-contractor profile."""
    if "us-federal-contractor" not in reg.profiles:
        pytest.skip("profile us-federal-contractor not in the registry")
    inputs = tuple(str(FIXTURES / n) for n in ("ws-finance-01.cdx.json", "cctv-lobby.cdx.json", "dns.log"))
    result = run(ScanRequest(inputs=inputs, profiles=("us-federal-contractor",), as_of=AS_OF), reg)
    if not result.findings:
        pytest.skip("the policy engine gives no findings for the fixtures")
    return result
