"""Bearer-token authentication and role-based authorization for every Rushes gRPC server.

The one place that says who may call what:

* Roles are ordered viewer < editor < reviewer < admin; a role may do everything a lower one may.
* METHOD_ROLES maps a method-name pattern (fnmatch, on the bare method name such as "GetAsset" or
  on the full "/package.Service/Method") to the lowest role allowed. First match wins; a method
  no pattern matches needs admin, so a new RPC is closed until someone decides who may call it.
* Health and reflection stay open (probes and tooling carry no token).

| role     | may call (plus everything of the roles above it in this table)                      |
|----------|--------------------------------------------------------------------------------------|
| viewer   | Get*, List*, Search, MoreLikeThis, Autocomplete, Evaluate*, Preview, SuggestTags     |
| editor   | IngestFile, RegisterObject, Retag, MatchLook, Enhance, AssembleCut, CompareRendition, |
|          | UploadRendition, UpdateMetadata, Set* (project settings), ExportFeedback             |
| reviewer | review verdicts: CorrectValue, Decide*, Accept*, Reject*                              |
| admin    | everything, including methods not listed here                                         |

Authentication is off unless GrpcSettings.auth_tokens_file names a principals file: tests and
fixtures run without tokens, the local stack (`rushes up`) always writes one. The file holds only
SHA-256 digests of the tokens (tokens are 32 random bytes, so an unsalted digest cannot be
reversed by guessing), and presented tokens are compared with hmac.compare_digest. Tokens are
never logged: a refusal logs the method and the reason only.
"""

from __future__ import annotations

import enum
import fnmatch
import hashlib
import hmac
import inspect
import json
import logging
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

_log = logging.getLogger(__name__)

AUTHORIZATION_HEADER = "authorization"
BEARER = "bearer"
TOKEN_ENV = "RUSHES_TOKEN"  # noqa: S105 - the variable's name, not a secret
PRINCIPALS_FILE_VERSION = 1


class Role(enum.IntEnum):
    """Ordered: a higher role may call everything a lower one may."""

    VIEWER = 1
    EDITOR = 2
    REVIEWER = 3
    ADMIN = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            known = ", ".join(r.name.lower() for r in cls)
            raise ValueError(f"unknown role {name!r} (known: {known})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


# First match wins. Patterns without "/" match the bare method name.
METHOD_ROLES: tuple[tuple[str, Role], ...] = (
    # Review verdicts: what a reviewer signs with their name.
    ("CorrectValue", Role.REVIEWER),
    ("Decide*", Role.REVIEWER),
    ("Accept*", Role.REVIEWER),
    ("Reject*", Role.REVIEWER),
    # Work that changes assets, outputs or project settings.
    ("IngestFile", Role.EDITOR),
    ("RegisterObject", Role.EDITOR),
    ("Retag", Role.EDITOR),
    ("Regrade", Role.EDITOR),
    ("MatchLook", Role.EDITOR),
    ("Enhance", Role.EDITOR),
    ("AssembleCut", Role.EDITOR),
    ("CompareRendition", Role.EDITOR),  # publishes a QC verdict
    ("UploadRendition", Role.EDITOR),  # stores another tool's rendition next to the source
    ("UpdateMetadata", Role.EDITOR),  # titles, tags, rights: recorded with who and when
    ("ExportFeedback", Role.EDITOR),  # bulk export of reviewers' decisions
    ("Set*", Role.EDITOR),
    # Reading.
    ("Get*", Role.VIEWER),
    ("List*", Role.VIEWER),
    ("Search", Role.VIEWER),
    ("MoreLikeThis", Role.VIEWER),
    ("Autocomplete", Role.VIEWER),
    ("Evaluate*", Role.VIEWER),  # computes a report, stores nothing
    ("Preview", Role.VIEWER),
    ("SuggestTags", Role.VIEWER),  # suggestions only; applying them is UpdateMetadata
)

# Probes and tooling: never behind a token.
OPEN_SERVICES: frozenset[str] = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)


class AuthConfigError(ValueError):
    """The principals file is missing, unreadable or malformed (the service must not start)."""


@dataclass(frozen=True)
class Principal:
    """Who made a call: the name recorded in audit trails and the role that bounds what they may do."""

    name: str
    role: Role


def required_role(full_method: str, table: Iterable[tuple[str, Role]] = METHOD_ROLES) -> Role | None:
    """The lowest role that may call `full_method` ("/pkg.Service/Method"); None when it is open."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    if service in OPEN_SERVICES:
        return None
    for pattern, role in table:
        subject = full_method if "/" in pattern else method
        if fnmatch.fnmatchcase(subject, pattern):
            return role
    return Role.ADMIN


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """32 random bytes, URL-safe: long enough that its SHA-256 alone protects it at rest."""
    return secrets.token_urlsafe(32)


class TokenStore:
    """Principals keyed by the SHA-256 of their token; looks tokens up in constant time per entry."""

    def __init__(self, entries: Iterable[tuple[str, Principal]]) -> None:
        self._entries = [(bytes.fromhex(digest), principal) for digest, principal in entries]
        if not self._entries:
            raise AuthConfigError("the principals file lists no principal: nobody could call anything")

    @classmethod
    def from_tokens(cls, tokens: Mapping[str, tuple[str, Role]]) -> TokenStore:
        """{token: (name, role)} -> a store (for tests and for whoever generates the file)."""
        return cls((token_digest(t), Principal(name, role)) for t, (name, role) in tokens.items())

    @classmethod
    def load(cls, path: str | Path) -> TokenStore:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise AuthConfigError(f"principals file {path} does not exist") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise AuthConfigError(f"principals file {path} cannot be read: {exc}") from None
        try:
            if data.get("version") != PRINCIPALS_FILE_VERSION:
                raise ValueError(f"version {data.get('version')!r}, expected {PRINCIPALS_FILE_VERSION}")
            entries = []
            for index, item in enumerate(data["principals"]):
                digest = str(item["token_sha256"]).lower()
                if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                    raise ValueError(f"principals[{index}].token_sha256 is not a hex SHA-256 digest")
                name = str(item["name"]).strip()
                if not name:
                    raise ValueError(f"principals[{index}].name is empty")
                entries.append((digest, Principal(name, Role.parse(str(item["role"])))))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise AuthConfigError(f"principals file {path} is malformed: {exc}") from None
        return cls(entries)

    def authenticate(self, token: str) -> Principal | None:
        presented = hashlib.sha256(token.encode()).digest()
        found: Principal | None = None
        for digest, principal in self._entries:
            # No early exit: the time taken does not say which entry (if any) matched.
            if hmac.compare_digest(presented, digest) and found is None:
                found = principal
        return found


def write_principals_file(path: Path, principals: Iterable[tuple[str, Role, str]]) -> None:
    """Write {name, role, sha256(token)} for each (name, role, token), atomically, mode 0600."""
    document = {
        "version": PRINCIPALS_FILE_VERSION,
        "principals": [
            {"name": name, "role": role.label, "token_sha256": token_digest(token)}
            for name, role, token in principals
        ],
    }
    write_private_file(path, json.dumps(document, indent=2) + "\n")


def write_private_file(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable and writable by the owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


# Principal of each call in progress, keyed by the id of its ServicerContext (grpc.aio contexts
# take no attributes and no weak references); entries live exactly as long as the call.
_CALL_PRINCIPALS: dict[int, Principal] = {}


def current_principal(context: object) -> str:
    """The authenticated caller's name for the call `context` belongs to; "" when auth is off.

    Servicers record it (e.g. the library's audit trail `principal` column) instead of trusting a
    name sent in the request.
    """
    principal = _CALL_PRINCIPALS.get(id(context))
    return principal.name if principal is not None else ""


def current_role(context: object) -> Role | None:
    principal = _CALL_PRINCIPALS.get(id(context))
    return principal.role if principal is not None else None


def bearer_token(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The token of an `authorization: Bearer <token>` header; None when absent or malformed."""
    for key, value in metadata or ():
        if key.lower() != AUTHORIZATION_HEADER:
            continue
        text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        scheme, _, token = text.strip().partition(" ")
        if scheme.lower() == BEARER and token.strip():
            return token.strip()
        return None
    return None


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """UNAUTHENTICATED without a known token, PERMISSION_DENIED below the method's role."""

    def __init__(self, store: TokenStore, table: Iterable[tuple[str, Role]] = METHOD_ROLES) -> None:
        self.store = store
        self.table = tuple(table)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler  # unknown method: UNIMPLEMENTED, as without auth
        method = handler_call_details.method
        needed = required_role(method, self.table)
        if needed is None:
            return handler
        token = bearer_token(handler_call_details.invocation_metadata)
        if token is None:
            return _refusing(handler, grpc.StatusCode.UNAUTHENTICATED, "missing bearer token")
        principal = self.store.authenticate(token)
        if principal is None:
            _log.warning("refused %s: unknown token", method)
            return _refusing(handler, grpc.StatusCode.UNAUTHENTICATED, "invalid bearer token")
        if principal.role < needed:
            _log.warning(
                "refused %s to %s: role %s, needs %s",
                method,
                principal.name,
                principal.role.label,
                needed.label,
            )
            return _refusing(
                handler,
                grpc.StatusCode.PERMISSION_DENIED,
                f"{principal.name} has role {principal.role.label}; {method.rpartition('/')[2]} "
                f"needs {needed.label}",
            )
        return _with_principal(handler, principal)


def _handler_parts(handler: grpc.RpcMethodHandler) -> tuple[Callable[..., Any], Callable[..., Any]]:
    if handler.unary_unary:
        return handler.unary_unary, grpc.unary_unary_rpc_method_handler
    if handler.unary_stream:
        return handler.unary_stream, grpc.unary_stream_rpc_method_handler
    if handler.stream_unary:
        return handler.stream_unary, grpc.stream_unary_rpc_method_handler
    return handler.stream_stream, grpc.stream_stream_rpc_method_handler


def _rebuild(handler: grpc.RpcMethodHandler, behavior: Callable[..., Any]) -> grpc.RpcMethodHandler:
    _, factory = _handler_parts(handler)
    return factory(
        behavior,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _refusing(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, details: str) -> grpc.RpcMethodHandler:
    """A handler of the same kind as `handler` that aborts before the servicer runs."""
    behavior, _ = _handler_parts(handler)
    if inspect.isasyncgenfunction(behavior):

        async def refuse_stream(_request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            await context.abort(code, details)
            yield  # pragma: no cover - abort raises

        return _rebuild(handler, refuse_stream)

    async def refuse(_request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(code, details)

    return _rebuild(handler, refuse)


def _with_principal(handler: grpc.RpcMethodHandler, principal: Principal) -> grpc.RpcMethodHandler:
    """Run the servicer with `principal` registered for its context (see current_principal)."""
    behavior, _ = _handler_parts(handler)
    if inspect.isasyncgenfunction(behavior):

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            _CALL_PRINCIPALS[id(context)] = principal
            try:
                async for response in behavior(request, context):
                    yield response
            finally:
                _CALL_PRINCIPALS.pop(id(context), None)

        return _rebuild(handler, stream)

    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        _CALL_PRINCIPALS[id(context)] = principal
        try:
            result = behavior(request, context)
            if inspect.isawaitable(result):
                result = await result
            return result
        finally:
            _CALL_PRINCIPALS.pop(id(context), None)

    return _rebuild(handler, call)


class _BearerToken:
    """Adds `authorization: Bearer <token>` to the metadata of a call."""

    def __init__(self, token: str) -> None:
        if not token or any(c in token for c in "\r\n "):
            raise ValueError("a bearer token must be a non-empty string without spaces or newlines")
        self._header = (AUTHORIZATION_HEADER, f"Bearer {token}")

    def __repr__(self) -> str:  # never show the token in a traceback or a log line
        return f"{type(self).__name__}(<token>)"

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata.add(*self._header)
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=details.timeout,
            metadata=metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


# grpc.aio files each channel interceptor under the FIRST call kind it subclasses (an if/elif
# chain), so one object implementing all four kinds would only ever see unary-unary calls: one
# class per kind.
class BearerTokenInterceptor(_BearerToken, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(self._details(client_call_details), request)


class _UnaryStreamBearer(_BearerToken, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(self._details(client_call_details), request)


class _StreamUnaryBearer(_BearerToken, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


class _StreamStreamBearer(_BearerToken, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


def bearer_token_interceptors(token: str) -> list[grpc.aio.ClientInterceptor]:
    """Client interceptors sending `token` on calls of every kind (unary and streaming)."""
    return [
        cls(token)
        for cls in (BearerTokenInterceptor, _UnaryStreamBearer, _StreamUnaryBearer, _StreamStreamBearer)
    ]


def ambient_token() -> str | None:
    """The token this process sends when a caller gives none: $RUSHES_TOKEN (CLI, services)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    return token or None
