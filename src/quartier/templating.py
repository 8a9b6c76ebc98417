"""The one way Quartier sets up Jinja: autoescaped, with gettext (``_``)."""

from __future__ import annotations

import jinja2

from quartier import __version__


def environment(package: str, folder: str) -> jinja2.Environment:
    """Templates of ``package``/``folder``, escaped, translatable."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, folder),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    return env
