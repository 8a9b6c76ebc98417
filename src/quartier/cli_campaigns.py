"""``quartier campaigns …``: mapping campaigns (task grids, progress, stats)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quartier.access import LOCAL
from quartier.cli_common import DbOpt, JsonOpt, _print_json, _store, out
from quartier.domain.campaigns import (
    DEFAULT_LOCK_MINUTES,
    Campaign,
    CampaignStatus,
    Grid,
)
from quartier.errors import InvalidInput
from quartier.i18n import _
from quartier.services import campaigns as svc

campaigns_app = typer.Typer(
    help="Campagnes de cartographie (grille de cases, progression, statistiques).",
    no_args_is_help=True,
)


@campaigns_app.command("create")
def campaigns_create(
    slug: Annotated[str, typer.Argument(help="Identifiant de la campagne.")],
    title: Annotated[str, typer.Option(help="Titre.")],
    organisation: Annotated[
        str, typer.Option(help="Organisation responsable (ses modérateurs valident).")
    ],
    size: Annotated[float, typer.Option(help="Taille des cases, en mètres.")],
    db: DbOpt = None,
    area: Annotated[
        Path | None, typer.Option(help="Zone : fichier GeoJSON (EPSG:4326).")
    ] = None,
    area_dataset: Annotated[
        str | None, typer.Option(help="Zone : entités d'un jeu de données…")
    ] = None,
    where: Annotated[
        str | None, typer.Option(help="…choisies par champ=valeur.")
    ] = None,
    bbox: Annotated[
        str | None, typer.Option(help="Zone : lon_min,lat_min,lon_max,lat_max.")
    ] = None,
    grid: Annotated[Grid, typer.Option(help="Forme des cases.")] = Grid.SQUARE,
    description: Annotated[str, typer.Option(help="Description.")] = "",
    instructions: Annotated[str, typer.Option(help="Consignes.")] = "",
    form: Annotated[
        list[str] | None, typer.Option(help="Formulaire rattaché (répétable).")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option(help="Jeu de données à compléter.")
    ] = None,
    status: Annotated[
        CampaignStatus, typer.Option(help="État initial.")
    ] = CampaignStatus.DRAFT,
    private: Annotated[
        bool, typer.Option("--private", help="Visible des seuls membres.")
    ] = False,
    starts: Annotated[str, typer.Option(help="Début (AAAA-MM-JJ).")] = "",
    ends: Annotated[str, typer.Option(help="Fin (AAAA-MM-JJ).")] = "",
    lock_minutes: Annotated[
        int, typer.Option(help="Durée d'une réservation de case, en minutes.")
    ] = DEFAULT_LOCK_MINUTES,
    as_json: JsonOpt = False,
) -> None:
    """Créer une campagne et sa grille de cases sur une zone."""
    with _store(db, create=False) as store:
        shape = _area(store, area, area_dataset, where, bbox)
        draft = Campaign(
            slug=slug,
            title=title,
            organisation=organisation,
            area_wkt="",
            grid=grid,
            cell_size=size,
            description=description,
            instructions=instructions,
            status=status,
            public=not private,
            forms=tuple(form or ()),
            dataset=dataset,
            starts=starts,
            ends=ends,
            lock_minutes=lock_minutes,
        )
        made, n = svc.create_campaign(store, draft, shape, actor=LOCAL)
    if as_json:
        _print_json(_summary(made) | {"cells": n})
        return
    text = _("Campagne « {slug} » créée : {n} cases ({grid}, {size} m).")
    out.print(
        text.format(slug=made.slug, n=n, grid=made.grid.value, size=f"{size:g}"),
        highlight=False,
    )


def _area(
    store: Any,
    path: Path | None,
    dataset: str | None,
    where: str | None,
    bbox: str | None,
) -> Any:
    if sum(x is not None for x in (path, dataset, bbox)) != 1:
        raise InvalidInput("give exactly one of --area, --area-dataset or --bbox")
    if path is not None:
        try:
            return svc.area_from_geojson(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise InvalidInput(f"--area {path}: {e.strerror}") from None
    if bbox is not None:
        try:
            x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
        except ValueError:
            raise InvalidInput(
                "--bbox: expected four numbers lon_min,lat_min,lon_max,lat_max"
            ) from None
        return svc.area_from_bbox((x0, y0, x1, y1))
    field, sep, value = (where or "").partition("=")
    if not sep or not field.strip():
        raise InvalidInput("--area-dataset needs --where field=value")
    return svc.area_from_dataset(
        store, LOCAL, dataset or "", field.strip(), value.strip()
    )


def _summary(c: Campaign) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "title": c.title,
        "organisation": c.organisation,
        "status": c.status.value,
        "public": c.public,
        "grid": c.grid.value,
        "cell_size": c.cell_size,
        "forms": list(c.forms),
        "dataset": c.dataset,
        "starts": c.starts,
        "ends": c.ends,
        "lock_minutes": c.lock_minutes,
    }


@campaigns_app.command("list")
def campaigns_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Les campagnes et leur progression."""
    with _store(db, create=False) as store:
        rows = [
            _summary(c) | {"progress": svc.progress(store.list_cells(c.slug))}
            for c in store.list_campaigns()
        ]
    if as_json:
        _print_json(rows)
        return
    table = Table(_("Campagne"), _("État"), _("Cases"), _("Cartographié"), _("Validé"))
    for r in rows:
        p = r["progress"]
        table.add_row(
            r["slug"],
            r["status"],
            str(p["cells"]),
            f"{p['mapped_pct']:g} %",
            f"{p['validated_pct']:g} %",
        )
    out.print(table)


@campaigns_app.command("show")
def campaigns_show(
    slug: Annotated[str, typer.Argument(help="Identifiant de la campagne.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Une campagne : progression, cases par état, contributeurs."""
    with _store(db, create=False) as store:
        c = store.get_campaign(slug)
        stats = svc.stats(store, LOCAL, c)
        forms = [f.form_id for f in svc.campaign_forms(store, c)]
    if as_json:
        _print_json(_summary(c) | {"attached_forms": forms, "stats": stats})
        return
    out.print(f"[bold]{c.title}[/bold] ({c.slug}, {c.status.value})")
    line = _("{cells} cases : {mapped} % cartographiées, {validated} % validées")
    out.print(
        line.format(
            cells=stats["cells"],
            mapped=f"{stats['mapped_pct']:g}",
            validated=f"{stats['validated_pct']:g}",
        ),
        highlight=False,
    )
    out.print(
        "  " + ", ".join(f"{k}: {v}" for k, v in stats["by_state"].items()),
        highlight=False,
    )
    if stats["users"]:
        table = Table(
            _("Contributeur"), _("Cartographiées"), _("Validées"), _("Invalidées")
        )
        for u in stats["users"]:
            table.add_row(
                u["user"], str(u["mapped"]), str(u["validated"]), str(u["invalidated"])
            )
        out.print(table)
