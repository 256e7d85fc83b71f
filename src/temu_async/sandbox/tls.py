"""A throwaway TLS identity for the sandbox, so cold connections cost what they do live.

The real gateway is HTTPS: a client's first requests pay a TCP connect and a TLS
handshake before a byte of them is written. Served over TLS (``SandboxConfig(tls=True)``),
the sandbox makes that cost real on loopback, so effects such as a rate slot granted
long before its request leaves can be tested. The certificate is self-signed, made at
start for ``127.0.0.1`` and ``localhost``, valid for a day, and never written anywhere
but a temporary directory that is removed at once; clients trust it through
:meth:`SelfSigned.client_context`. Needs the ``cryptography`` package (the
``webhooks`` extra, and a dev dependency).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SelfSigned", "self_signed"]


@dataclass(frozen=True)
class SelfSigned:
    cert_pem: bytes
    """The certificate (public): what a client must trust."""
    key_pem: bytes

    def __repr__(self) -> str:  # the key stays out of logs
        return "SelfSigned(<certificate for 127.0.0.1, localhost>)"

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        # The ssl module loads a chain only from files: they live for this call only.
        with tempfile.TemporaryDirectory(prefix="temu-sandbox-tls-") as directory:
            cert, key = Path(directory, "cert.pem"), Path(directory, "key.pem")
            cert.write_bytes(self.cert_pem)
            key.touch(mode=0o600)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(cert, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (and nothing else)."""
        return ssl.create_default_context(cadata=self.cert_pem.decode("ascii"))


def self_signed(host: str = "127.0.0.1") -> SelfSigned:
    """A fresh key and certificate for ``host``, ``127.0.0.1`` and ``localhost``."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError as exc:
        raise ImportError(
            "a TLS sandbox needs the cryptography package: pip install 'temu-async[webhooks]'"
        ) from exc

    key = ec.generate_private_key(ec.SECP256R1())  # fast to make, fast handshakes
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "temu-async sandbox")])
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    addresses = {"127.0.0.1", host}
    for address in sorted(addresses):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            names.append(x509.DNSName(address))
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return SelfSigned(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
