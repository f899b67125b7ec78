"""POST /v1/webhooks/{provider}/{account}: provider webhooks in.

The raw body goes to the account's adapter through the hub's intake (signature check,
parsing, inbox deduplication); the answer is the acknowledgement that provider expects.
Events are applied by the hub's inbox worker, not here. A refusal is logged with its reason
code and the adapter's message, which never carries secrets or signatures.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from gatewayhub.api.auth import Principal
from gatewayhub.api.bodies import raw_body
from gatewayhub.api.context import Api
from gatewayhub.api.problems import Problem
from gatewayhub.errors import NotFound, ProviderError
from gatewayhub.provider import WebhookVerificationError

log = logging.getLogger("gatewayhub.api.webhooks")


async def receive_webhook(api: Api, request: Request, who: Principal) -> Response:
    """Verify, store once, acknowledge."""
    provider = request.path_params["provider"]
    account = request.path_params["account"]
    config = api.hub.config.providers.get(account)
    counted = (provider, account) if config is not None and config.type == provider else None
    if counted is None or account not in api.hub.accounts:
        log.warning("webhook refused: no %r account named %r", provider, account)
        api.metrics.webhook_rejections.labels("unknown", "unknown_account").inc()
        raise Problem(404, "not_found", "no such provider account")
    body = await raw_body(request, api.service.max_body_bytes)
    try:
        ack, fresh = await api.hub.receive_webhook(account, request.headers, body)
    except WebhookVerificationError as exc:
        log.warning("%s webhook for %s refused: %s (%s)", provider, account, exc.reason, exc)
        api.metrics.webhooks.labels(provider, account, "rejected").inc()
        api.metrics.webhook_rejections.labels(provider, exc.reason).inc()
        raise Problem(
            400, "webhook_rejected", "the webhook could not be verified", reason=exc.reason
        ) from None
    except NotFound:
        raise Problem(404, "not_found", "no such provider account") from None
    except ProviderError as exc:
        # Verification needed the provider (a certificate, an API) and it did not answer:
        # nothing is stored, and a 503 makes the provider deliver again later.
        log.warning("%s webhook for %s not verified: %s", provider, account, exc)
        raise Problem(503, "unavailable", "the webhook cannot be verified right now") from None
    api.metrics.webhooks.labels(provider, account, "accepted" if fresh else "duplicate").inc()
    return Response(ack.body, ack.status_code, media_type=ack.media_type)
