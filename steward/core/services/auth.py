"""Signing in and out, and the server-side sessions Steward controls.

Streamlit's own login cookie lasts 30 days and survives logout, so it is never
trusted alone: every interaction resumes a session recorded here, which ends
on logout, deactivation, idleness or its absolute lifetime. Local sign-ins get
a random token; SSO sign-ins are keyed by a fingerprint of the ID token's
claims, so replaying a cookie after signing out finds a revoked session.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import func, select

from steward.core.adapters.db.bulk import insert_new
from steward.core.adapters.db.models import LoginThrottleRow, SessionRow, UserRow
from steward.core.domain.accounts import Actor, SessionInfo
from steward.core.domain.audit import Outcome, canonical_json
from steward.core.domain.names import validate_username
from steward.core.domain.passwords import hash_password, needs_rehash, verify_password
from steward.core.domain.permissions import Action
from steward.core.domain.throttle import SOURCE_KEY_PREFIX, Counter, ThrottlePolicy, throttle_keys
from steward.core.errors import AuthenticationFailed, InvalidInput, NotFound
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.promotions.voiding import void_lapsed_signatures
from steward.core.services.roles_lookup import effective_roles
from steward.core.services.uow import UnitOfWork

WRONG_CREDENTIALS = "User name or password is incorrect."
MAX_GROUPS = 200


class SessionEnded(AuthenticationFailed):
    """The session cannot continue; ``reason`` says why (signed_out, idle, expired, user_deactivated...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


_REASON_MESSAGES = {
    "signed_out": "You signed out. Sign in again to continue.",
    "idle": "Your session ended after a period of inactivity. Sign in again.",
    "expired": "Your session reached its maximum length. Sign in again.",
    "user_deactivated": "Your account has been deactivated. Ask an admin.",
    "password_changed": "Your password was changed. Sign in again.",
    "revoked": "An admin ended your session. Sign in again.",
    "unknown": "Your session is not recognised. Sign in again.",
}


def ended(reason: str) -> SessionEnded:
    return SessionEnded(reason, _REASON_MESSAGES.get(reason, _REASON_MESSAGES["revoked"]))


@dataclass(frozen=True)
class SessionGrant:
    token: str
    actor: Actor


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sso_token(claims: Mapping[str, Any]) -> str:
    """A stable token for one OIDC sign-in: the same ID token always maps to the same session."""
    material = {key: value for key, value in claims.items() if key != "is_logged_in"}
    return "oidc:" + hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()


def printable(value: str, limit: int = 64) -> str:
    """Typed text as it may appear in the log: control characters replaced, length bounded."""
    cleaned = "".join("?" if unicodedata.category(ch).startswith("C") else ch for ch in str(value))
    return cleaned[:limit]


def claim_groups(claims: Mapping[str, Any], claim: str) -> list[str]:
    raw = claims.get(claim)
    if raw is None:
        return []
    items = re.split(r"[,\s]+", raw) if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    groups = sorted({printable(str(item), 200) for item in items if str(item).strip()})
    return groups[:MAX_GROUPS]


class AuthService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        max_delay = timedelta(seconds=ctx.settings.login_max_delay_seconds)
        self.account_policy = ThrottlePolicy(ctx.settings.login_free_attempts, max_delay)
        # A source is shared (an office behind one address): its budget is larger, or colleagues
        # signing in at once would be slowed by each other's attempts still being checked.
        self.source_policy = ThrottlePolicy(ctx.settings.login_source_free_attempts, max_delay)

    @cached_property
    def _dummy_hash(self) -> str:
        # Verifying against this for unknown users makes both answers take as long.
        return hash_password(secrets.token_urlsafe(16), self.ctx.scrypt)

    @property
    def idle_limit(self) -> timedelta:
        return timedelta(minutes=self.ctx.settings.session_idle_minutes)

    @property
    def absolute_limit(self) -> timedelta:
        return timedelta(hours=self.ctx.settings.session_absolute_hours)

    # ---- local sign-in -----------------------------------------------------
    def login(self, username: str, password: str, *, source: str = "") -> SessionGrant:
        """Check a password; same answer and cost whether or not the user exists.

        Deciding that the attempt need not wait and counting it happen in one
        write transaction, with the counter rows locked, before the password
        is checked: guesses sent at the same moment from several processes
        get no more checks than the throttle allows. A right password gives
        the counted failure back.
        """
        typed = printable(username or "")
        key_name = typed.strip().lower()
        keys = sorted(throttle_keys(key_name, source or None))  # one lock order for every process
        with UnitOfWork(self.ctx) as uow:
            counters = self._lock_counters(uow, keys)
            now = self.ctx.clock.now()  # read once the locks are held: no claim is dated before another
            wait = max(
                (self._policy(key).seconds_to_wait([counter], now) for key, counter in counters.items()),
                default=0,
            )
            if wait > 0:
                for key, counter in counters.items():
                    self._store_counter(uow, key, counter)  # a row made just to lock it goes again
                self._record_anonymous(
                    uow,
                    typed,
                    source,
                    "auth.login_throttled",
                    Outcome.DENIED,
                    f"refused: wait {wait} s after failed sign-ins",
                )
                uow.commit()
                raise AuthenticationFailed(f"Too many failed sign-ins. Try again in {wait} seconds.")
            claimed = {key: self._policy(key).claim(counter, now) for key, counter in counters.items()}
            for key, counter in claimed.items():
                self._store_counter(uow, key, counter)
            user = (
                uow.session.scalar(select(UserRow).where(UserRow.username == key_name)) if key_name else None
            )
            stored = user.password_hash if user is not None and user.active and user.password_hash else None
            user_id = user.id if user is not None else None
            uow.commit()
        password_ok = verify_password(password or "", stored or self._dummy_hash) and stored is not None
        if not password_ok or user_id is None:
            with UnitOfWork(self.ctx) as uow:  # the failure was counted with the claim; this is its record
                self._record_anonymous(
                    uow, typed, source, "auth.login_failed", Outcome.FAILED, "wrong user name or password"
                )
                uow.commit()
            raise AuthenticationFailed(WRONG_CREDENTIALS)
        token = secrets.token_urlsafe(32)
        with UnitOfWork(self.ctx) as uow:
            current = self._lock_counters(uow, keys, create=False)
            row = uow.session.get(UserRow, user_id)
            if row is None or not row.active:  # deactivated meanwhile: the claim stays counted
                raise AuthenticationFailed(WRONG_CREDENTIALS)
            account_key = throttle_keys(key_name, None)[0]
            for key, counter in current.items():
                # The account's counter starts again; the source's only gets this attempt back, so one
                # right password does not wipe out a source's failures on other accounts.
                after = (
                    Counter()
                    if key == account_key
                    else self._policy(key).refund(counter, claimed[key], counters[key])
                )
                self._store_counter(uow, key, after)
            if stored and needs_rehash(stored, self.ctx.scrypt):
                row.password_hash = hash_password(password, self.ctx.scrypt)
            session_row = self._new_session(uow, row, token, method="local", source=source, groups=None)
            actor = self._actor(uow, row, session_row)
            uow.record(
                actor, "auth.login", object_type="session", object_id=session_row.id, detail="password"
            )
            uow.commit()
        return SessionGrant(token, actor)

    def _policy(self, key: str) -> ThrottlePolicy:
        return self.source_policy if key.startswith(SOURCE_KEY_PREFIX) else self.account_policy

    def _lock_counters(self, uow: UnitOfWork, keys: list[str], *, create: bool = True) -> dict[str, Counter]:
        """The counters of ``keys``, locked until the unit of work ends (created first if missing).

        On SQLite the IMMEDIATE transaction already holds the database's write
        lock; on PostgreSQL each row is locked FOR UPDATE, and a missing row is
        inserted with ON CONFLICT DO NOTHING so two first attempts do not collide.
        """
        if create:
            insert_new(
                uow.session,
                LoginThrottleRow,
                [{"key": key, "failures": 0, "last_failure_at": None} for key in keys],
                ["key"],
            )
        counters = {}
        for key in keys:
            row = uow.session.get(LoginThrottleRow, key, with_for_update=True, populate_existing=True)
            if row is not None:
                counters[key] = Counter(row.failures, row.last_failure_at)
        return counters

    @staticmethod
    def _store_counter(uow: UnitOfWork, key: str, counter: Counter) -> None:
        row = uow.session.get(LoginThrottleRow, key)
        if row is None:
            return
        if counter == Counter():
            uow.session.delete(row)
        else:
            row.failures, row.last_failure_at = counter.failures, counter.last_failure_at

    @staticmethod
    def _record_anonymous(
        uow: UnitOfWork, typed: str, source: str, action: str, outcome: Outcome, detail: str
    ) -> None:
        uow.record(
            Actor(username=typed or "(empty)", source=source),
            action,
            object_type="user",
            object_id=typed,
            outcome=outcome,
            detail=detail,
        )

    # ---- single sign-on ----------------------------------------------------
    def sso_sign_in(self, claims: Mapping[str, Any], *, source: str = "") -> Actor:
        """Resume the session of this ID token, or start one (provisioning the user on first sight).

        A user whose groups map to no role still gets a session and an account
        record, with no roles: the app shows "no access yet" and admins can see
        who asked.
        """
        token = sso_token(claims)
        with UnitOfWork(self.ctx, write=False) as uow:
            exists = uow.session.scalar(
                select(SessionRow.id).where(SessionRow.token_hash == token_digest(token))
            )
        if exists is not None:
            return self.resume(token, source=source)
        issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
        if not subject:
            raise AuthenticationFailed("The identity provider sent no subject ('sub') claim.")
        groups = claim_groups(claims, self.ctx.settings.sso_groups_claim)
        external_id = f"{issuer}|{subject}"[:512]
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.scalar(select(UserRow).where(UserRow.external_id == external_id))
            system = Actor.system_actor("sso")
            if row is None:
                row = self._link_or_provision(uow, claims, external_id, system)
            if not row.active:
                raise ended("user_deactivated")
            session_row = self._new_session(uow, row, token, method="oidc", source=source, groups=groups)
            actor = self._actor(uow, row, session_row)
            if actor.roles:
                uow.record(
                    actor,
                    "auth.login",
                    object_type="session",
                    object_id=session_row.id,
                    detail=f"sso; groups: {', '.join(groups) or 'none'}",
                )
            else:
                uow.record(
                    actor,
                    "auth.sso_no_access",
                    object_type="session",
                    object_id=session_row.id,
                    outcome=Outcome.DENIED,
                    detail=f"no role mapped for groups: {', '.join(groups) or 'none'}",
                )
            uow.commit()
        return actor

    def _link_or_provision(
        self, uow: UnitOfWork, claims: Mapping[str, Any], external_id: str, system: Actor
    ) -> UserRow:
        """The account of the person behind a first SSO sign-in: theirs if known, else a new one.

        A *verified* e-mail naming exactly one account with no identity-provider
        identity yet is that person: the sign-in uses that account, which is
        bound to ``issuer|subject`` from now on. Otherwise a new account is
        provisioned, and if its e-mail (verified or not) is that of existing
        accounts it is linked to their person, so the two never fill two seats
        and never approve each other's requests.
        """
        email = str(claims.get("email") or "").strip()
        same_mail = (
            list(
                uow.session.scalars(
                    select(UserRow).where(func.lower(UserRow.email) == email.lower()).order_by(UserRow.id)
                )
            )
            if email
            else []
        )
        verified = claims.get("email_verified") in (True, "true", "True")
        if verified and self.ctx.settings.sso_link_verified_email and len(same_mail) == 1:
            existing = same_mail[0]
            if existing.external_id is None:
                existing.external_id = external_id
                existing.updated_at = self.ctx.clock.now()
                uow.session.flush()
                uow.record(
                    system,
                    "user.link_identity",
                    object_type="user",
                    object_id=existing.username,
                    after={"external_id": external_id, "matched_by": "verified e-mail"},
                    detail=f"SSO sign-in with the verified e-mail of {existing.username} uses that account",
                )
                return existing
        row = self._provision(uow, claims, external_id)
        after: dict[str, Any] = {"username": row.username, "auth_source": "oidc", "external_id": external_id}
        if same_mail:
            person = same_mail[0]
            row.person_id = person.person_id or person.id
            uow.session.flush()
            after["same_person_as"] = person.username
        uow.record(system, "user.provision", object_type="user", object_id=row.username, after=after)
        return row

    def _provision(self, uow: UnitOfWork, claims: Mapping[str, Any], external_id: str) -> UserRow:
        base = ""
        for claim in self.ctx.settings.sso_username_claims:
            candidate = re.sub(r"[^a-z0-9._@-]", "", str(claims.get(claim, "")).lower())[:56]
            try:
                base = validate_username(candidate)
                break
            except InvalidInput:
                continue
        if not base:
            base = "sso-" + hashlib.sha256(external_id.encode()).hexdigest()[:10]
        name, suffix = base, 1
        while uow.session.scalar(select(UserRow.id).where(UserRow.username == name)) is not None:
            suffix += 1
            name = f"{base}-{suffix}"
        now = self.ctx.clock.now()
        display = printable(str(claims.get("name") or name), 200)
        email = printable(str(claims["email"]), 320) if claims.get("email") else None
        row = UserRow(
            username=name,
            display_name=display,
            email=email,
            password_hash=None,
            auth_source="oidc",
            external_id=external_id,
            active=True,
            created_at=now,
            updated_at=now,
        )
        row.roles = []
        uow.session.add(row)
        uow.session.flush()
        return row

    # ---- sessions ----------------------------------------------------------
    def _new_session(
        self,
        uow: UnitOfWork,
        user: UserRow,
        token: str,
        *,
        method: str,
        source: str,
        groups: list[str] | None,
    ) -> SessionRow:
        now = self.ctx.clock.now()
        row = SessionRow(
            id=str(uuid.uuid4()),
            token_hash=token_digest(token),
            user_id=user.id,
            method=method,
            source=printable(source, 100),
            groups_json=json.dumps(groups) if groups is not None else None,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.absolute_limit,
        )
        uow.session.add(row)
        uow.session.flush()
        if groups is not None:  # the identity provider's groups decide mapped roles from now on
            void_lapsed_signatures(uow, Actor.system_actor("sso-groups"), [user.username])
        return row

    def _actor(self, uow: UnitOfWork, user: UserRow, session_row: SessionRow) -> Actor:
        return Actor(
            username=user.username,
            roles=effective_roles(uow.session, user, session_row),
            user_id=user.id,
            session_id=session_row.id,
            source=session_row.source,
            display_name=user.display_name,
            auth_source=user.auth_source,
        )

    def resume(self, token: str, *, source: str = "") -> Actor:
        """The actor behind a session token, checked now; raises SessionEnded with the reason."""
        now = self.ctx.clock.now()
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.scalar(select(SessionRow).where(SessionRow.token_hash == token_digest(token)))
            if row is None:
                raise ended("unknown")
            if row.revoked_at is not None:
                raise ended(row.revoked_reason or "revoked")
            user = uow.session.get(UserRow, row.user_id)
            reason = None
            if user is None or not user.active:
                reason = "user_deactivated"
            elif now >= row.expires_at:
                reason = "expired"
            elif now - row.last_seen_at >= self.idle_limit:
                reason = "idle"
            if reason is None and user is not None:
                actor = self._actor(uow, user, row)
                touch = now - row.last_seen_at >= min(timedelta(seconds=60), self.idle_limit / 4)
            session_id = row.id
        if reason is not None:
            self._end(session_id, reason)
            raise ended(reason)
        if touch:
            with UnitOfWork(self.ctx) as uow:
                live = uow.session.get(SessionRow, session_id)
                if live is not None and live.revoked_at is None:
                    live.last_seen_at = now
                uow.commit()
        return actor

    def _end(self, session_id: str, reason: str) -> None:
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(SessionRow, session_id)
            if row is None or row.revoked_at is not None:
                return
            user = uow.session.get(UserRow, row.user_id)
            row.revoked_at, row.revoked_reason = self.ctx.clock.now(), reason
            actor = Actor(
                username=user.username if user else "(deleted user)",
                user_id=row.user_id,
                session_id=row.id,
                source=row.source,
            )
            uow.record(actor, "auth.session_ended", object_type="session", object_id=row.id, detail=reason)
            uow.commit()

    def logout(self, token: str) -> None:
        """End the session behind ``token``; a copy of the browser's cookie is useless afterwards."""
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.scalar(select(SessionRow).where(SessionRow.token_hash == token_digest(token)))
            if row is None or row.revoked_at is not None:
                return
            user = uow.session.get(UserRow, row.user_id)
            row.revoked_at, row.revoked_reason = self.ctx.clock.now(), "signed_out"
            actor = Actor(
                username=user.username if user else "(deleted user)",
                user_id=row.user_id,
                session_id=row.id,
                source=row.source,
            )
            uow.record(actor, "auth.logout", object_type="session", object_id=row.id)
            uow.commit()

    def list_sessions(self, actor: Actor, *, active_only: bool = True, limit: int = 200) -> list[SessionInfo]:
        authz.check(self.ctx, actor, Action.MANAGE_USERS, what="list sessions")
        with UnitOfWork(self.ctx, write=False) as uow:
            query = (
                select(SessionRow, UserRow.username)
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .order_by(SessionRow.last_seen_at.desc())
                .limit(limit)
            )
            if active_only:
                query = query.where(
                    SessionRow.revoked_at.is_(None), SessionRow.expires_at > self.ctx.clock.now()
                )
            return [
                SessionInfo(
                    id=row.id,
                    user_id=row.user_id,
                    username=username,
                    method=row.method,
                    source=row.source,
                    created_at=row.created_at,
                    last_seen_at=row.last_seen_at,
                    expires_at=row.expires_at,
                    revoked_at=row.revoked_at,
                    revoked_reason=row.revoked_reason,
                )
                for row, username in uow.session.execute(query)
            ]

    def revoke(self, actor: Actor, session_id: str) -> None:
        authz.check(self.ctx, actor, Action.MANAGE_USERS, object_type="session", object_id=session_id)
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(SessionRow, session_id)
            if row is None:
                raise NotFound(f"no session {session_id[:40]!r}")
            if row.revoked_at is None:
                row.revoked_at, row.revoked_reason = self.ctx.clock.now(), "revoked"
                uow.record(actor, "session.revoke", object_type="session", object_id=row.id)
            uow.commit()
