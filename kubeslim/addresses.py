"""Addresses and local paths told apart as Apache Beam's ``FileSystems`` tell them."""

import os
import re

from kubeslim.errors import KubeslimError

_URI = re.compile(r"(?P<scheme>[a-zA-Z][-a-zA-Z0-9+.]*)://")  # Beam's FileSystems rule
_ONE_SLASH = re.compile(r"(gs|s3|hdfs|https?|az):/(?!/)", re.IGNORECASE)  # a URI through pathlib


def is_uri(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an address (``gs://b/x``) by Beam's rule, a scheme then ``://``
    (``file://`` is local). A store's address with one slash (``gs:/b``) is refused
    (``KubeslimError``), not taken for a local folder ``gs:``."""
    text = os.fspath(path).strip()
    if typo := _ONE_SLASH.match(text):
        raise KubeslimError(
            f"{text}: an address takes two slashes after '{typo[1]}:' ({typo[1]}://)"
        )
    match = _URI.match(text)
    return match is not None and match["scheme"].lower() != "file"
