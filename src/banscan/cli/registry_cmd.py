"""``banscan registry``: validate, list and show the registry's families, restrictions and profiles."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from banscan.cli.common import ConfigOpt, RegistryOpt, dump_json, registry_from, settings
from banscan.errors import EXIT_INPUT, BanscanError
from banscan.registry import Registry, load
from banscan.textsafe import rich_text as Text
from banscan.textsafe import term

registry_app = typer.Typer(
    name="registry",
    help="The registry: vendor families, their signatures, government restrictions and organisation profiles, "
         "each with its sources.",
    no_args_is_help=True,
)


def Console(*args: Any, **kw: Any) -> Any:  # noqa: N802 - rich's class, imported when used
    from rich.console import Console as cls

    return cls(*args, **kw)


def Table(*args: Any, **kw: Any) -> Any:  # noqa: N802 - rich's class, imported when used
    from rich.table import Table as cls

    return cls(*args, **kw)


def _d(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def restriction_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "title": r.title, "jurisdiction": r.jurisdiction, "authority": r.authority,
        "instrument": r.instrument, "citation": r.citation, "legal_force": r.legal_force.value,
        "binding": r.legal_force.binding, "confidence": r.confidence.value,
        "families": list(r.covers.families), "categories": [c.value for c in r.covers.categories],
        "relations": list(r.covers.relations), "basis": r.covers.basis,
        "binds": list(r.binds), "binds_text": r.binds_text,
        "binds_no_one": r.legal_force.why_nothing_binds,
        "adopted": _d(r.adopted), "effective": _d(r.effective or r.adopted), "ends": _d(r.ends),
        "superseded_by": r.superseded_by,
        "obligations": [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v)
             for k, v in o.model_dump(mode="json", exclude_none=True).items()}
            for o in r.obligations
        ],
        "text": r.text, "notes": list(r.notes), "sources": list(r.sources),
    }


def family_json(f: Any, reg: Registry) -> dict[str, Any]:
    return {
        "id": f.id, "name": f.name, "country": f.country, "default_category": f.default_category.value,
        "entities": [e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in f.entities],
        "products": [p.model_dump(mode="json", by_alias=True, exclude_none=True) for p in f.products],
        "signatures": len([s for s in reg.signatures if s.family == f.id and not s.negative]),
        "negative_signatures": len([s for s in reg.signatures if s.family == f.id and s.negative]),
        "oui_assignments": len([a for a in reg.oui if a.family == f.id]),
        "sources": list(f.sources),
    }


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app)


@registry_app.command("validate", help="Check the bundled registry and the given overlay FILEs: one line per "
                                       "problem (file, line, key, what is wrong); exit 2 when any.")
def validate(files: Annotated[list[str] | None, typer.Argument(metavar="[FILE]...")] = None,
             registry: RegistryOpt = None) -> None:
    try:
        reg = load([*(registry or []), *(files or [])])
    except BanscanError as e:
        for p in e.problems:
            typer.echo(term(f"banscan: error: {p}"), err=True)
        typer.echo(f"{len(e.problems)} problem(s) found", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    typer.echo(f"registry {reg.version} (sha256 {reg.sha256}) is valid: {len(reg.families)} families, "
               f"{len(reg.signatures)} signatures, {len(reg.oui)} IEEE assignments, "
               f"{len(reg.restrictions)} restrictions, {len(reg.profiles)} profiles")


@registry_app.command("list", help="List families, restrictions and profiles.")
def list_(
    families: Annotated[bool, typer.Option("--families", help="Only vendor families.")] = False,
    restrictions: Annotated[bool, typer.Option("--restrictions", help="Only restrictions.")] = False,
    profiles: Annotated[bool, typer.Option("--profiles", help="Only organisation profiles.")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    registry: RegistryOpt = None,
    config: ConfigOpt = None,
) -> None:
    reg = registry_from(settings(registry=registry, config=config))
    every = not (families or restrictions or profiles)
    if fmt == "json":
        out: dict[str, Any] = {"registry": {**reg.meta(), "oui_source": reg.oui_source, "oui_date": reg.oui_date}}
        if every or families:
            out["families"] = [family_json(f, reg) for f in reg.families.values()]
        if every or restrictions:
            out["restrictions"] = [restriction_json(r) for r in
                                   sorted(reg.restrictions.values(), key=lambda r: (r.adopted, r.id))]
        if every or profiles:
            out["profiles"] = [p.model_dump(mode="json") for p in reg.profiles.values()]
        dump_json(out, reg)
        return
    console = Console()
    console.print(Text(f"registry {reg.version} sha256 {reg.sha256}", style="bold"))
    if every or families:
        t = Table("id", "name", "entities", "products", "signatures", "IEEE", title="Vendor families")
        for f in reg.families.values():
            fj = family_json(f, reg)
            t.add_row(f.id, Text(f.name), str(len(f.entities)), str(len(f.products)),
                      str(fj["signatures"]), str(fj["oui_assignments"]))
        console.print(t)
    if every or restrictions:
        t = Table("id", "where", "instrument", "force", "adopted", "families", title="Restrictions")
        for r in sorted(reg.restrictions.values(), key=lambda r: (r.adopted, r.id)):
            t.add_row(r.id, r.jurisdiction, Text(r.instrument), r.legal_force.value, r.adopted.isoformat(),
                      ", ".join(r.covers.families))
        console.print(t)
    if every or profiles:
        t = Table("id", "name", "description", title="Organisation profiles")
        for p in reg.profiles.values():
            t.add_row(p.id, Text(p.name), Text(p.description))
        console.print(t)


@registry_app.command("show", help="Show one family, restriction, profile or signature by id, with its sources.")
def show(
    ident: Annotated[str, typer.Argument(metavar="ID")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
    registry: RegistryOpt = None,
    config: ConfigOpt = None,
) -> None:
    reg = registry_from(settings(registry=registry, config=config))
    obj: dict[str, Any] | None = None
    kind = ""
    if ident in reg.restrictions:
        kind, obj = "restriction", restriction_json(reg.restrictions[ident])
    elif ident in reg.families:
        kind, obj = "family", family_json(reg.families[ident], reg)
        obj["restrictions"] = [r.id for r in reg.restrictions_naming(ident)]
    elif ident in reg.profiles:
        kind, obj = "profile", reg.profiles[ident].model_dump(mode="json")
        tags = reg.profiles[ident].all_tags
        obj["restrictions"] = sorted(r.id for r in reg.restrictions.values() if tags & set(r.binds))
    else:
        sig = reg.signature(ident)
        if sig is not None:
            kind = "signature"
            obj = {"id": sig.id, "family": sig.family, "kind": sig.kind, "values": list(sig.values),
                   "ecosystem": sig.ecosystem, "product": sig.product, "entity": sig.entity,
                   "category": sig.category, "relation": sig.relation, "strength": sig.strength,
                   "negative": sig.negative, "note": sig.note, "sources": list(sig.sources)}
    if obj is None:
        raise BanscanError(f"'{ident}' is not a family, restriction, profile or signature id "
                           "(see 'banscan registry list')")
    if fmt == "json":
        dump_json({"kind": kind, kind: obj}, reg)
        return
    console = Console()
    console.print(Text(f"{kind} {ident}", style="bold"))
    for k, v in obj.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            console.print(Text(f"{k}:", style="bold"))
            for item in v:
                console.print(Text("  - " + ", ".join(f"{a}={b}" for a, b in item.items())))
        elif isinstance(v, list):
            console.print(Text(f"{k}: ", style="bold") + Text("; ".join(map(str, v))))
        elif v is not None:
            console.print(Text(f"{k}: ", style="bold") + Text(str(v)))
