"""Reading a submission's multipart body — the same for ODK Collect (OpenRosa)
and the portal's web forms: ``xml_submission_file`` plus one part per file.

Sizes are checked before anything is read into memory: the declared length,
then each part (the parser spools them to disk) against the limits of
:mod:`quartier.services.collect`.
"""

from __future__ import annotations

from fastapi import Request

from quartier.errors import InvalidInput, TooLarge
from quartier.services import collect
from quartier.storage.forms import File

#: room for the multipart framing around the parts
SLACK = 2**20


async def submission_parts(request: Request) -> tuple[bytes, list[File]]:
    declared = request.headers.get("content-length", "")
    if (
        declared.isdigit()
        and int(declared) > collect.MAX_TOTAL + collect.MAX_XML + SLACK
    ):
        raise TooLarge(
            f"submission of {int(declared) / 2**20:.1f} MB, over the "
            f"{collect.MAX_TOTAL // 2**20} MB limit"
        )
    form = await request.form(max_files=1000, max_fields=1000)
    xml_part = form.get("xml_submission_file")
    if xml_part is None or isinstance(xml_part, str):
        raise InvalidInput("no xml_submission_file part in the request")
    parts = [
        (key, part)
        for key, part in form.multi_items()
        if key != "xml_submission_file" and not isinstance(part, str)
    ]
    collect.check_sizes(
        xml_part.size or 0, [(p.filename or k, p.size or 0) for k, p in parts]
    )
    xml = await xml_part.read()
    files = [
        (
            part.filename or key,
            part.content_type or "application/octet-stream",
            await part.read(),
        )
        for key, part in parts
    ]
    return xml, files
