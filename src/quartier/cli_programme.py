"""``quartier objectives …`` and ``quartier roadmap …``: the city's data
programme (objectives with computed indicators; roadmap with priorities
suggested from the diagnostic)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from quartier.access import LOCAL
from quartier.cli_common import DbOpt, JsonOpt, _print_json, _store, out
from quartier.domain.programme import (
    Indicator,
    Objective,
    ObjectiveStatus,
    Priority,
    RoadmapItem,
    RoadmapStatus,
)
from quartier.errors import InvalidInput
from quartier.i18n import _
from quartier.services import objectives as objectives_service
from quartier.services import roadmap as roadmap_service

objectives_app = typer.Typer(
    help="Objectifs de la ville pour ses données (indicateurs calculés).",
    no_args_is_help=True,
)
roadmap_app = typer.Typer(
    help="Feuille de route : données et capacités à construire.",
    no_args_is_help=True,
)
LangOpt = Annotated[str, typer.Option("--lang", help="Langue des textes (fr, en).")]


def _indicator(text: str) -> Indicator:
    """``'{"label": …, "source": …, "target": …, "unit": …}'`` or a label."""
    if not text.lstrip().startswith("{"):
        return Indicator(label=text)
    try:
        data = json.loads(text)
        return Indicator(**data)
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"--indicator {text!r}: {e}") from None


# ------------------------------------------------------------ objectives
@objectives_app.command("add")
def objectives_add(
    objective_id: Annotated[str, typer.Argument(help="Identifiant de l'objectif.")],
    title: Annotated[str, typer.Option(help="Titre.")],
    owner: Annotated[str, typer.Option(help="Organisation responsable.")],
    description: Annotated[str, typer.Option(help="Description.")] = "",
    indicator: Annotated[
        list[str] | None,
        typer.Option(
            help='Indicateur (répétable) : un libellé, ou du JSON {"label", '
            '"source" (score, level:ENTRÉE, coverage:ENTRÉE, completeness:ENTRÉE), '
            '"target", "unit", "value"}.'
        ),
    ] = None,
    dataset: Annotated[
        list[str] | None, typer.Option(help="Jeu de données lié (répétable).")
    ] = None,
    active: Annotated[bool, typer.Option("--active", help="Actif d'emblée.")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Créer un objectif."""
    draft = Objective(
        id=objective_id,
        title=title,
        owner=owner,
        description=description,
        indicators=tuple(_indicator(t) for t in indicator or []),
        datasets=tuple(dataset or []),
        status=ObjectiveStatus.ACTIVE if active else ObjectiveStatus.PROPOSED,
    )
    with _store(db, create=False) as store:
        store.ensure_schema()
        made = objectives_service.create(store, LOCAL, draft)
    if as_json:
        _print_json({"id": made.id, "status": made.status.value})
        return
    out.print(_("Objectif {id} enregistré.").format(id=made.id))


@objectives_app.command("list")
def objectives_list(
    db: DbOpt = None, as_json: JsonOpt = False, lang: LangOpt = "fr"
) -> None:
    """Lister les objectifs, avec leurs indicateurs calculés."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        fig = objectives_service.figures(store, LOCAL)
        found = [
            objectives_service.as_json(store, LOCAL, o, fig, lang=lang)
            for o in store.list_objectives()
        ]
    if as_json:
        _print_json(found)
        return
    table = Table()
    for head in (_("Identifiant"), _("Titre"), _("Responsable"), _("État"),
                 _("Indicateurs")):  # fmt: skip
        table.add_column(head)
    for o in found:
        table.add_row(o["id"], o["title"], o["owner"], o["status"],
                      "\n".join(_figure(i) for i in o["indicators"]))  # fmt: skip
    out.print(table)


def _figure(ind: dict) -> str:
    now = "—" if ind["current"] is None else f"{ind['current']:g}"
    goal = "" if ind["target"] is None else f" / {ind['target']:g}"
    return f"{ind['label']} : {now}{goal} {ind['unit']}".rstrip()


@objectives_app.command("show")
def objectives_show(
    objective_id: Annotated[str, typer.Argument(help="Identifiant de l'objectif.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "fr",
) -> None:
    """Un objectif : indicateurs, jeux liés, historique des états."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        o = store.get_objective(objective_id)
        fig = objectives_service.figures(store, LOCAL)
        data = objectives_service.as_json(store, LOCAL, o, fig, lang=lang, history=True)
    if as_json:
        _print_json(data)
        return
    out.print(f"[bold]{data['title']}[/bold] ({data['id']}) — {data['status']}")
    out.print(_("Responsable : {owner}").format(owner=data["owner_name"]))
    for ind in data["indicators"]:
        out.print("  • " + _figure(ind))
    if data["datasets"]:
        out.print(_("Jeux : {list}").format(
            list=", ".join(d["slug"] for d in data["datasets"])))  # fmt: skip
    for e in data["history"]:
        out.print(f"  {e['at'][:19]} {e.get('actor', '')} "
                  f"{e['from'] or '∅'} → {e['to']} {e['note']}".rstrip())  # fmt: skip


@objectives_app.command("status")
def objectives_status(
    objective_id: Annotated[str, typer.Argument(help="Identifiant de l'objectif.")],
    status: Annotated[
        ObjectiveStatus, typer.Argument(help="proposed, active, achieved, abandoned")
    ],
    note: Annotated[str, typer.Option(help="Pourquoi.")] = "",
    db: DbOpt = None,
) -> None:
    """Changer l'état d'un objectif (l'historique garde qui et quand)."""
    with _store(db, create=False) as store:
        done = objectives_service.set_status(store, LOCAL, objective_id, status, note)
    out.print(_("Objectif {id} : {status}.").format(id=done.id, status=done.status))


# --------------------------------------------------------------- roadmap
@roadmap_app.command("add")
def roadmap_add(
    item_id: Annotated[str, typer.Argument(help="Identifiant de l'élément.")],
    title: Annotated[str, typer.Option(help="Titre.")],
    organisation: Annotated[str, typer.Option(help="Organisation responsable.")],
    steward: Annotated[str, typer.Option(help="Gestionnaire (utilisateur).")] = "",
    target_date: Annotated[str, typer.Option(help="Échéance (AAAA-MM-JJ).")] = "",
    reference: Annotated[
        str, typer.Option(help="Entrée de la liste de référence.")
    ] = "",
    dataset: Annotated[str, typer.Option(help="Jeu de données.")] = "",
    objective: Annotated[str, typer.Option(help="Objectif lié.")] = "",
    priority: Annotated[
        Priority | None, typer.Option(help="Priorité choisie (sinon suggérée).")
    ] = None,
    description: Annotated[str, typer.Option(help="Description.")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ajouter un élément à la feuille de route."""
    draft = RoadmapItem(
        id=item_id,
        title=title,
        organisation=organisation,
        steward=steward,
        target_date=target_date,
        reference=reference,
        dataset=dataset,
        objective=objective,
        priority=priority,
        description=description,
    )
    with _store(db, create=False) as store:
        store.ensure_schema()
        made = roadmap_service.create(store, LOCAL, draft)
    if as_json:
        _print_json({"id": made.id, "status": made.status.value})
        return
    out.print(_("Élément {id} ajouté à la feuille de route.").format(id=made.id))


@roadmap_app.command("list")
def roadmap_list(
    db: DbOpt = None, as_json: JsonOpt = False, lang: LangOpt = "fr"
) -> None:
    """Lister la feuille de route (priorité suggérée et retenue)."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        fig = objectives_service.figures(store, LOCAL)
        found = [
            roadmap_service.as_json(store, LOCAL, i, fig, lang=lang)
            for i in store.list_roadmap_items()
        ]
    if as_json:
        _print_json(found)
        return
    table = Table()
    for head in (_("Identifiant"), _("Titre"), _("Responsable"), _("Échéance"),
                 _("Priorité suggérée"), _("Priorité retenue"), _("État")):  # fmt: skip
        table.add_column(head)
    for i in found:
        late = " !" if i["overdue"] else ""
        table.add_row(i["id"], i["title"], i["organisation"],
                      (i["target_date"] or "—") + late,
                      i["suggested_priority"] or "—", i["priority"],
                      i["status"])  # fmt: skip
    out.print(table)


@roadmap_app.command("status")
def roadmap_status(
    item_id: Annotated[str, typer.Argument(help="Identifiant de l'élément.")],
    status: Annotated[
        RoadmapStatus, typer.Argument(help="planned, in_progress, done, dropped")
    ],
    note: Annotated[str, typer.Option(help="Pourquoi.")] = "",
    db: DbOpt = None,
) -> None:
    """Changer l'état d'un élément (l'historique garde qui et quand)."""
    with _store(db, create=False) as store:
        done = roadmap_service.set_status(store, LOCAL, item_id, status, note)
    out.print(_("Élément {id} : {status}.").format(id=done.id, status=done.status))


@roadmap_app.command("suggest")
def roadmap_suggest(
    add: Annotated[
        bool, typer.Option("--add", help="Ajouter ceux qui n'y sont pas encore.")
    ] = False,
    organisation: Annotated[
        str, typer.Option(help="Organisation responsable (avec --add).")
    ] = "",
    steward: Annotated[str, typer.Option(help="Gestionnaire (avec --add).")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "fr",
) -> None:
    """Proposer un élément par donnée de référence au niveau 2 ou moins."""
    if add and not organisation:
        raise InvalidInput("--organisation: needed with --add")
    with _store(db, create=False) as store:
        store.ensure_schema()
        fig = objectives_service.figures(store, LOCAL)
        found = roadmap_service.suggestions(store, fig, lang)
        added = (
            roadmap_service.add_suggestions(
                store, LOCAL, fig, organisation=organisation, steward=steward
            )
            if add
            else []
        )
    if as_json:
        _print_json({"suggestions": found, "added": [i.id for i in added]})
        return
    table = Table()
    for head in (_("Entrée"), _("Niveau"), _("Priorité suggérée"),
                 _("Déjà prévue")):  # fmt: skip
        table.add_column(head)
    for s in found:
        table.add_row(s["title"], str(s["level"]), s["suggested_priority"],
                      _("oui") if s["on_roadmap"] else _("non"))  # fmt: skip
    out.print(table)
    if add:
        out.print(_("{n} élément(s) ajouté(s).").format(n=len(added)))
