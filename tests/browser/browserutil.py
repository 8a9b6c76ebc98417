"""What browser tests share: the portal's accounts and signing in.

(Kept out of ``conftest.py``: ``tests/web`` has a conftest too, and
``from conftest import …`` would pick whichever pytest loaded last.)
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN_PASSWORD = "admin-motdepasse-1"
NGO_PASSWORD = "ong-motdepasse-12"


@dataclass
class Portal:
    url: str
    db: str


def sign_in(pg, portal: Portal, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    pg.goto(f"{portal.url}/connexion")
    pg.get_by_label("Identifiant").fill(username)
    pg.get_by_label("Mot de passe").fill(password)
    pg.get_by_role("button", name="Se connecter").click()
    pg.wait_for_url(f"{portal.url}/console**")
