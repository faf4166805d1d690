"""The providers' official SDKs with their HTTP sent through the gateway.

Each SDK builds and parses its provider's requests; only the socket work is swapped, at the seam
the SDK offers for it, so every call gets the gateway's rate limit, breaker, retries, timeout and
call-log row with cost (:mod:`gateway.core`):

* Twilio (``twilio``): a :class:`twilio.http.HttpClient` (the SDK's documented custom-client hook).
* SendGrid (``sendgrid``): its ``python_http_client.Client``, whose ``_make_request`` is the
  documented test seam, and ``_build_client`` so the chained ``client.mail.send`` keeps it.
* Slack (``slack_sdk``): ``WebClient`` and ``WebhookClient`` subclasses replacing the urllib call
  of one request (``_perform_urllib_http_request_internal`` / ``_perform_http_request_internal``).

The provider's base URL is the gateway's (``FLEETLIGHT_PROVIDER_BASE_URLS`` points tests and
on-premise proxies elsewhere). A gateway failure (:class:`gateway.errors.ProviderError`) leaves
the SDK as it is, so callers see one error tree whatever the channel.
"""
from __future__ import annotations

import email.message
import io
import json
from typing import Any
from urllib.parse import urlencode, urlsplit
from urllib.request import Request

import httpx
import python_http_client
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient, WebhookResponse
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

TWILIO_API = "https://api.twilio.com"


def _headers_message(headers: httpx.Headers) -> email.message.Message:
    """Return ``headers`` as the email.message.Message urllib responses carry (``get_content_charset``)."""
    message = email.message.Message()
    for key, value in headers.multi_items():
        message[key] = value
    return message


def _endpoint_of(url: str) -> str:
    return urlsplit(url).path or "/"


class GatewayTwilioHttpClient(HttpClient):
    """Twilio's HttpClient that sends through ``gateway`` as provider ``twilio``.

    ``endpoint``: the call-log name of the request ('messages' or 'calls', priced per call).
    """

    def __init__(self, gateway: Any, endpoint_names: dict[str, str] | None = None) -> None:
        import logging

        super().__init__(logging.getLogger("twilio.http_client"), is_async=False, timeout=None)
        self.gateway = gateway
        self.endpoint_names = endpoint_names or {"/Messages.json": "messages", "/Calls.json": "calls"}
        self.last_response: TwilioResponse | None = None

    def request(self, method: str, uri: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> TwilioResponse:
        """Send one Twilio request through the gateway; return the SDK's Response."""
        base = self.gateway.base_url("twilio")
        url = base + uri[len(TWILIO_API):] if uri.startswith(TWILIO_API) else uri
        endpoint = next((name for suffix, name in self.endpoint_names.items() if uri.endswith(suffix)),
                        _endpoint_of(uri))
        kwargs: dict[str, Any] = {"headers": dict(headers or {}), "params": params or None}
        if data:
            kwargs["content"] = urlencode(list(_form_items(data))).encode()
            kwargs["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
        if auth is not None:
            kwargs["auth"] = auth
        if timeout is not None:
            kwargs["timeout"] = timeout
        answer = self.gateway.request("twilio", method, url, endpoint=endpoint, fallback=False, **kwargs)
        self.last_response = TwilioResponse(answer.status_code, answer.text, dict(answer.headers))
        return self.last_response


def _form_items(data: dict[str, object]):
    for key, value in data.items():
        if isinstance(value, (list, tuple)):
            for item in value:
                yield key, str(item)
        elif value is not None:
            yield key, str(value)


class _UrllibAnswer:
    """What python_http_client reads from a urllib response: getcode(), read(), info()."""

    def __init__(self, answer: httpx.Response) -> None:
        self._answer = answer
        self._body = io.BytesIO(answer.content)

    def getcode(self) -> int:
        return self._answer.status_code

    def read(self) -> bytes:
        return self._body.read()

    def info(self) -> email.message.Message:
        return _headers_message(self._answer.headers)


class GatewaySendGridClient(python_http_client.Client):
    """SendGrid's HTTP client sending through ``gateway`` as provider ``sendgrid``."""

    def __init__(self, gateway: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gateway = gateway

    def _build_client(self, name: str | None = None) -> GatewaySendGridClient:
        url_path = self._url_path + [name] if name else self._url_path
        return GatewaySendGridClient(self.gateway, host=self.host, version=self._version,
                                     request_headers=self.request_headers, url_path=url_path,
                                     append_slash=self.append_slash, timeout=self.timeout)

    def _make_request(self, opener: Any, request: Request, timeout: float | None = None) -> _UrllibAnswer:
        headers = {k: v for k, v in request.header_items()}
        path = _endpoint_of(request.full_url)
        endpoint = "mail.send" if path.endswith("/mail/send") else path
        kwargs: dict[str, Any] = {"headers": headers, "content": request.data}
        if timeout or self.timeout:
            kwargs["timeout"] = timeout or self.timeout
        answer = self.gateway.request("sendgrid", request.get_method(), request.full_url, endpoint=endpoint,
                                      fallback=False, **kwargs)
        return _UrllibAnswer(answer)


def sendgrid_client(gateway: Any, api_key: str) -> Any:
    """Return a ``SendGridAPIClient`` for ``api_key`` whose calls go through ``gateway``."""
    from sendgrid import SendGridAPIClient

    client = SendGridAPIClient(api_key=api_key, host=gateway.base_url("sendgrid"))
    client.client = GatewaySendGridClient(gateway, host=client.host, request_headers=client._default_headers,
                                          version=3)
    return client


class GatewaySlackWebClient(WebClient):
    """slack_sdk's WebClient (Web API, bot token) sending through ``gateway`` as provider ``slack``."""

    def __init__(self, gateway: Any, token: str) -> None:
        super().__init__(token=token, base_url=gateway.base_url("slack").rstrip("/") + "/", retry_handlers=[])
        self.gateway = gateway

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        headers = {k: v for k, v in req.header_items()}
        method = urlsplit(url).path.rsplit("/", 1)[-1]
        answer = self.gateway.request("slack", req.get_method(), url, endpoint=method, fallback=False,
                                      headers=headers, content=req.data)
        return {"status": answer.status_code, "headers": dict(answer.headers), "body": answer.text}


class GatewaySlackWebhookClient(WebhookClient):
    """slack_sdk's WebhookClient (incoming webhook URL) sending through ``gateway`` (``slack_webhook``)."""

    def __init__(self, gateway: Any, url: str) -> None:
        super().__init__(url=url, retry_handlers=[])
        self.gateway = gateway

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        headers = {k: v for k, v in req.header_items()}
        answer = self.gateway.request("slack_webhook", "POST", url, endpoint="services", fallback=False,
                                      headers=headers, content=req.data)
        return WebhookResponse(url=url, status_code=answer.status_code, body=answer.text,
                               headers=dict(answer.headers))


def teams_post(gateway: Any, url: str, card_message: dict[str, Any]) -> httpx.Response:
    """POST an Adaptive Card message to a Teams Workflows webhook URL through the gateway (``msteams``).

    Microsoft ships no Python SDK for Workflows webhooks: the request is the documented JSON
    envelope over HTTP (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using).
    """
    return gateway.request("msteams", "POST", url, endpoint="workflows", fallback=False,
                           content=json.dumps(card_message).encode(),
                           headers={"Content-Type": "application/json"})
