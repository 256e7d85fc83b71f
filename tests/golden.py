"""The signature example from Temu's docs: the params, the app secret and the sign.

The nested key order is the one the docs' sign string verifies with, not the order of
the body printed beside it (see PROTOCOL.md). Every signer in this repository (ours,
the test oracle, the sandbox's, the bench's reference client) is checked against it.
"""

from __future__ import annotations

from typing import Any

GOLDEN_SECRET = "c7e0a1a63542be4de3cb5488f9fba8149e8fc290"
GOLDEN_SIGN = "4CCF219942D4180C6DDA3CE36C1B838F"


def golden_params() -> dict[str, Any]:
    """A fresh copy each call, so a test that edits it cannot change another's."""
    return {
        "access_token": "2nifvmpyymvypwmcms5ct4uqqudrwgpmzbcnmkt1jzjkuaf3x56iixym",
        "app_key": "f9d5cc9313893a20d5aa85c654e8f503",
        "data_type": "JSON",
        "sendRequestList": [
            {
                "orderSendInfoList": [
                    {
                        "quantity": 1,
                        "orderSn": "211-21905473070712792",
                        "parentOrderSn": "PO-211-21905452099192792",
                        "goodsId": 601099548666279,
                        "skuId": 17592352673534,
                    }
                ],
                "carrierId": "699272611",
                "trackingNumber": "270324232756",
            }
        ],
        "sendType": 0,
        "timestamp": 1711009072,
        "type": "bg.logistics.shipment.confirm",
    }
