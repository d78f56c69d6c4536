"""Read registry YAML files, validate them and report every problem as ``file:line: key: what``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from banscan.errors import RegistryError
from banscan.registry import DATA_DIR  # noqa: F401 - also importable from here, as before
from banscan.registry.schema import (
    DomainTable,
    Family,
    FamilySignature,
    OuiTable,
    Overlay,
    PenTable,
    Profile,
    Restriction,
)

if TYPE_CHECKING:
    import yaml
else:
    class _Yaml:
        """PyYAML, imported when a registry file is read (a warm start loads the compiled cache)."""

        def __getattr__(self, name: str) -> Any:
            import yaml

            return getattr(yaml, name)

    yaml = _Yaml()


@cache
def _line_loader() -> Any:
    class _LineLoader(yaml.SafeLoader):
        """A safe loader that leaves dates as strings, so that pydantic checks them and a bad date
        ("2024-13-40") is a validation error with its place, not a crash."""

    _LineLoader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _LineLoader


def _compose(text: str) -> Any:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None


def _node_line(text: str, loc: tuple[Any, ...], root: Any = False) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (a pydantic error location); ``root``: the
    document already composed (composing once per error is quadratic for many errors)."""
    node = _compose(text) if root is False else root
    if node is None:
        return None
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == part:
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(document)"


def validation_messages(path: str, text: str, err: ValidationError, prefix: tuple[Any, ...] = ()) -> list[str]:
    msgs = []
    root = _compose(text)
    for e in err.errors():
        loc = prefix + tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        line = _node_line(text, loc, root)
        where = f"{path}:{line}" if line else path
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "missing":
            msg = "required key is missing"
        msgs.append(f"{where}: {_loc_text(loc)}: {msg}")
    return msgs


MAX_YAML_BYTES = 16 << 20


def read_yaml(path: Path) -> tuple[str, Any]:
    """Text and data of a registry YAML file: regular files only, at most MAX_YAML_BYTES."""
    from banscan.errors import BanscanError
    from banscan.safeio import read_limited

    try:
        text = read_limited(path, MAX_YAML_BYTES, "registry file").decode("utf-8")
    except BanscanError as e:
        raise RegistryError(e.problems) from None
    except UnicodeDecodeError as e:
        raise RegistryError([f"{path}: cannot read: {e}"]) from None
    try:
        return text, yaml.load(text, Loader=_line_loader())  # noqa: S506 - SafeLoader subclass
    except RecursionError:
        raise RegistryError([f"{path}: not valid YAML: nested too deeply"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RegistryError([f"{where}: not valid YAML: {getattr(e, 'problem', e)}"]) from None


def parse_model(model: type[BaseModel], path: Path, errors: list[str]) -> Any:
    try:
        text, data = read_yaml(path)
    except RegistryError as e:
        errors.extend(e.problems)
        return None
    if not isinstance(data, dict):
        errors.append(f"{path}:1: expected a mapping at the top of the file")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors.extend(validation_messages(str(path), text, e))
        return None


class RawRegistry:
    """Everything the registry files hold, before indexing."""

    def __init__(self) -> None:
        self.version = "0"
        self.families: dict[str, Family] = {}
        self.restrictions: dict[str, Restriction] = {}
        self.profiles: dict[str, Profile] = {}
        self.extra_signatures: list[FamilySignature] = []
        self.oui: OuiTable | None = None
        self.domains: DomainTable | None = None
        self.pen: PenTable | None = None
        self.files: list[tuple[str, bytes]] = []  # (name, content) for the digest
        self.origin: dict[str, str] = {}  # object id -> file it came from


def load_tree(root: Path, raw: RawRegistry, errors: list[str]) -> None:
    manifest = root / "registry.yaml"
    if manifest.exists():
        _, data = read_yaml(manifest)
        if data is not None and not isinstance(data, dict):
            raise RegistryError([f"{manifest}:1: expected a mapping (version: …) at the top of the file"])
        raw.version = str((data or {}).get("version", raw.version))
        raw.files.append(("registry.yaml", manifest.read_bytes()))
    for sub, model, target in (
        ("families", Family, raw.families),
        ("restrictions", Restriction, raw.restrictions),
        ("profiles", Profile, raw.profiles),
    ):
        for path in sorted((root / sub).glob("*.yaml")):
            raw.files.append((f"{sub}/{path.name}", path.read_bytes()))
            obj = parse_model(model, path, errors)
            if obj is None:
                continue
            if path.stem != obj.id:
                errors.append(f"{path}:1: id '{obj.id}' does not match the file name '{path.stem}'")
            _add(target, obj, str(path), raw, errors)
    oui = root / "generated" / "oui.json"
    if oui.exists():
        content = oui.read_bytes()
        raw.files.append(("generated/oui.json", content))
        try:
            raw.oui = OuiTable.model_validate(json.loads(content))
        except (ValueError, ValidationError) as e:
            errors.append(f"{oui}: invalid IEEE assignment table: {str(e).splitlines()[0]}")
    tables: tuple[tuple[str, type[BaseModel], str, str], ...] = (
        ("domains.json", DomainTable, "domains", "domain table"),
        ("pen.json", PenTable, "pen", "enterprise number table"))
    for name, table_model, attr, what in tables:
        path = root / "generated" / name
        if not path.exists():
            continue
        content = path.read_bytes()
        raw.files.append((f"generated/{name}", content))
        try:
            setattr(raw, attr, table_model.model_validate(json.loads(content)))
        except (ValueError, ValidationError) as e:
            errors.append(f"{path}: invalid {what}: {str(e).splitlines()[0]}")


def _add(target: dict[str, Any], obj: Any, origin: str, raw: RawRegistry, errors: list[str]) -> None:
    if obj.id in target:
        errors.append(f"{origin}: duplicate id '{obj.id}' (also in {raw.origin.get(obj.id, '?')})")
        return
    target[obj.id] = obj
    raw.origin[obj.id] = origin


def load_overlay(path: Path, raw: RawRegistry, errors: list[str]) -> None:
    ov = parse_model(Overlay, path, errors)
    raw.files.append((f"overlay/{path.name}", path.read_bytes() if path.is_file() else b""))
    if ov is None:
        return
    if ov.version:
        raw.version = f"{raw.version}+{ov.version}"
    for coll, target in ((ov.families, raw.families), (ov.restrictions, raw.restrictions), (ov.profiles, raw.profiles)):
        for obj in coll:
            # an overlay may replace a bundled object of the same id: the organisation's word wins
            target[obj.id] = obj
            raw.origin[obj.id] = str(path)
    for s in ov.signatures:
        raw.extra_signatures.append(s)
        raw.origin.setdefault(f"sig:{id(s)}", str(path))


def check_references(raw: RawRegistry, errors: list[str]) -> None:
    fams = raw.families
    for f in fams.values():
        where = raw.origin.get(f.id, f.id)
        ents = {e.id for e in f.entities}
        prods = {p.id for p in f.products}
        for p in f.products:
            if p.entity and p.entity not in ents:
                errors.append(f"{where}: products[{p.id}].entity: unknown entity '{p.entity}'")
            for j, op in enumerate(p.operators):
                if op.entity and op.entity not in ents:
                    errors.append(f"{where}: products[{p.id}].operators[{j}].entity: unknown entity '{op.entity}'")
                if op.from_ and op.to and op.to <= op.from_:
                    errors.append(f"{where}: products[{p.id}].operators[{j}]: 'to' is not after 'from'")
        for i, m in enumerate(f.marks):
            if m.entity and m.entity not in ents:
                errors.append(f"{where}: marks[{i}].entity: unknown entity '{m.entity}'")
            if m.product and m.product not in prods:
                errors.append(f"{where}: marks[{i}].product: unknown product '{m.product}'")
        for i, s in enumerate(f.signatures):
            if s.product and s.product not in prods:
                errors.append(f"{where}: signatures[{i}].product: unknown product '{s.product}'")
            if s.entity and s.entity not in ents:
                errors.append(f"{where}: signatures[{i}].entity: unknown entity '{s.entity}'")
            if s.kind == "package" and not s.ecosystem:
                errors.append(f"{where}: signatures[{i}].ecosystem: a package signature needs an ecosystem")
            if s.kind == "snmp-pen" and not all(v.isdigit() for v in s.values):
                errors.append(f"{where}: signatures[{i}].values: SNMP enterprise numbers must be integers")
    for s in raw.extra_signatures:
        where = raw.origin.get(f"sig:{id(s)}", "overlay")
        if s.family not in fams:
            errors.append(f"{where}: signatures: unknown family '{s.family}'")
    for r in raw.restrictions.values():
        where = raw.origin.get(r.id, r.id)
        for i, fid in enumerate(r.covers.families):
            if fid not in fams:
                errors.append(f"{where}: covers.families[{i}]: unknown family '{fid}'")
        all_prods = {p.id for fid in r.covers.families if fid in fams for p in fams[fid].products}
        all_ents = {e.id for fid in r.covers.families if fid in fams for e in fams[fid].entities}
        for key, ids, known in (("products", r.covers.products, all_prods),
                                ("exclude_products", r.covers.exclude_products, all_prods),
                                ("entities", r.covers.entities, all_ents),
                                ("exclude_entities", r.covers.exclude_entities, all_ents)):
            for i, pid in enumerate(ids):
                if pid not in known:
                    errors.append(f"{where}: covers.{key}[{i}]: unknown {key.split('_')[-1][:-1]} '{pid}'")
        if r.superseded_by and r.superseded_by not in raw.restrictions:
            errors.append(f"{where}: superseded_by: unknown restriction '{r.superseded_by}'")
    if raw.oui:
        for a in raw.oui.assignments:
            if a.family not in fams:
                errors.append(f"generated/oui.json: {a.prefix}: unknown family '{a.family}'")
    gen: list[tuple[str, str, str, str | None, str | None]] = []
    if raw.domains:
        gen += [("domains.json", d.domain, d.family, d.entity, d.product) for d in raw.domains.domains]
    if raw.pen:
        gen += [("pen.json", str(a.number), a.family, a.entity, None) for a in raw.pen.assignments]
    for fname, key, fid, eid, prod_id in gen:
        if fid not in fams:
            errors.append(f"generated/{fname}: {key}: unknown family '{fid}'")
            continue
        if eid and eid not in {e.id for e in fams[fid].entities}:
            errors.append(f"generated/{fname}: {key}: unknown entity '{eid}' of family '{fid}'")
        if prod_id and prod_id not in {p.id for p in fams[fid].products}:
            errors.append(f"generated/{fname}: {key}: unknown product '{prod_id}' of family '{fid}'")


def digest(files: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, content in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return h.hexdigest()
