"""Index of Atlassian's official OpenAPI documents, for contract-testing the simulator.

The simulated Atlassian organization must answer with bodies that validate
against the published OpenAPI documents kept in ``../shared/atlassian-api/specs``
(relative to the project root; see ``shared/atlassian-api/SOURCES.md``). This
module loads those documents, maps a request path to the spec's path template,
picks the response schema and validates a decoded JSON body against it.

Public API
----------
``SPEC_FILES``                  spec name -> file name.
``load_spec(name)``             parsed document, loaded once per process (do not mutate).
``server_base_path(name)``      path part of ``servers[0].url`` ("" when the server is a bare host).
``match_path(name, method, path)``  the spec's path template for a concrete path, or None.
``spec_for(simulator_path)``    (spec name, path relative to that spec's server base), or None.
``locate(method, simulator_path)``  ``SpecMatch(spec, template, relative_path)`` or None.
``response_schema(name, template, method, status)``  the response body schema, or None.
``validate(name, template, method, status, body)``  list of readable errors ([] = valid).
``covered_operations(name)``    sorted [(METHOD, template)] of read operations.
``KNOWN_SPEC_DEFECTS``          explicit, documented relaxations of wrong official schemas.
``UNCOVERED_PREFIXES``          host paths no published spec describes.

Validation uses ``openapi_schema_validator.OAS30ReadValidator`` (the response-side
flavour of ``OAS30Validator``: ``nullable`` and OAS types as usual, a missing
``readOnly`` property that is ``required`` *is* an error, ``writeOnly``
properties must not appear) and an explicit set of format checks (see
``CHECKED_FORMATS``; not the environment-dependent global jsonschema set).
``$ref``s (all local, ``#/components/...``) are resolved lazily through a
``referencing.Registry`` whose single resource is the whole document, so nothing
is pre-resolved and the 2.4 MB Jira document costs only its JSON parse.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.validators import Draft4Validator, extend
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource

__all__ = [
    "BASIC_OFFSET_DATE_TIME_SPECS",
    "CHECKED_FORMATS",
    "SPEC_FILES",
    "KNOWN_SPEC_DEFECTS",
    "UNCOVERED_PREFIXES",
    "SpecDefect",
    "SpecLookupError",
    "SpecMatch",
    "clear_caches",
    "covered_operations",
    "load_spec",
    "locate",
    "match_path",
    "response_schema",
    "server_base_path",
    "spec_for",
    "specs_dir",
    "validate",
]

# --------------------------------------------------------------------------- files

SPEC_FILES: dict[str, str] = {
    "jira-cloud-v3": "jira-cloud-platform-v3.openapi.json",
    "confluence-cloud-v1": "confluence-cloud-v1.openapi.json",
    "confluence-cloud-v2": "confluence-cloud-v2.openapi.json",
    # The August 2026 snapshot (current published document).
    "admin-organization": "admin-organization.openapi.reserialized.json",
    # The July 2026 snapshot, still listing endpoints Atlassian dropped from the
    # document later (v1 users/groups search, ...). Loadable, never routed to.
    "admin-organization-2026-07-22": "admin-organization.openapi.reserialized.2026-07-22.json",
    "admin-user-management": "admin-user-management.openapi.json",
    "jira-dc": "jira-dc-10.3.openapi.json",
    "confluence-dc": "confluence-dc-10.0.3.openapi.json",
}

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecLookupError(KeyError):
    """The spec does not declare the requested path template / method / status."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def specs_dir() -> Path:
    """$ATLASSIAN_API_SPECS, else ``<project root>/../shared/atlassian-api/specs`` (tests/shared_paths.py)."""
    from tests.shared_paths import SPECS

    return SPECS


@functools.cache
def load_spec(name: str) -> dict[str, Any]:
    """Parsed OpenAPI document ``name`` (see ``SPEC_FILES``); cached per process.

    The returned dict is shared: treat it as read-only.
    """
    try:
        filename = SPEC_FILES[name]
    except KeyError:
        raise SpecLookupError(f"unknown spec {name!r}; known: {sorted(SPEC_FILES)}") from None
    path = specs_dir() / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"spec {name!r} not found at {path}: set ATLASSIAN_API_SPECS (scripts/fetch_atlassian_specs.py fetches them)"
        )
    with path.open("rb") as fh:
        return json.load(fh)


@functools.cache
def server_base_path(name: str) -> str:
    """Path part of the spec's ``servers[0].url`` without a trailing slash.

    ``https://{your-domain}/wiki/api/v2`` -> ``/wiki/api/v2``;
    ``//your-domain.atlassian.net`` -> ``""``.
    """
    servers = load_spec(name).get("servers") or [{"url": "/"}]
    url = servers[0].get("url", "/")
    return urlsplit(url).path.rstrip("/")


# --------------------------------------------------------------------------- matcher


def _is_param(segment: str) -> bool:
    return len(segment) > 2 and segment[0] == "{" and segment[-1] == "}"


@functools.cache
def _template_index(name: str) -> dict[int, list[tuple[tuple[str, ...], tuple[bool, ...], str, frozenset[str]]]]:
    """segment count -> [(segments, literal mask, template, methods)]."""
    index: dict[int, list] = {}
    for template, item in load_spec(name).get("paths", {}).items():
        segments = tuple(template.rstrip("/").split("/")) if template != "/" else ("",)
        mask = tuple(not _is_param(s) for s in segments)
        methods = frozenset(m for m in item if m in HTTP_METHODS)
        index.setdefault(len(segments), []).append((segments, mask, template, methods))
    return index


def _clean_path(path: str) -> str:
    if "://" in path:
        path = urlsplit(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    if len(path) > 1:
        path = path.rstrip("/")
    return path or "/"


def match_path(name: str, method: str | None, path: str) -> str | None:
    """The path template of spec ``name`` that ``path`` instantiates, or None.

    ``path`` is relative to the spec's server base (see ``server_base_path``);
    a query string is ignored. A ``{param}`` segment matches exactly one
    non-empty segment. With ``method`` given, only templates declaring that
    method count. When several templates match, the one with the most literal
    segments wins (ties: the one whose literals come first).
    """
    concrete = tuple(_clean_path(path).split("/"))
    wanted = method.lower() if method else None
    best: tuple[tuple[int, tuple[bool, ...]], str] | None = None
    for segments, mask, template, methods in _template_index(name).get(len(concrete), ()):
        if wanted is not None and wanted not in methods:
            continue
        if all((s == c) if lit else bool(c) for s, lit, c in zip(segments, mask, concrete, strict=True)):
            rank = (sum(mask), mask)
            if best is None or rank > best[0]:
                best = (rank, template)
    return best[1] if best else None


# --------------------------------------------------------------------------- routing

#: Host paths (as seen on the real host, after any context path such as
#: ``/wiki`` or ``/confluence``) that no published OpenAPI document describes.
UNCOVERED_PREFIXES: tuple[str, ...] = (
    "/rest/plugins/",  # Universal Plugin Manager: no OpenAPI document exists
    "/_edge/",  # tenant_info
    "/rest/auditing/",  # DC advanced auditing
    "/admin/api-access/",  # Admin API-access API: spec not obtained
    "/admin/control/",  # Admin Control API: spec not obtained
)

_CONTEXT_PATHS = ("/wiki", "/confluence")

# Routes: real host path prefix -> spec name (first match wins).
_SITE_ROUTES: tuple[tuple[str, str], ...] = (
    ("/wiki/api/v2/", "confluence-cloud-v2"),
    ("/wiki/", "confluence-cloud-v1"),
    ("/rest/", "jira-cloud-v3"),
)
_DC_ROUTES: tuple[tuple[str, str], ...] = (
    ("/confluence/", "confluence-dc"),
    ("/rest/", "jira-dc"),
)
# Rewrites of the spec-relative path: Jira Cloud v2 is validated against v3.
_PATH_ALIASES: dict[str, tuple[tuple[str, str], ...]] = {
    "jira-cloud-v3": (("/rest/api/2/", "/rest/api/3/"),),
}


def _under(path: str, prefix: str) -> bool:
    """``path`` is ``prefix`` (a ``/``-terminated prefix) or below it."""
    return path.startswith(prefix) or path == prefix.rstrip("/")


def _uncovered(real_path: str) -> bool:
    candidates = [real_path]
    for ctx in _CONTEXT_PATHS:
        if _under(real_path, ctx + "/"):
            candidates.append(real_path[len(ctx):] or "/")
    return any(_under(p, prefix) for p in candidates for prefix in UNCOVERED_PREFIXES)


def _relative(name: str, real_path: str) -> tuple[str, str] | None:
    base = server_base_path(name)
    if base:
        if not _under(real_path, base + "/"):
            return None
        rel = real_path[len(base):] or "/"
    else:
        rel = real_path
    for old, new in _PATH_ALIASES.get(name, ()):
        if _under(rel, old):
            rel = new.rstrip("/") + rel[len(old.rstrip("/")):]
    return name, rel


def _route(real_path: str, routes: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    if _uncovered(real_path):
        return None
    for prefix, name in routes:
        if _under(real_path, prefix):
            return _relative(name, real_path)
    return None


def _tail(segments: list[str], n: int) -> str:
    return "/" + "/".join(segments[n:]) if len(segments) > n else "/"


def spec_for(simulator_path: str) -> tuple[str, str] | None:
    """Map a path as the simulator serves it to ``(spec name, spec-relative path)``.

    Mounts:
      ``/site/{site}/...``     Cloud site: ``/rest/...`` -> jira-cloud-v3
                               (``/rest/api/2/`` rewritten to ``/rest/api/3/``),
                               ``/wiki/api/v2/...`` -> confluence-cloud-v2,
                               ``/wiki/...`` -> confluence-cloud-v1.
      ``/gateway/...``         api.atlassian.com: ``/admin/...`` -> admin-organization,
                               ``/users/{id}/manage...`` -> admin-user-management,
                               ``/ex/jira/{cloudId}/...`` and
                               ``/ex/confluence/{cloudId}/...`` -> as on the site.
      ``/dc/{instance}/...``   Data Center: ``/confluence/...`` -> confluence-dc,
                               ``/rest/...`` -> jira-dc.
    The relative path is the real host path minus the spec's server base path.
    None for paths under ``UNCOVERED_PREFIXES`` and anything unrecognised. The
    spec may still lack a template for the path: use ``match_path``/``locate``.
    """
    path = _clean_path(simulator_path)
    seg = path.split("/")[1:]  # no leading ""
    if len(seg) >= 2 and seg[0] == "site" and seg[1]:
        return _route(_tail(seg, 2), _SITE_ROUTES)
    if len(seg) >= 2 and seg[0] == "dc" and seg[1]:
        return _route(_tail(seg, 2), _DC_ROUTES)
    if seg and seg[0] == "gateway":
        real = _tail(seg, 1)
        rest = seg[1:]
        if len(rest) >= 3 and rest[0] == "ex" and rest[2]:
            product = rest[1]
            inner = _tail(rest, 3)
            if product == "jira":
                return _route(inner, [r for r in _SITE_ROUTES if r[1].startswith("jira")])
            if product == "confluence":
                return _route(inner, [r for r in _SITE_ROUTES if r[1].startswith("confluence")])
            return None
        if _uncovered(real):
            return None
        if _under(real, "/admin/"):
            return _relative("admin-organization", real)
        if len(rest) >= 3 and rest[0] == "users" and rest[1] and rest[2] == "manage":
            return _relative("admin-user-management", real)
    return None


class SpecMatch(NamedTuple):
    spec: str
    template: str
    relative_path: str


def locate(method: str, simulator_path: str) -> SpecMatch | None:
    """``spec_for`` + ``match_path``: the spec operation a simulator request hits, or None."""
    routed = spec_for(simulator_path)
    if routed is None:
        return None
    name, rel = routed
    template = match_path(name, method, rel)
    return SpecMatch(name, template, rel) if template else None


# --------------------------------------------------------------------------- responses


def _escape(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _resolve_pointer(doc: Any, pointer: str) -> Any:
    node = doc
    if pointer in ("", "/"):
        return doc
    for raw in pointer.lstrip("#")[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _operation(name: str, template: str, method: str) -> dict[str, Any]:
    doc = load_spec(name)
    item = doc.get("paths", {}).get(template)
    if item is None:
        raise SpecLookupError(f"{name}: no path template {template!r}")
    op = item.get(method.lower())
    if not isinstance(op, dict):
        declared = sorted(m.upper() for m in item if m in HTTP_METHODS)
        raise SpecLookupError(f"{name}: {template} declares no {method.upper()} (declares {declared})")
    return op


def _pick_media_type(content: dict[str, Any]) -> str | None:
    if "application/json" in content:
        return "application/json"
    for media in content:
        if media.split(";", 1)[0].strip().lower() == "application/json":
            return media
    if "*/*" in content:
        return "*/*"
    for media in content:
        if "json" in media.lower():
            return media
    return None


@functools.cache
def _response_location(name: str, template: str, method: str, status: str) -> tuple[str, str | None]:
    """(status key used, JSON pointer of the body schema or None when no body is declared)."""
    op = _operation(name, template, method)
    responses = op.get("responses") or {}
    status = str(status)
    candidates = [status]
    if status[:1].isdigit():
        candidates += [status[0] + "XX", status[0] + "xx"]
    candidates.append("default")
    key = next((c for c in candidates if c in responses), None)
    if key is None:
        raise SpecLookupError(
            f"{name}: {method.upper()} {template} declares no response {status} "
            f"(declares {sorted(responses)})"
        )
    pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{_escape(key)}"
    response = responses[key]
    seen = set()
    while isinstance(response, dict) and "$ref" in response:  # components/responses
        ref = response["$ref"]
        if ref in seen or not ref.startswith("#/"):
            raise SpecLookupError(f"{name}: unresolvable response reference {ref!r}")
        seen.add(ref)
        pointer = ref[1:]
        response = _resolve_pointer(load_spec(name), pointer)
    content = (response or {}).get("content") or {}
    media = _pick_media_type(content)
    if media is None or not isinstance(content[media], dict) or "schema" not in content[media]:
        return key, None
    return key, f"{pointer}/content/{_escape(media)}/schema"


def response_schema(name: str, template: str, method: str, status: int | str) -> dict[str, Any] | None:
    """The JSON schema of the response body, or None when the spec declares no body.

    Picks ``application/json`` (then any ``application/json;...``, ``*/*``, or
    the first JSON-ish media type); status falls back to ``2XX`` then
    ``default``. The schema is returned as written in the document: its
    ``$ref``s are relative to the document. Raises ``SpecLookupError`` when the
    template, method or status is not declared at all.
    """
    _, pointer = _response_location(name, template, method, str(status))
    return None if pointer is None else _resolve_pointer(load_spec(name), pointer)


# --------------------------------------------------------------------------- known defects


@dataclass(frozen=True)
class SpecDefect:
    """A documented deviation of an official schema from what the real API returns.

    ``relax`` lists JSON pointers into the spec document (``/components/...``
    or ``/paths/...``; a leading ``#`` is allowed). Each pointer names one
    schema keyword to relax, only for the operation this defect is keyed by:

    * ``.../required/<property>``  -> that property is no longer required;
    * ``.../nullable``             -> ``nullable: true`` is set on that schema;
    * anything else, e.g. ``.../additionalProperties``, ``.../enum``,
      ``.../format``, ``.../type`` -> that keyword is removed.

    A pointer that does not resolve raises ``ValueError`` (stale entry).
    """

    reason: str
    relax: tuple[str, ...]

    def __post_init__(self) -> None:  # accept a list; keep the instance hashable
        object.__setattr__(self, "relax", tuple(self.relax))


#: (spec name, path template, METHOD) -> SpecDefect. Empty on purpose: add an
#: entry only with evidence (a real response, an Atlassian doc or issue) in
#: ``reason``; never loosen a schema silently.
KNOWN_SPEC_DEFECTS: dict[tuple[str, str, str], SpecDefect] = {
    ("admin-organization", "/v2/orgs/{orgId}/directories/{directoryId}/groups/{groupId}", "GET"): SpecDefect(
        reason=(
            "MultiDirectoryGroupDetails.data.counts is written {$ref: GroupCounts, type: 'GroupCounts'}: "
            "'GroupCounts' is not a JSON Schema type (jsonschema raises UnknownType) and OpenAPI 3.0 ignores "
            "siblings of $ref anyway; the $ref (an object {resources, users}) is what the API returns, as in "
            "the list/search endpoints' MultiDirectoryGroup.counts. Relaxed by the admin routes' owner."
        ),
        relax=("/components/schemas/MultiDirectoryGroupDetails/properties/data/properties/counts/type",),
    ),
}


def _patched(doc: dict[str, Any], relax: tuple[str, ...]) -> dict[str, Any]:
    """Copy-on-write copy of ``doc`` with the relaxations applied."""
    root = dict(doc)
    for raw_pointer in relax:
        pointer = raw_pointer.lstrip("#")
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
        if not tokens:
            raise ValueError(f"empty relax pointer {raw_pointer!r}")
        try:
            node: Any = root
            for token in tokens[:-1]:
                if isinstance(node, list):
                    idx = int(token)
                    node[idx] = _copy(node[idx])
                    node = node[idx]
                else:
                    node[token] = _copy(node[token])
                    node = node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ValueError(f"relax pointer {raw_pointer!r} does not resolve in the spec") from None
        last = tokens[-1]
        if len(tokens) >= 2 and tokens[-2] == "required" and isinstance(node, list):
            if last not in node:
                raise ValueError(f"relax pointer {raw_pointer!r}: {last!r} is not required there")
            node.remove(last)
        elif last == "nullable" and isinstance(node, dict):
            node["nullable"] = True
        elif isinstance(node, dict) and last in node:
            del node[last]
        else:
            raise ValueError(f"relax pointer {raw_pointer!r} does not resolve in the spec")
    return root


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    raise TypeError(value)


# --------------------------------------------------------------------------- validator


def _discriminator_target(validator: Any, subschemas: list, instance: Any, schema: dict) -> Any:
    """For oneOf/anyOf with a discriminator: (index or None, ref) | error string | None (no dispatch)."""
    disc = schema.get("discriminator")
    if not isinstance(disc, dict) or not validator.is_type(instance, "object"):
        return None
    prop = disc.get("propertyName")
    if prop not in instance:
        return f"missing discriminator property {prop!r}"
    value = instance[prop]
    key = ("true" if value else "false") if isinstance(value, bool) else str(value)
    options: dict[str, str] = {}
    for sub in subschemas:  # implicit mapping: the referenced schema's name
        if isinstance(sub, dict) and isinstance(sub.get("$ref"), str):
            options[sub["$ref"].rsplit("/", 1)[-1]] = sub["$ref"]
    options.update(disc.get("mapping") or {})
    ref = options.get(key)
    if ref is None:
        return f"discriminator {prop}={value!r} is not one of {sorted(options)}"
    for i, sub in enumerate(subschemas):
        if isinstance(sub, dict) and sub.get("$ref") == ref:
            return (i, ref)
    return (None, ref)


def _with_discriminator(plain):
    def keyword(validator, subschemas, instance, schema):
        target = _discriminator_target(validator, subschemas, instance, schema)
        if target is None:
            yield from plain(validator, subschemas, instance, schema)
        elif isinstance(target, str):
            yield ValidationError(target)
        else:
            index, ref = target
            if index is None:
                yield from validator.descend(instance, {"$ref": ref})
            else:
                yield from validator.descend(instance, subschemas[index], schema_path=index)

    return keyword


# OAS30ReadValidator with a discriminator that (a) maps boolean/numeric values
# ("true" -> schema), (b) accepts falsy values, (c) uses the implicit mapping of
# the referenced schema names; allOf always validates every member (upstream
# dispatches allOf on the discriminator too, skipping the other members).
_ResponseValidator = extend(
    OAS30ReadValidator,
    validators={
        "oneOf": _with_discriminator(Draft4Validator.VALIDATORS["oneOf"]),
        "anyOf": _with_discriminator(Draft4Validator.VALIDATORS["anyOf"]),
        "allOf": Draft4Validator.VALIDATORS["allOf"],
    },
)

# Formats: an explicit list, so results do not depend on which optional
# jsonschema format libraries happen to be installed. Not checked: uri/url
# (Atlassian returns relative and templated links), email, binary, password.
CHECKED_FORMATS = ("int32", "int64", "float", "double", "byte", "date", "date-time", "uuid")

#: Specs whose product emits ISO-8601 date-times with a basic ``±hhmm`` offset
#: (``2021-01-17T12:34:00.000+0000``), which RFC 3339 (``format: date-time``)
#: does not allow. Evidence: it is the form of the specs' own examples (Jira
#: Cloud: every date-time example; Jira DC 10.3: 21 of 32; Confluence DC:
#: ``+1100``) and of real Jira responses. Other specs get strict RFC 3339.
BASIC_OFFSET_DATE_TIME_SPECS = frozenset({"jira-cloud-v3", "jira-dc", "confluence-dc"})

_DT = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?"
_RFC3339 = re.compile(_DT + r"(?:[Zz]|[+-]\d{2}:\d{2})")
_ISO_BASIC_OFFSET = re.compile(_DT + r"(?:[Zz]|[+-]\d{2}:?\d{2})")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _date_time_check(pattern: re.Pattern[str]):
    def check(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not pattern.fullmatch(value):
            return False
        try:
            datetime.fromisoformat(value.upper())
        except ValueError:
            return False
        return True

    return check


def _date_check(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _uuid_check(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.fullmatch(value))


@functools.cache
def _format_checker(name: str) -> FormatChecker:
    checker = FormatChecker(formats=())
    for fmt in ("int32", "int64", "float", "double", "byte"):
        func, raises = oas30_format_checker.checkers[fmt]
        checker.checks(fmt, raises)(func)
    pattern = _ISO_BASIC_OFFSET if name in BASIC_OFFSET_DATE_TIME_SPECS else _RFC3339
    checker.checks("date-time")(_date_time_check(pattern))
    checker.checks("date")(_date_check)
    checker.checks("uuid")(_uuid_check)
    assert set(checker.checkers) == set(CHECKED_FORMATS)
    return checker


_URN = "urn:atlassian-spec:"


@functools.cache
def _registry(name: str, defect: SpecDefect | None) -> tuple[Registry, dict[str, Any]]:
    doc = load_spec(name)
    if defect is not None:
        doc = _patched(doc, defect.relax)
    # Opaque resource: pointers are walked as-is, no JSON-Schema "id" rebasing.
    return Registry().with_resource(_URN + name, Resource.opaque(doc)), doc


@functools.cache
def _validator(name: str, pointer: str, defect: SpecDefect | None) -> tuple[Any, dict[str, Any], str]:
    registry, doc = _registry(name, defect)
    uri = next(iter(registry))  # the single resource
    wrapper = {"$ref": f"{uri}#{pointer}"}
    validator = _ResponseValidator(wrapper, registry=registry, format_checker=_format_checker(name))
    return validator, doc, uri


def _json_path(path: Iterable[Any]) -> str:
    out = "$"
    for token in path:
        if isinstance(token, int):
            out += f"[{token}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(token)):
            out += f".{token}"
        else:
            out += f"[{json.dumps(token)}]"
    return out


def _schema_pointer(doc: Any, wrapper_ref: str, schema_path: Iterable[Any]) -> str | None:
    """Document pointer of the failing keyword (follows $refs, which jsonschema elides)."""
    try:
        pointer = wrapper_ref.split("#", 1)[1]
        node = _resolve_pointer(doc, pointer)
        for token in schema_path:
            hops = 0
            while isinstance(node, dict) and "$ref" in node and token not in node and hops < 50:
                pointer = node["$ref"].split("#", 1)[1]
                node = _resolve_pointer(doc, pointer)
                hops += 1
            node = node[token]
            pointer += "/" + _escape(token)
        return "#" + pointer
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(error: ValidationError) -> str:
    kind = error.validator
    if kind == "type" and error.instance is None:
        return f"null is not allowed (expected {error.validator_value!r}, schema not nullable)"
    if kind == "type":
        return f"{_short(error.instance)} is not of type {error.validator_value!r}"
    if kind == "writeOnly":
        return "property is writeOnly in the spec, so it must not appear in a response"
    if kind == "format":
        return f"{_short(error.instance)} is not a valid {error.validator_value!r}"
    if kind == "enum":
        return f"{_short(error.instance)} is not one of {_short(error.validator_value, 200)}"
    if kind in ("oneOf", "anyOf") and error.context:
        if kind == "oneOf" and "is valid under each of" in error.message:
            return "matches more than one oneOf alternative"
        closest = best_match(error.context)
        return (
            f"matches none of the {kind} alternatives; closest: "
            f"{_json_path(closest.absolute_path)}: {_message(closest)}"
        )
    message = error.message
    return message if len(message) <= 300 else message[:299] + "…"


def _format(error: ValidationError, doc: Any, wrapper_ref: str) -> str:
    where = _schema_pointer(doc, wrapper_ref, error.absolute_schema_path)
    suffix = f"  [schema {where}]" if where else ""
    return f"{_json_path(error.absolute_path)}: {_message(error)}{suffix}"


MAX_ERRORS = 20


def validate(name: str, template: str, method: str, status: int | str, body: Any) -> list[str]:
    """Errors of ``body`` (decoded JSON) against the declared response; [] when valid.

    Each error reads ``<JSONPath in body>: <message>  [schema <pointer>]``; the
    pointer is the failing keyword's location in the document, ready to be used
    in a ``KNOWN_SPEC_DEFECTS`` entry. At most ``MAX_ERRORS`` (+1 summary line).
    An undeclared template/method/status is reported as an error. When the spec
    declares no body schema for the status there is nothing to check: [].
    """
    try:
        _, pointer = _response_location(name, template, method, str(status))
    except SpecLookupError as exc:
        return [str(exc)]
    if pointer is None:
        return []
    defect = KNOWN_SPEC_DEFECTS.get((name, template, method.upper()))
    validator, doc, _ = _validator(name, pointer, defect)
    wrapper_ref = validator.schema["$ref"]
    errors: list[str] = []
    seen: set[str] = set()
    extra = 0
    for error in validator.iter_errors(body):
        text = _format(error, doc, wrapper_ref)
        if text in seen:  # "None for not nullable" + "None is not of type" collapse
            continue
        seen.add(text)
        if len(errors) < MAX_ERRORS:
            errors.append(text)
        else:
            extra += 1
            if extra > 1000:
                break
    if extra:
        errors.append(f"… and {extra}{'+' if extra > 1000 else ''} more errors")
    return errors


def clear_caches() -> None:
    """Forget loaded documents, indexes and validators (for timing measurements)."""
    for fn in (
        load_spec,
        server_base_path,
        _template_index,
        _response_location,
        _registry,
        _validator,
        _format_checker,
        _covered,
    ):
        fn.cache_clear()


# --------------------------------------------------------------------------- coverage

_READ_VERBS = {"get", "read", "list", "search", "query", "count", "find", "fetch", "lookup", "retrieve"}
_READ_WORDS = {"search", "count", "lookup"}
_BULK_READ_WORDS = {"fetch", "get", "read", "lookup"}


def _words(text: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def _is_read_post(op: dict[str, Any]) -> bool:
    op_words = _words(op.get("operationId", ""))
    summary_words = _words(op.get("summary", ""))
    words = set(op_words) | set(summary_words)
    if op_words[:1] and op_words[0] in _READ_VERBS:
        return True
    if summary_words[:1] and summary_words[0] in _READ_VERBS:
        return True
    if words & _READ_WORDS:
        return True
    return "bulk" in words and bool(words & _BULK_READ_WORDS)


@functools.cache
def _covered(name: str) -> tuple[tuple[str, str], ...]:
    out = []
    for template, item in load_spec(name).get("paths", {}).items():
        if isinstance(item.get("get"), dict):
            out.append(("GET", template))
        if isinstance(item.get("post"), dict) and _is_read_post(item["post"]):
            out.append(("POST", template))
    return tuple(sorted(out, key=lambda mt: (mt[1], mt[0])))


def covered_operations(name: str) -> list[tuple[str, str]]:
    """Read operations of spec ``name`` as sorted ``(METHOD, template)`` pairs.

    Every GET, plus the POSTs that are reads by their operationId/summary
    (search, count, lookup, bulk fetch/get, or a get/read/list/query/... verb
    first: e.g. Jira ``POST /rest/api/3/search/jql``, ``/issue/bulkfetch``,
    Admin ``POST .../users/search``).
    """
    return list(_covered(name))

