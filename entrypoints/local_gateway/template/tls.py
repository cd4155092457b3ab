"""The local CA (trustme) and the certificate serve answers https and wss with, for 127.0.0.1
and localhost: a handler that builds `https://{domainName}/{stage}` from its event reaches the
local @connections API through it, trusting the CA by AWS_CA_BUNDLE."""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalTls:
    context: ssl.SSLContext
    ca_bundle: Path  # the CA's certificate, PEM: what AWS_CA_BUNDLE names


def local_tls(folder: Path | None = None) -> LocalTls:
    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    where = folder or Path(tempfile.mkdtemp(prefix="switchboard-ca-"))
    bundle = where / "switchboard-local-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return LocalTls(context, bundle)
