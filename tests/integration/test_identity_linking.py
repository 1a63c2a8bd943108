"""Finding 3 of issue 14: one person, two accounts, through a real OpenID Connect provider.

oidc-provider-mock runs on a free loopback port; each sign-in is the full
authorization-code flow over HTTP (authorize form, code, token endpoint, ID
token verified against the provider's JWKS with its nonce), and the verified
claims are what Streamlit's ``st.user`` would hand Steward. Both databases.
"""

from __future__ import annotations

import secrets
import threading
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import werkzeug.serving
from sqlalchemy import text
from test_governance_insider import prod_request
from test_promotions_support import build_world

from steward.core.domain.roles import Role
from steward.core.errors import InvalidInput

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CLIENT_ID, CLIENT_SECRET = "steward-identity-test", "identity-test-client-secret"
REDIRECT = "http://127.0.0.1:9/oauth2callback"  # never fetched: the code is read from the redirect


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """oidc-provider-mock (nonce required) in a thread, bound to loopback only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from oidc_provider_mock import app as provider_app
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider_app(require_nonce=True), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def id_token_claims(provider: str, sub: str, claims: dict[str, Any]) -> dict[str, Any]:
    """Sign ``sub`` in at the provider and return the verified ID token's claims."""
    from authlib.jose import JsonWebKey, jwt

    with httpx.Client(timeout=10) as client:
        client.put(f"{provider}/users/{sub}", json=claims).raise_for_status()
        meta = client.get(f"{provider}/.well-known/openid-configuration").json()
        nonce, state = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        query = {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "openid profile email",
            "nonce": nonce,
            "state": state,
        }
        answer = client.post(meta["authorization_endpoint"], params=query, data={"sub": sub})
        assert answer.status_code in (302, 303), answer.text[:300]
        redirected = parse_qs(urlparse(answer.headers["location"]).query)
        assert redirected["state"] == [state]
        token = client.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": redirected["code"][0],
                "redirect_uri": REDIRECT,
            },
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
        token.raise_for_status()
        keys = JsonWebKey.import_key_set(client.get(meta["jwks_uri"]).json())
    verified = jwt.decode(token.json()["id_token"], keys)
    verified.validate()
    assert verified["nonce"] == nonce and verified["iss"] == meta["issuer"]
    return dict(verified)


@pytest.fixture
def world(steward):
    world = build_world(steward)
    with steward.engines.write.begin() as db:  # the cast's e-mail addresses, as an admin would have set them
        for name in ("dana", "rick"):
            db.execute(
                text("UPDATE users SET email = :m WHERE username = :u"),
                {"m": f"{name}@example.org", "u": name},
            )
    steward.group_mappings.add(world["ada"], "risk-team", "risk_officer")
    steward.group_mappings.add(world["ada"], "business", "business_stakeholder")
    return world


def dana_claims(verified: bool) -> dict[str, Any]:
    return {
        "preferred_username": "dana.local",
        "name": "dana",
        "email": "dana@example.org",
        "email_verified": verified,
        "groups": ["risk-team"],
    }


def test_dana_signing_in_with_her_verified_email_gets_her_own_account_and_cannot_approve(world, provider):
    s = world.steward
    request = prod_request(world)
    claims = id_token_claims(provider, "dana-sub-1", dana_claims(verified=True))
    actor = s.auth.sso_sign_in(claims, source="127.0.0.1")
    assert actor.username == "dana" and Role.RISK_OFFICER in actor.roles  # her account, no second one
    with pytest.raises(InvalidInput, match="someone else must sign"):
        s.promotions.approve(actor, request.id, "looks good to me")
    assert not s.promotions.get(request.id).approvals
    again = s.auth.sso_sign_in(id_token_claims(provider, "dana-sub-1", dana_claims(verified=True)))
    assert again.username == "dana"  # matched by issuer and subject from now on
    linked = [e for e in s.audit.list(world["ada"]).events if e.action == "user.link_identity"]
    assert linked and linked[0].object_id == "dana"


def test_dana_second_account_from_an_unverified_email_is_the_same_person_and_cannot_approve(world, provider):
    s = world.steward
    request = prod_request(world)
    claims = id_token_claims(provider, "dana-sub-2", dana_claims(verified=False))
    actor = s.auth.sso_sign_in(claims, source="127.0.0.1")
    assert actor.username == "dana.local" and Role.RISK_OFFICER in actor.roles  # a second account...
    with pytest.raises(InvalidInput, match="accounts of one person"):  # ...of the requester
        s.promotions.approve(actor, request.id, "looks good to me")
    assert not s.promotions.get(request.id).approvals
    s.promotions.approve(world["sam"], request.id)
    s.promotions.approve(world["bea"], request.id)
    with pytest.raises(InvalidInput, match="risk officer"):
        s.promotions.execute(world["otto"], request.id)


def test_two_accounts_of_one_approver_fill_one_seat(world, provider):
    s = world.steward
    request = prod_request(world)
    rick_sso = s.auth.sso_sign_in(
        id_token_claims(
            provider,
            "rick-sub",
            {
                "preferred_username": "rick.sso",
                "email": "rick@example.org",
                "email_verified": False,
                "groups": ["business"],
            },
        )
    )
    assert rick_sso.username == "rick.sso" and Role.BUSINESS_STAKEHOLDER in rick_sso.roles
    s.promotions.approve(world["sam"], request.id)
    s.promotions.approve(world["rick"], request.id)  # risk officer seat
    s.promotions.approve(rick_sso, request.id)  # would fill the business seat: same person
    signoff = s.promotions.evidence(request.id).signoff
    assert not signoff.satisfied
    assert any("the same person" in why for _, why in signoff.ignored)
    with pytest.raises(InvalidInput):
        s.promotions.execute(world["otto"], request.id)
