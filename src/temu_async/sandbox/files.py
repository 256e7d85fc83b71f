"""Signed document URLs: ``GET /openapi/files/{token}`` with the five ``toa-*`` headers.

Checked as the fulfilment guide describes: the app key and token must belong to the
shop that owns the package, ``toa-random`` is 32 characters, ``toa-timestamp`` is 10
digits within the timestamp tolerance of the server clock, ``toa-sign`` is the MD5
construction of ``signature.expected_toa_sign`` (written apart from the client's
signer), and the URL itself lives 10 minutes of sandbox time. A refusal is HTTP 403
(404 for a token never issued) with a short JSON reason and never the expected sign.
"""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Callable
from email.utils import formatdate

import msgspec
from aiohttp import web

from .labels import Package
from .signature import expected_toa_sign
from .world import World

__all__ = ["FILES_PATH", "FileServer", "label_pdf"]

FILES_PATH = "/openapi/files"


class FileServer:
    def __init__(self, world: World, server_time: Callable[[], float], tolerance: int) -> None:
        self.world = world
        self.server_time = server_time
        self.tolerance = tolerance
        self.refusals: Counter[str] = Counter()
        """reason -> refused downloads (``expired``, ``sign``, ``token``, ...)."""

    def _refuse(self, reason: str, message: str, status: int = 403) -> web.Response:
        self.refusals[reason] += 1
        return web.Response(
            status=status,
            body=msgspec.json.encode({"success": False, "reason": reason, "errorMsg": message}),
            content_type="application/json",
            headers={"Date": formatdate(self.server_time(), usegmt=True)},
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        desk = self.world.labels
        document = desk.documents.get(request.match_info["token"])
        if document is None:
            return self._refuse("unknown", "no such document", status=404)
        headers = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("toa-")}
        missing = [
            n
            for n in ("toa-app-key", "toa-access-token", "toa-random", "toa-timestamp", "toa-sign")
            if not headers.get(n)
        ]
        if missing:
            return self._refuse("headers", f"missing header(s): {', '.join(missing)}")
        shop = self.world.shops.get(document.mall_id)
        app = self.world.apps.get(headers["toa-app-key"])
        if shop is None or app is None or shop.app_key != app.app_key:
            return self._refuse("app", "toa-app-key does not own this document")
        now = self.server_time()
        token = self.world.tokens.get(headers["toa-access-token"])
        if (
            token is None
            or token.revoked
            or token.mall_id != document.mall_id
            or token.expires_at < now
        ):
            return self._refuse("token", "toa-access-token is not valid for this document")
        if len(headers["toa-random"]) != 32:
            return self._refuse("random", "toa-random must be 32 characters")
        stamp = headers["toa-timestamp"]
        if len(stamp) != 10 or not stamp.isdigit() or abs(int(stamp) - now) > self.tolerance:
            return self._refuse("timestamp", "toa-timestamp is not 10 digits within 300 s of now")
        expected = expected_toa_sign(app.app_secret, headers)
        if not hmac.compare_digest(expected, headers["toa-sign"]):
            return self._refuse("sign", "toa-sign does not match")
        if now > document.expires_at:
            return self._refuse("expired", "the URL has expired; ask for a new one")
        package = desk.packages[document.package_sn]
        desk.downloads[package.package_sn] += 1
        pdf = document.document_type != "SHIPPING_LABEL_PNG"
        body = label_pdf(package) if pdf else label_png(package)
        ext, kind = ("pdf", "application/pdf") if pdf else ("png", "image/png")
        return web.Response(
            body=body,
            headers={
                "Content-Type": kind,
                "Content-Disposition": f'attachment; filename="label-{package.package_sn}.{ext}"',
                "Date": formatdate(self.server_time(), usegmt=True),
            },
        )


def label_pdf(package: Package) -> bytes:
    """A one-page PDF naming the package, its tracking number and its orders."""
    lines = [f"Package {package.package_sn}", f"Tracking {package.tracking_number}"]
    lines += [f"Order {x.order_sn} x{x.quantity}" for x in package.lines]
    text = " ".join(
        f"BT /F1 12 Tf 40 {760 - 18 * i} Td ({line}) Tj ET" for i, line in enumerate(lines)
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode()),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def label_png(package: Package) -> bytes:
    # Only the signature and the package number: enough to tell the two formats apart.
    return b"\x89PNG\r\n\x1a\n" + package.package_sn.encode()
