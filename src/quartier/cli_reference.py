"""``quartier reference …``: the city's list of essential datasets, which
frames the diagnostic (the shipped list until the city changes it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from quartier.access import LOCAL
from quartier.cli_common import DbOpt, JsonOpt, _print_json, _store, out
from quartier.i18n import _
from quartier.services import reference as service

reference_app = typer.Typer(
    help="Liste de référence des données essentielles (cadre du diagnostic).",
    no_args_is_help=True,
)


@reference_app.command("list")
def reference_list(
    db: DbOpt = None,
    as_json: JsonOpt = False,
    lang: Annotated[str, typer.Option(help="fr ou en.")] = "fr",
) -> None:
    """Afficher la liste en usage (celle de la ville, sinon celle livrée)."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        custom, _docs = service.documents(store)
        entries = service.entries(store)
    if as_json:
        _print_json(
            {
                "custom": custom,
                "entries": [e.key for e in entries],
                "count": len(entries),
            }
        )
        return
    table = Table(
        title=_("Liste de la ville") if custom else _("Liste livrée avec Quartier")
    )
    for head in (_("Clé"), _("Donnée"), _("Géométrie"), _("Mise à jour (jours)")):
        table.add_column(head)
    for e in entries:
        title = e.title_en if lang == "en" and e.title_en else e.title
        table.add_row(e.key, title, e.geometry, str(e.frequency_days))
    out.print(table)


@reference_app.command("export")
def reference_export(
    target: Annotated[Path, typer.Argument(help="Fichier JSON à écrire.")],
    db: DbOpt = None,
) -> None:
    """Écrire la liste en usage dans un fichier JSON (à modifier puis importer)."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        data = service.export(store)
    data.pop("custom")
    target.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
    out.print(
        _("{n} entrées écrites dans {path}.").format(
            n=len(data["entries"]), path=target
        )
    )


@reference_app.command("import")
def reference_import(
    source: Annotated[Path, typer.Argument(help="Fichier JSON de la liste.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remplacer la liste de la ville par celle d'un fichier (tout ou rien)."""
    data = service.read_file(source)
    with _store(db, create=False) as store:
        store.ensure_schema()
        count = service.replace_all(store, LOCAL, data, str(source))
    if as_json:
        _print_json({"entries": count})
        return
    out.print(_("Liste de référence remplacée : {n} entrées.").format(n=count))


@reference_app.command("reset")
def reference_reset(db: DbOpt = None) -> None:
    """Revenir à la liste livrée avec Quartier."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        service.reset(store, LOCAL)
    out.print(_("La liste livrée avec Quartier est de nouveau en usage."))
