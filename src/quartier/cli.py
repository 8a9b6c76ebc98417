"""The ``quartier`` command: parse, call one service, print. Nothing more."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from quartier.cli_agreements import agreements_app
from quartier.cli_analyze import analyze_app
from quartier.cli_campaigns import campaigns_app
from quartier.cli_diagnose import diagnose
from quartier.cli_ecosystem import access_requests_app, capacity_app
from quartier.cli_evaluation import calls, evaluate
from quartier.cli_forms import forms_app
from quartier.cli_programme import objectives_app, roadmap_app
from quartier.cli_reference import reference_app
from quartier.cli_reports import reports_app
from quartier.cli_users import users_app
from quartier.domain import ActorKind, Organisation
from quartier.errors import QuartierError
from quartier.i18n import _
from quartier.settings import Settings, load_settings
from quartier.storage import open_store

app = typer.Typer(
    help="Quartier — les données urbaines de la ville, avec leur histoire.",
    no_args_is_help=True,
    add_completion=False,
)
orgs_app = typer.Typer(
    help="Organisations (les acteurs de la ville).", no_args_is_help=True
)
app.add_typer(orgs_app, name="organisations")
app.add_typer(users_app, name="users")
app.add_typer(analyze_app, name="analyze")
app.add_typer(forms_app, name="forms")
app.add_typer(campaigns_app, name="campaigns")
app.command("diagnose")(diagnose)
app.add_typer(agreements_app, name="agreements")
app.add_typer(reference_app, name="reference")
app.add_typer(reports_app, name="reports")
app.add_typer(objectives_app, name="objectives")
app.add_typer(roadmap_app, name="roadmap")
app.add_typer(access_requests_app, name="access-requests")
orgs_app.add_typer(capacity_app, name="capacity")
app.command("evaluate")(evaluate)
app.command("calls")(calls)
from quartier.cli_common import (  # noqa: E402
    DbOpt,
    JsonOpt,
    QuietOpt,
    _print_json,
    _store,
    err,
    out,
    progress,
)


@app.command()
def init(
    name: Annotated[str, typer.Option("--name", help="Nom de la ville / commune.")],
    boundary: Annotated[Path | None, typer.Option(help="Fichier de la limite.")] = None,
    admin: Annotated[
        Path | None, typer.Option(help="Couche des unités administratives.")
    ] = None,
    admin_level: Annotated[
        str, typer.Option(help="commune, arrondissement ou quartier.")
    ] = "quartier",
    admin_code_field: Annotated[str | None, typer.Option()] = None,
    admin_name_field: Annotated[str | None, typer.Option()] = None,
    admin_level_field: Annotated[
        str | None, typer.Option(help="Champ du niveau de chaque unité.")
    ] = None,
    admin_parent_field: Annotated[
        str | None, typer.Option(help="Champ du code de l'unité parente.")
    ] = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Créer l'espace de travail de la ville (limite, SCR métrique, unités)."""
    from quartier.services.workspace import AdminLayer, init_workspace

    with _store(db) as store:
        layer = (
            AdminLayer(
                admin,
                admin_level,
                admin_code_field,
                admin_name_field,
                admin_level_field,
                admin_parent_field,
            )
            if admin
            else None
        )
        ws = init_workspace(store, name=name, boundary=boundary, admin=layer)
    if json_out:
        _print_json(
            {
                "name": ws.name,
                "working_crs": f"EPSG:{ws.working_crs}",
                "admin_dataset": ws.admin_dataset,
            }
        )
    else:
        out.print(
            _("Espace de travail « {name} » prêt (SCR de travail EPSG:{crs}).").format(
                name=ws.name, crs=ws.working_crs
            )
        )


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="Fichier ou dossier à importer.")],
    dataset: Annotated[
        str | None, typer.Option(help="Jeu de données cible (nouvelle version).")
    ] = None,
    layer: Annotated[str | None, typer.Option(help="Couche à importer.")] = None,
    title: Annotated[str | None, typer.Option()] = None,
    theme: Annotated[str | None, typer.Option()] = None,
    access: Annotated[
        str | None, typer.Option(help="public, partners, restricted, confidential")
    ] = None,
    licence: Annotated[str | None, typer.Option()] = None,
    attribution: Annotated[str | None, typer.Option()] = None,
    producer: Annotated[
        str | None, typer.Option(help="Organisation productrice.")
    ] = None,
    steward: Annotated[
        str | None, typer.Option(help="Organisation responsable.")
    ] = None,
    key_field: Annotated[
        str | None, typer.Option(help="Champ identifiant (pour les différences).")
    ] = None,
    join_by: Annotated[
        str | None,
        typer.Option(help="Tableau statistique : jointure aux unités par code|name."),
    ] = None,
    join_column: Annotated[
        str | None, typer.Option(help="Colonne portant le code ou le nom de l'unité.")
    ] = None,
    message: Annotated[str, typer.Option()] = "",
    db: DbOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Importer un fichier : chaque couche devient une nouvelle version."""
    from dataclasses import asdict

    from quartier.services.importer import ImportOptions, import_path

    opts = ImportOptions(
        dataset=dataset,
        layer=layer,
        title=title,
        theme=theme,
        access=access,
        licence=licence,
        attribution=attribution,
        producer=producer,
        steward=steward,
        key_field=key_field,
        join_by=join_by,
        join_column=join_column,
        message=message,
    )
    with _store(db) as store, progress(_("Import"), quiet or json_out) as tick:
        reports = import_path(store, path, opts, progress=tick)
    if json_out:
        _print_json([asdict(r) | {"geometry_type": r.geometry_type()} for r in reports])
        return
    for r in reports:
        if r.unchanged:
            out.print(
                _(
                    "[bold]{ds}[/] : {src} est identique à la version {v}, "
                    "rien à importer."
                ).format(ds=r.dataset, src=Path(r.source).name, v=r.version)
            )
            continue
        out.print(
            _(
                "[bold]{ds}[/] v{v} ← {src} : {read} lus, {stored} enregistrés, "
                "{rep} réparés, {ref} refusés, {nogeom} sans géométrie ; SCR {crs}"
            ).format(
                ds=r.dataset,
                v=r.version,
                src=Path(r.source).name,
                read=r.read,
                stored=r.stored,
                rep=r.repaired,
                ref=r.refused,
                nogeom=r.without_geometry,
                crs=r.crs or "—",
            )
        )
        out.print(
            "  "
            + _("changements : +{a} −{r} ~{c}").format(
                a=r.added, r=r.removed, c=r.changed
            )
        )
        out.print(
            "  "
            + _("champs : ")
            + ", ".join(f"{f['name']} ({f['type']})" for f in r.fields)
        )
        for old, new in r.renamed.items():
            out.print(
                "  " + _("champ renommé : {old!r} → {new!r}").format(old=old, new=new)
            )
        for note in r.notes:
            out.print("  " + note)


@app.command()
def export(
    slug: Annotated[str, typer.Argument(help="Jeu de données.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Fichier à écrire.")],
    fmt: Annotated[
        str | None,
        typer.Option("-f", "--format", help="gpkg|geojson|shp|csv|parquet|kml"),
    ] = None,
    version: Annotated[
        int | None, typer.Option(help="Version (défaut : actuelle).")
    ] = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Exporter une version d'un jeu de données (en flux)."""
    from quartier.services.catalogue import export_dataset

    with _store(db, create=False) as store:
        ds = store.get_dataset(slug)
        v = version or ds.current_version
        total = store.count_features(slug, version=v)
        with progress(_("Export"), quiet or json_out, total) as tick:
            path = export_dataset(
                store, slug, output, fmt=fmt, version=v, progress=tick
            )
    if json_out:
        _print_json(
            {"dataset": slug, "version": v, "path": str(path), "features": total}
        )
    else:
        out.print(
            _("{slug} v{v} → {path} ({n} entités)").format(
                slug=slug, v=v, path=path, n=total
            )
        )


@app.command()
def datasets(db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Lister le catalogue."""
    from quartier.services.catalogue import dataset_summary

    with _store(db, create=False) as store:
        items = [dataset_summary(d) for d in store.list_datasets()]
    if json_out:
        _print_json(items)
        return
    table = Table(
        _("Jeu de données"),
        _("Titre"),
        _("Thème"),
        _("Accès"),
        "v",
        _("Entités"),
        _("Géométrie"),
    )
    for d in items:
        table.add_row(
            d["slug"],
            d["title"],
            d["theme"],
            d["access"],
            str(d["version"]),
            f"{d['feature_count']:,}",
            d["geometry_type"] if d["kind"] == "features" else "—",
        )
    out.print(table)


@app.command()
def history(slug: str, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Historique des versions d'un jeu de données."""
    from quartier.services.catalogue import version_summary

    with _store(db, create=False) as store:
        items = [version_summary(v) for v in store.list_versions(slug)]
    if json_out:
        _print_json(items)
        return
    table = Table(
        "v", _("Date"), _("Entités"), "+", "−", "~", _("Source"), _("Message")
    )
    for v in items:
        note = v["message"] + (
            f" (← v{v['restored_from']})" if v["restored_from"] else ""
        )
        table.add_row(
            str(v["version"]),
            v["created"][:19],
            f"{v['feature_count']:,}",
            str(v["added"]),
            str(v["removed"]),
            str(v["changed"]),
            v["source"],
            note,
        )
    out.print(table)


@app.command()
def restore(
    slug: str, version: int, db: DbOpt = None, json_out: JsonOpt = False
) -> None:
    """Rétablir une ancienne version (crée une nouvelle version ; rien n'est perdu)."""
    from quartier.services.catalogue import restore_version, version_summary

    with _store(db, create=False) as store:
        v = restore_version(store, slug, version)
    if json_out:
        _print_json(version_summary(v))
    else:
        out.print(
            _("{slug} : version {old} rétablie comme version {new}.").format(
                slug=slug, old=version, new=v.version
            )
        )


@app.command()
def migrate(
    to: Annotated[str, typer.Option("--to", help="Store cible (vide).")],
    db: DbOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Copier tout l'espace de travail, historique compris, vers un autre store."""
    from quartier.services.migrate import migrate as run

    with _store(db, create=False) as source, open_store(to) as target:
        total = sum(len(source.list_versions(d.slug)) for d in source.list_datasets())
        with progress(_("Migration"), quiet or json_out, total) as tick:
            n = run(source, target, on_step=lambda _s, _v: tick(1))
    if json_out:
        _print_json({"from": source.url, "to": to, "versions": n})
    else:
        out.print(_("{n} versions copiées vers {to}.").format(n=n, to=to))


@app.command()
def backup(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Fichier de sauvegarde.")
    ],
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Sauvegarde cohérente, même pendant que le serveur écrit."""
    with _store(db, create=False) as store:
        store.backup(str(output))
    if json_out:
        _print_json({"path": str(output), "bytes": output.stat().st_size})
    else:
        out.print(_("Sauvegarde écrite : {path}").format(path=output))


@app.command()
def demo(
    db: Annotated[str, typer.Option("--db", help="Fichier de la démo.")] = "demo.gpkg",
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Ne pas lancer le serveur.")
    ] = False,
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Construire la ville de démonstration : Kisenso (Kinshasa)."""
    from quartier.services.demo import build_demo

    if db.lower().endswith(".gpkg"):
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)  # the demo is rebuilt afresh
    with open_store(db) as store:
        summary = build_demo(store)
    if json_out:
        _print_json(summary)
    else:
        out.print(
            _("Démo prête dans {db} : {n} jeux de données.").format(
                db=db, n=len(summary["datasets"])
            )
        )
        for d in summary["datasets"]:
            out.print(f"  {d['slug']:<28} {d['feature_count']:>6,}  {d['title']}")
    if not no_serve:
        _serve(load_settings(db=db, host=host, port=port))


HostOpt = Annotated[
    str | None, typer.Option("--host", help="Adresse d'écoute (QUARTIER_HOST).")
]
PortOpt = Annotated[
    int | None, typer.Option("--port", help="Port d'écoute (QUARTIER_PORT).")
]


@app.command()
def serve(
    db: DbOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Processus serveurs (1 par cœur).")
    ] = 1,
) -> None:
    """Servir le portail, l'API, OGC API – Features et les tuiles."""
    _serve(load_settings(db=db, host=host, port=port), workers=workers)


def _serve(settings: Settings, *, workers: int = 1) -> None:
    import os

    import uvicorn

    from quartier.web.app import create_app
    from quartier.web.portal.static import vendor_missing

    missing = vendor_missing()
    if missing:  # the API works; the portal's map would not
        err.print(_("Attention : ") + missing, highlight=False)
    if workers > 1:  # each worker opens the store itself (quartier.web.asgi)
        os.environ.update(
            QUARTIER_DB=settings.db,
            QUARTIER_HOST=settings.host,
            QUARTIER_PORT=str(settings.port),
        )
        uvicorn.run(
            "quartier.web.asgi:app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level="warning",
        )
        return
    store = open_store(settings.db, create=False)
    store.ensure_schema()
    err.print(
        _("Quartier sert {db} sur http://{host}:{port}/ (Ctrl+C pour arrêter)").format(
            db=settings.db, host=settings.host, port=settings.port
        ),
        highlight=False,
    )
    try:
        uvicorn.run(
            create_app(settings, store),
            host=settings.host,
            port=settings.port,
            log_level="warning",
        )
    finally:
        store.close()


@orgs_app.command("add")
def orgs_add(
    slug: str,
    name: Annotated[str, typer.Option()],
    kind: Annotated[str, typer.Option(help=", ".join(k.value for k in ActorKind))],
    description: Annotated[str, typer.Option()] = "",
    website: Annotated[str, typer.Option()] = "",
    db: DbOpt = None,
) -> None:
    """Ajouter une organisation."""
    with _store(db) as store:
        store.add_organisation(
            Organisation(slug, name, ActorKind.parse(kind), description, website)
        )
    out.print(_("Organisation {slug} ajoutée.").format(slug=slug))


@orgs_app.command("list")
def orgs_list(db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Lister les organisations."""
    with _store(db, create=False) as store:
        orgs = store.list_organisations()
    if json_out:
        _print_json(
            [{"slug": o.slug, "name": o.name, "kind": o.kind.value} for o in orgs]
        )
        return
    for o in orgs:
        out.print(f"{o.slug:<24} {o.kind.value:<16} {o.name}")


def main() -> None:
    """Entry point: one line on stderr and exit 1 on any Quartier error."""
    try:
        app(standalone_mode=False)
    except QuartierError as e:
        err.print(f"quartier: {e}", highlight=False, markup=False, soft_wrap=True)
        raise SystemExit(1) from None
    except (typer.Abort, KeyboardInterrupt):
        raise SystemExit(130) from None
    except Exception as e:
        # usage errors (Typer's click exceptions) know how to show themselves
        show, code = getattr(e, "show", None), getattr(e, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            raise SystemExit(code) from None
        raise
