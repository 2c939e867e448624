"""Client of the external payment provider's HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import requests
from fastapi import Depends

from .settings import SettingsDep


class PaymentError(Exception):
    """A charge did not go through."""


class PaymentDeclined(PaymentError):
    """The provider refused the charge (card declined, insufficient funds, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PaymentUnavailable(PaymentError):
    """The provider could not be reached or failed; the charge may be retried later."""


class PaymentClient:
    """Charges orders through the payment provider."""

    def __init__(
        self, base_url: str, timeout: float, session: requests.Session | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def charge(self, order_id: int, amount_cents: int, currency: str) -> str:
        """Charge an order and return the provider's payment reference."""
        try:
            response = self.session.post(
                f"{self.base_url}/v1/charges",
                json={"order_id": order_id, "amount_cents": amount_cents, "currency": currency},
                headers={"Idempotency-Key": f"order-{order_id}"},
                timeout=self.timeout,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise PaymentUnavailable(f"payment API unreachable: {exc}") from exc
        if response.status_code == requests.codes.payment_required:
            raise PaymentDeclined(str(response.json().get("reason", "declined")))
        if response.status_code >= 500:
            raise PaymentUnavailable(f"payment API answered {response.status_code}")
        response.raise_for_status()
        return str(response.json()["reference"])


def get_payment_client(settings: SettingsDep) -> Iterator[PaymentClient]:
    """Yield a payment client for one request, closing its connections afterwards."""
    with requests.Session() as session:
        yield PaymentClient(settings.payment_api_url, settings.payment_timeout_seconds, session)


PaymentClientDep = Annotated[PaymentClient, Depends(get_payment_client)]
