"""``quartier forms …``: XLSForms for ODK Collect, KoboCollect and the portal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quartier.access import LOCAL
from quartier.cli_common import DbOpt, JsonOpt, _print_json, _store, out
from quartier.errors import InvalidInput
from quartier.i18n import _
from quartier.services.forms import add_form

forms_app = typer.Typer(
    help="Formulaires XLSForm (ODK Collect, KoboCollect, formulaires web).",
    no_args_is_help=True,
)


@forms_app.command("add")
def forms_add(
    file: Annotated[Path, typer.Argument(help="Fichier XLSForm (.xlsx, .xls).")],
    organisation: Annotated[
        str, typer.Option(help="Organisation responsable (ses modérateurs valident).")
    ],
    db: DbOpt = None,
    dataset: Annotated[
        str | None, typer.Option(help="Jeu de données alimenté par les réponses.")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(help="Champ du formulaire=champ du jeu, séparés par ','."),
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Campagne.")] = None,
    media: Annotated[
        list[Path] | None, typer.Option(help="Fichier média du formulaire (répétable).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Convertir, vérifier et publier un formulaire (nouvelle version)."""
    with _store(db, create=False) as store:
        form, new, warnings = add_form(
            store,
            file,
            organisation=organisation,
            actor=LOCAL,
            dataset=dataset,
            mapping=_pairs(mapping) if mapping else None,
            campaign=campaign,
            media=list(media or []),
        )
    if as_json:
        _print_json(
            {
                "form_id": form.form_id,
                "version": form.version,
                "title": form.title,
                "hash": f"md5:{form.md5}",
                "new": new,
                "dataset": form.dataset,
                "mapping": form.mapping,
                "media": sorted(form.media),
                "warnings": list(warnings),
            }
        )
        return
    text = (
        _("Formulaire « {id} » version {version} publié.")
        if new
        else _("Formulaire « {id} » version {version} déjà publié : rien de changé.")
    )
    out.print(text.format(id=form.form_id, version=form.version), highlight=False)
    for warning in warnings:
        out.print(f"  ! {warning}", highlight=False)


def _pairs(text: str) -> dict[str, str]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        source, sep, target = part.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise InvalidInput(
                f"--mapping: expected form_field=dataset_field, got {part!r}"
            )
        out[source.strip()] = target.strip()
    return out


@forms_app.command("list")
def forms_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Les formulaires publiés (dernière version) et leurs réponses."""
    with _store(db, create=False) as store:
        rows = [
            {
                "form_id": f.form_id,
                "version": f.version,
                "title": f.title,
                "organisation": f.organisation,
                "dataset": f.dataset,
                "submissions": store.count_submissions(f.form_id),
            }
            for f in store.list_forms()
        ]
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        line = f"  {r['form_id']:<24} {r['version']:<14} {r['submissions']:>6}"
        out.print(f"{line}  {r['title']}", highlight=False)
