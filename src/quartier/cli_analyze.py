"""``quartier analyze …``: analyses whose results become catalogued datasets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from quartier.analysis.expansion import GHSL_EPOCHS
from quartier.cli_common import DbOpt, JsonOpt, _print_json, _store, out, progress
from quartier.domain.catalogue import make_slug
from quartier.errors import InvalidInput
from quartier.i18n import Translator, _, number
from quartier.reports import fiche
from quartier.reports.pdf import html_to_pdf
from quartier.services.accessibility import AccessibilityParams, run_accessibility
from quartier.services.densification import DensificationParams, run_densification
from quartier.services.expansion import ExpansionParams, run_expansion
from quartier.services.exposure import ExposureParams, run_exposure
from quartier.services.profile import (
    Profiles,
    build_profiles,
    profile_json,
    write_profiles,
)
from quartier.services.suitability import SuitabilityParams, run_suitability
from quartier.services.vulnerability import (
    DEFAULT_WEIGHTS,
    VulnerabilityParams,
    run_vulnerability,
)

BuildingsOpt = Annotated[str | None, typer.Option(help="Bâtiments.")]
UnitsOpt = Annotated[str | None, typer.Option(help="Unités administratives.")]
RoadsOpt = Annotated[str | None, typer.Option(help="Voies.")]
PopulationOpt = Annotated[
    str | None, typer.Option(help="Table de population : JEU[:CHAMP].")
]

analyze_app = typer.Typer(
    help="Analyses pour l'aménagement et l'urgence (résultats versionnés).",
    no_args_is_help=True,
)


@analyze_app.command("exposure")
def analyze_exposure(
    db: DbOpt = None,
    hazard: Annotated[
        str | None, typer.Option(help="Jeu de données d'aléa (polygones).")
    ] = None,
    class_field: Annotated[
        str | None, typer.Option(help="Champ des classes d'aléa.")
    ] = None,
    class_order: Annotated[
        str | None,
        typer.Option(help="Classes de la plus à la moins grave, séparées par ','."),
    ] = None,
    buffer: Annotated[
        float, typer.Option(help="Marge autour de l'aléa, en mètres.", min=0)
    ] = 0.0,
    buildings: BuildingsOpt = None,
    units: UnitsOpt = None,
    population: PopulationOpt = None,
    facility: Annotated[
        list[str] | None, typer.Option(help="Équipements (répétable).")
    ] = None,
    roads: RoadsOpt = None,
    people_per_building: Annotated[
        float | None,
        typer.Option(help="Sans table de population : estimation par bâtiment."),
    ] = None,
    breakdown: Annotated[
        str | None,
        typer.Option(
            help="Groupes d'âge/sexe du recensement (colonnes, ','), "
            "'aucun' pour aucun ; par défaut : détectés."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Bâtiments, personnes, équipements et voies exposés, par classe et par unité."""
    params = ExposureParams(
        hazard=hazard,
        buildings=buildings,
        units=units,
        population=population,
        facilities=list(facility or []),
        roads=roads,
        class_field=class_field,
        class_order=[c.strip() for c in (class_order or "").split(",") if c.strip()],
        buffer_m=buffer,
        people_per_building=people_per_building,
        breakdown=_breakdown(breakdown),
    )
    with _store(db, create=False) as store:
        run = run_exposure(store, params)
    if as_json:
        _print_json(run.summary)
        return
    s = run.summary
    out.print(
        _("Exposition à {hazard} : {b} bâtiments exposés sur {n}.").format(
            hazard=s["hazard"],
            b=s.get("buildings_exposed", 0),
            n=s.get("buildings_total", 0),
        ),
        highlight=False,
    )
    if "people_exposed" in s:
        out.print(
            _("Personnes exposées : {p} ({method}).").format(
                p=s["people_exposed"], method=s.get("people_method")
            ),
            highlight=False,
        )
    _print_datasets(run.datasets)


@analyze_app.command("accessibility")
def analyze_accessibility(
    db: DbOpt = None,
    facilities: Annotated[
        str | None, typer.Option(help="Équipements d'origine (points).")
    ] = None,
    profile: Annotated[
        str, typer.Option(help="walk (à pied) ou drive (en voiture).")
    ] = "walk",
    limit: Annotated[
        float, typer.Option(help="Seuil en minutes pour « trop loin ».", min=0)
    ] = 15.0,
    thresholds: Annotated[
        str, typer.Option(help="Isochrones, en minutes, séparées par ','.")
    ] = "5,10,15,30",
    roads: RoadsOpt = None,
    buildings: BuildingsOpt = None,
    units: UnitsOpt = None,
    population: PopulationOpt = None,
    capacity_field: Annotated[
        str | None,
        typer.Option(
            help="Abris : champ de leur capacité (sinon : capacite, places…)."
        ),
    ] = None,
    hazard: Annotated[
        str | None, typer.Option(help="Abris : aléa dont les exposés sont à loger.")
    ] = None,
    buffer: Annotated[
        float, typer.Option(help="Marge autour de l'aléa, en mètres.", min=0)
    ] = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Temps de trajet vers l'équipement le plus proche, isochrones, population loin."""
    params = AccessibilityParams(
        facilities=facilities,
        profile=profile,
        limit_min=limit,
        thresholds_min=[float(t) for t in thresholds.split(",") if t.strip()],
        roads=roads,
        buildings=buildings,
        units=units,
        population=population,
        capacity_field=capacity_field,
        hazard=hazard,
        buffer_m=buffer,
    )
    with _store(db, create=False) as store:
        run = run_accessibility(store, params)
    if as_json:
        _print_json(run.summary)
        return
    s = run.summary
    out.print(
        _("{n} bâtiments sur {total} à plus de {limit} min de {what}.").format(
            n=s["buildings_beyond"],
            total=s["buildings_total"],
            limit=s["limit_min"],
            what=s["facilities"],
        ),
        highlight=False,
    )
    if "shelters" in s:
        sh = s["shelters"]
        out.print(
            _(
                "Abris : {capacity} places pour {exposed} exposés ; manque {short}."
            ).format(
                capacity=number(sh["capacity_total"], _lang()),
                exposed=number(sh["exposed"], _lang()),
                short=number(sh["shortfall_total"], _lang()),
            ),
            highlight=False,
        )
    _print_datasets(run.datasets)


@analyze_app.command("vulnerability")
def analyze_vulnerability(
    db: DbOpt = None,
    weights: Annotated[
        str,
        typer.Option(help="Poids des indicateurs : nom=poids, séparés par ','."),
    ] = ",".join(f"{k}={v}" for k, v in DEFAULT_WEIGHTS.items()),
    hazard: Annotated[str | None, typer.Option(help="Aléa.")] = None,
    buffer: Annotated[
        float, typer.Option(help="Marge autour de l'aléa, en mètres.", min=0)
    ] = 0.0,
    facilities: Annotated[str | None, typer.Option(help="Équipements.")] = None,
    limit: Annotated[
        float, typer.Option(help="Minutes au-delà desquelles on est « loin ».")
    ] = 15.0,
    informal: Annotated[
        str | None, typer.Option(help="Quartiers précaires / habitat informel.")
    ] = None,
    tenure: Annotated[
        str | None, typer.Option(help="Zones d'insécurité foncière (polygones).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Indice de vulnérabilité par unité : composantes, rangs, sensibilité."""
    params = VulnerabilityParams(
        weights=_weights(weights),
        hazard=hazard,
        buffer_m=buffer,
        facilities=facilities,
        limit_min=limit,
        informal=informal,
        tenure=tenure,
    )
    with _store(db, create=False) as store:
        run = run_vulnerability(store, params)
    if as_json:
        _print_json(run.summary)
        return
    for item in run.summary["most_vulnerable"]:
        out.print(f"  {item['unit']:<30} {item['index']:>6.1f}", highlight=False)
    _print_datasets(run.datasets)


def _breakdown(text: str | None) -> list[str] | None:
    """None: detect the groups; ``aucun``/``none``: no groups; else columns."""
    if text is None:
        return None
    if text.strip().lower() in ("aucun", "none", ""):
        return []
    return [c.strip() for c in text.split(",") if c.strip()]


def _weights(text: str) -> dict[str, float]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise InvalidInput(
                f"--weights: expected name=number, got {part!r}"
            ) from None
        if not sep:
            raise InvalidInput(f"--weights: expected name=number, got {part!r}")
    return out


@analyze_app.command("expansion")
def analyze_expansion(
    db: DbOpt = None,
    breaks: Annotated[
        str, typer.Option(help="Années de coupure des périodes, séparées par ','.")
    ] = "1990,2000,2010,2020",
    year_field: Annotated[
        str | None, typer.Option(help="Champ de l'année sur les bâtiments.")
    ] = None,
    years: Annotated[
        str | None, typer.Option(help="Table des années : JEU[:CHAMP].")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="Champ commun qui joint cette table.")
    ] = None,
    ring: Annotated[
        float, typer.Option(help="Largeur des anneaux, en km.", min=0.01)
    ] = 1.0,
    hazard: Annotated[str | None, typer.Option(help="Aléa.")] = None,
    planned: Annotated[
        str | None, typer.Option(help="Zones d'urbanisation prévues.")
    ] = None,
    buildings: BuildingsOpt = None,
    units: UnitsOpt = None,
    layers: Annotated[
        str | None,
        typer.Option(help="Couches de bâtiments datées : JEU:ANNÉE, séparées par ','."),
    ] = None,
    min_overlap: Annotated[
        float,
        typer.Option(
            help="Part d'emprise déjà couverte = même bâtiment.", min=0, max=1
        ),
    ] = 0.5,
    rasters: Annotated[
        str | None,
        typer.Option(help="Rasters de surface bâtie : FICHIER:ANNÉE, séparés par ','."),
    ] = None,
    epoch_raster: Annotated[
        str | None, typer.Option(help="Raster dont la valeur date le bâti.")
    ] = None,
    epoch_codes: Annotated[
        str | None,
        typer.Option(help="Codes du raster d'époques : ghsl, ou CODE:ANNÉE,…"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Extension urbaine : bâti par période, par unité et par anneau, croissance."""
    params = ExpansionParams(
        breaks=_years(breaks),
        year_field=year_field,
        years=years,
        key=key,
        ring_km=ring,
        hazard=hazard,
        planned=planned,
        buildings=buildings,
        units=units,
        layers=_dated(layers, "--layers", int) if layers else None,
        min_overlap=min_overlap,
        rasters=_dated(rasters, "--rasters", int) if rasters else None,
        epoch_raster=epoch_raster,
        epoch_codes=_codes(epoch_codes) if epoch_codes else None,
    )
    with _store(db, create=False) as store:
        run = run_expansion(store, params)
    if as_json:
        _print_json(run.summary)
        return
    periods = run.result.periods
    counted = "buildings" if "buildings" in periods else "cells"
    for period, count, area in zip(
        periods["period"], periods[counted], periods["area_m2"], strict=True
    ):
        shown = number(round(float(area)), _lang())
        out.print(f"  {period:<12} {int(count):>7} {shown:>12} m²", highlight=False)
    _print_datasets(run.datasets)


@analyze_app.command("densification")
def analyze_densification(
    db: DbOpt = None,
    plots: Annotated[
        str,
        typer.Option(help="auto, parcels (parcelles), blocks (îlots), grid (grille)."),
    ] = "auto",
    parcels: Annotated[str | None, typer.Option(help="Parcelles cadastrales.")] = None,
    cell: Annotated[
        float, typer.Option(help="Côté des carreaux de la grille, en mètres.", min=10)
    ] = 100.0,
    max_coverage: Annotated[
        float, typer.Option(help="Emprise au sol maximale (0–1).", min=0, max=1)
    ] = 0.6,
    max_far: Annotated[
        float, typer.Option(help="Coefficient d'occupation du sol maximal.", min=0.01)
    ] = 1.8,
    default_floors: Annotated[
        float, typer.Option(help="Niveaux supposés quand ils sont inconnus.", min=0.1)
    ] = 1.0,
    floors_field: Annotated[
        str | None, typer.Option(help="Champ du nombre de niveaux des bâtiments.")
    ] = None,
    hazard: Annotated[str | None, typer.Option(help="Aléa (zones exclues).")] = None,
    protected: Annotated[
        str | None, typer.Option(help="Zones protégées (exclues).")
    ] = None,
    service: Annotated[
        list[str] | None, typer.Option(help="Services de proximité (répétable).")
    ] = None,
    buildings: BuildingsOpt = None,
    roads: RoadsOpt = None,
    top: Annotated[int, typer.Option(help="Nombre de parcelles listées.", min=1)] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Potentiel de densification par parcelle, îlot ou carreau, classé."""
    params = DensificationParams(
        plots=plots,
        parcels=parcels,
        cell_m=cell,
        max_coverage=max_coverage,
        max_far=max_far,
        default_floors=default_floors,
        floors_field=floors_field,
        hazard=hazard,
        protected=protected,
        services=list(service or []) or None,
        buildings=buildings,
        roads=roads,
        top=top,
    )
    with _store(db, create=False) as store:
        run = run_densification(store, params)
    if as_json:
        _print_json(run.summary)
        return
    s = run.summary
    lang = _lang()
    kinds = {"parcels": _("parcelles"), "blocks": _("îlots"), "grid": _("carreaux")}
    out.print(
        _("{n} {kind} : {extra} m² de plancher supplémentaire possible.").format(
            n=s["plots_count"],
            kind=kinds[s["plots"]],
            extra=number(round(s["extra_floor_m2"]), lang),
        ),
        highlight=False,
    )
    if s["note"]:
        out.print(s["note"], highlight=False)
    for item in s["top"]:
        shown = number(round(item["extra_floor_m2"]), lang)
        out.print(f"  {item['plot']:>6} {shown:>12} m²", highlight=False)
    _print_datasets(run.datasets)


@analyze_app.command("profile")
def analyze_profile(
    db: DbOpt = None,
    unit: Annotated[
        str | None, typer.Option(help="Quartier (nom) ; sans --unit : tous.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Fichier .html ou .pdf (un quartier), ou dossier (tous).",
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="fr ou en.")] = "fr",
    pdf: Annotated[
        bool, typer.Option(help="Avec un dossier : écrire aussi les PDF.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fiches quartier : indicateurs face à la médiane, cartes, sources, lacunes."""
    t = Translator(lang)
    with _store(db, create=False) as store:
        profiles = build_profiles(store)
        version = write_profiles(store, profiles)
        city = store.get_workspace().name
        names = (
            [profiles.unit(unit)] if unit else [str(u) for u in profiles.table.index]
        )
        written = _write_fiches(profiles, names, output, t, city, pdf=pdf)
    if as_json:
        _print_json(
            {
                "units": [profile_json(profiles, n, t) for n in names],
                "files": [str(p) for p in written],
                "datasets": {"profils_quartiers": version.version},
            }
        )
        return
    for path in written:
        out.print(_("Fiche écrite : {path}").format(path=path), highlight=False)
    if not output:
        for name in names:
            out.print(f"  {name}", highlight=False)
    _print_datasets({"profils_quartiers": version.version})


def _write_fiches(
    profiles: Profiles,
    names: list[str],
    output: Path | None,
    t: Translator,
    city: str,
    *,
    pdf: bool,
) -> list[Path]:
    if output is None:
        return []
    single = output.suffix.lower() in (".html", ".htm", ".pdf")
    if single and len(names) != 1:
        raise InvalidInput("-o FILE needs --unit NAME; give a folder for every unit")
    if single:
        targets = [(names[0], output)]
    else:
        output.mkdir(parents=True, exist_ok=True)
        targets = [(n, output / f"{make_slug(n)}.html") for n in names]
        if pdf:
            targets += [(n, output / f"{make_slug(n)}.pdf") for n in names]
    written = []
    with progress(_("Fiches quartier"), False, len(targets)) as advance:
        for name, path in targets:
            html = fiche.standalone(profiles, name, t, city=city)
            if path.suffix.lower() == ".pdf":
                html_to_pdf(html, path)
            else:
                path.write_text(html, encoding="utf-8")
            written.append(path)
            advance(1)
    return written


def _print_datasets(datasets: dict[str, int]) -> None:
    """The datasets a run wrote, with their new version."""
    for slug, version in datasets.items():
        out.print(f"  {slug} v{version}", highlight=False)


def _lang() -> str:
    return os.environ.get("QUARTIER_LANG", "fr")


def _dated(text: str, option: str, kind: type[int]) -> dict[str, int]:
    """``NAME:YEAR,NAME:YEAR`` (a name may hold ':' — the year is last)."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, year = part.rpartition(":")
        try:
            out[name] = kind(year)
        except ValueError:
            raise InvalidInput(f"{option}: expected NAME:YEAR, got {part!r}") from None
        if not sep or not name:
            raise InvalidInput(f"{option}: expected NAME:YEAR, got {part!r}")
    return out


def _codes(text: str) -> dict[int, int]:
    """``ghsl`` (GHSL built-up epochs) or ``CODE:YEAR,CODE:YEAR`` (or ``=``)."""
    if text.strip().lower() == "ghsl":
        return dict(GHSL_EPOCHS)
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, sep, year = part.replace("=", ":").partition(":")
        try:
            out[int(code)] = int(year)
        except ValueError:
            raise InvalidInput(
                f"--epoch-codes: expected ghsl or CODE:YEAR, got {part!r}"
            ) from None
        if not sep:
            raise InvalidInput(
                f"--epoch-codes: expected ghsl or CODE:YEAR, got {part!r}"
            )
    return out


def _years(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(
            f"--breaks: expected years like 2000,2010, got {text!r}"
        ) from None


@analyze_app.command("suitability")
def analyze_suitability(
    db: DbOpt = None,
    cell: Annotated[
        float, typer.Option(help="Côté des cellules, en mètres.", min=10)
    ] = 250.0,
    minutes: Annotated[
        float, typer.Option(help="Clientèle à moins de N minutes.", min=1)
    ] = 10.0,
    profile: Annotated[str, typer.Option(help="walk ou drive.")] = "walk",
    competitors: Annotated[
        str | None, typer.Option(help="Concurrents ou marchés (points).")
    ] = None,
    radius: Annotated[
        float, typer.Option(help="Rayon de la concurrence, en mètres.", min=0)
    ] = 500.0,
    hazard: Annotated[str | None, typer.Option(help="Aléa.")] = None,
    weights: Annotated[
        str,
        typer.Option(help="Poids : population, competition, hazard_free (nom=poids)."),
    ] = "population=0.5,competition=0.3,hazard_free=0.2",
    top: Annotated[int, typer.Option(help="Nombre de meilleurs sites.", min=1)] = 10,
    grid: Annotated[
        str, typer.Option(help="square (carrés) ou hexagon (hexagones).")
    ] = "square",
    zoning: Annotated[
        str | None, typer.Option(help="Zonage (polygones) ; zones interdites exclues.")
    ] = None,
    zoning_field: Annotated[
        str | None,
        typer.Option(help="Champ du zonage : oui/non au commerce, ou code de zone."),
    ] = None,
    allowed_zones: Annotated[
        str | None, typer.Option(help="Codes de zone où le commerce est permis (',').")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Aptitude des sites pour un commerce : clientèle, concurrence, aléas."""
    params = SuitabilityParams(
        cell_m=cell,
        minutes=minutes,
        profile=profile,
        competitors=competitors,
        radius_m=radius,
        hazard=hazard,
        weights=_weights(weights),
        top=top,
        grid=grid,
        zoning=zoning,
        zoning_field=zoning_field,
        allowed_zones=[z.strip() for z in allowed_zones.split(",") if z.strip()]
        if allowed_zones
        else None,
    )
    with _store(db, create=False) as store:
        run = run_suitability(store, params)
    if as_json:
        _print_json(run.summary)
        return
    for item in run.summary["top"]:
        out.print(
            f"  {item['score']:>6.1f}  {item['lat']:.5f}, {item['lon']:.5f}",
            highlight=False,
        )
    _print_datasets(run.datasets)
