"""OAuth mode (IMINI_OAUTH_ISSUER): imini-mcp as an OAuth 2.1 resource server for many people.

- `issuer.py`: the authorization server's metadata and signing keys (cached, refreshed on a new key id);
- `verifier.py`: access tokens verified (JWT, or RFC 7662 introspection); the person is issuer + subject;
- `gate.py`: scopes per tool (403 insufficient_scope) and the `scope=` of every challenge.

`resource_server(settings)` builds what `MCPServer` takes; `install(app, settings)` adds the gate and the RFC 9728
document listing every scope to the HTTP app.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from imini_mcp.mcp.oauth.gate import ScopeGate, needed_scopes
from imini_mcp.mcp.oauth.issuer import ALGORITHMS, Issuer, IssuerUnavailable
from imini_mcp.mcp.oauth.verifier import OAuthVerifier, owner_of, token_owner
from imini_mcp.settings import Settings

__all__ = [
    "ALGORITHMS",
    "Issuer",
    "IssuerUnavailable",
    "OAuthVerifier",
    "ResourceServer",
    "ScopeGate",
    "install",
    "needed_scopes",
    "owner_of",
    "resource_server",
    "token_owner",
]

WELL_KNOWN = "/.well-known/oauth-protected-resource"


@dataclass(frozen=True)
class ResourceServer:
    """What OAuth mode runs on: the issuer (shared by the verifier and the key page), the verifier, and the
    SDK's settings (RFC 9728 document, 401 challenge, the read scope every request needs)."""

    issuer: Issuer
    verifier: OAuthVerifier
    auth: AuthSettings


def resource_server(settings: Settings) -> ResourceServer | None:
    """None unless OAuth mode (IMINI_OAUTH_ISSUER); `mcp/http.py` checks the rest of the settings."""
    if not settings.oauth_mode() or settings.oauth_issuer is None or settings.resource_url is None:
        return None
    issuer = Issuer(settings.oauth_issuer)
    verifier = OAuthVerifier(
        issuer,
        settings.resource_url,
        skew=settings.oauth_clock_skew_seconds,
        introspection_url=settings.oauth_introspection_url,
        introspection_auth=settings.introspection_credentials(),
    )
    auth = AuthSettings(  # strings: AuthSettings keeps a path-less URL without a trailing slash (RFC 8414)
        issuer_url=settings.oauth_issuer,
        resource_server_url=settings.resource_url,
        required_scopes=[settings.read_scope()],
        validate_token_resource=True,  # and the verifier checks `aud` itself
    )
    return ResourceServer(issuer, verifier, auth)


def install(app: Starlette, auth: AuthSettings, settings: Settings) -> None:
    """The scope gate (innermost: after the SDK authenticated the request), and an RFC 9728 document whose
    `scopes_supported` lists both scopes (the SDK's would list only the one every request needs)."""
    assert auth.resource_server_url is not None
    metadata_url = str(build_resource_metadata_url(auth.resource_server_url))
    app.user_middleware.append(Middleware(ScopeGate, settings=settings, metadata_url=metadata_url))
    document = create_protected_resource_routes(
        resource_url=auth.resource_server_url,
        authorization_servers=[auth.issuer_url],
        scopes_supported=list(dict.fromkeys(settings.oauth_scopes)),
        resource_name="imini video",
    )
    routes = [r for r in app.router.routes if not (isinstance(r, Route) and r.path.startswith(WELL_KNOWN))]
    app.router.routes[:] = [*document, *routes]
