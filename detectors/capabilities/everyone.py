"""Whom a call gives access to, when it is everybody (``exposure.open_to_everyone``): an access-setting
argument set to a name for everyone (``principal: "*"``, ``type: anyone`` beside a role), a link made open
to anyone (SharePoint's ``scope: anonymous``, Box's ``shared_link.access: open``, a recording shared
``publicly``; not one that asks for a password), or a click on a control that says so ("Anyone with the
link")."""

from __future__ import annotations

import re
from typing import Any

from detectors.capabilities.classify import click_labels

# argument names that say who gets access, or how far an item is shared
ACCESS_KEY = re.compile(
    r"(?i)principal|grantee|audience|visibility|access|sharing|share|shared_?with|permission|members?$|"
    r"privacy|allow|^(canned_?)?acl$|"  # (an object's canned ACL: ``acl: public-read``)
    r"^security_?(level|designation)$"  # (a sealed record's level set to ``PUBLIC``)
)
EVERYONE = re.compile(
    r"^(\*|everyone|anyone|public|publicly|all_?users|world|anyone_?with_?(the_?)?link|"
    r"public[-_ ]?read(_?write)?|all_?authenticated_?users|anonymous)$",
    re.I,
)
# a switch that publishes the item to the whole web when set (on), or when its "private" is set off
PUBLIC_FLAG = re.compile(
    r"(?i)^(share_?to_?web|publish(ed)?_?to_?web|web_?publish(ed)?|(is_?|make_?)?public(ly_?(accessible|"
    r"visible|available))?|allow_?search_?engine_?indexing|search_?engine_?indexing|anonymous_?access|"
    r"public_?(access|link|sharing))$"
)
BARE_PUBLIC = re.compile(r"(?i)^(is_?)?public$")
PRIVATE_FLAG = re.compile(r"(?i)^(is_?)?private$")
# a link's own reach (its ``scope`` or ``access``), in a call or a setting about a link: open to anyone
LINK_REACH = re.compile(r"(?i)^(link_?)?(scope|access|audience|type)$")
OPEN_LINK = re.compile(r"(?i)^(anonymous|open|anyone|public|publicly|everyone)$")
PUBLIC_CONTROL = re.compile(
    r"^\s*(make\b.{0,30}\bpublic|public(ly)?( link| access)?|share (publicly|with everyone)|anyone with "
    r"(the )?link|publish to (the )?web)\s*$",
    re.I,
)


def everyone_in(arguments: dict[str, Any], depth: int = 0, link: bool = False) -> str | None:
    """The first access-setting argument whose value is everybody (``principal='*'``), looking into nested
    settings and policy statements; a statement held by a ``Condition`` is not everybody. ``link``: the
    arguments are a link's (the call makes a sharing link), where an open ``scope`` or ``access`` is
    anyone's."""
    if "Condition" in arguments or "condition" in arguments:
        return None
    for key, value in arguments.items():
        values = value if isinstance(value, list) else [value]
        inner = link or "link" in str(key).lower()
        for item in values:
            if isinstance(item, dict) and depth < 4 and (found := everyone_in(item, depth + 1, inner)):
                return f"{key}.{found}"
        # (a bare ``public`` only of the item itself: a ticket comment's ``public`` is a reply to its reader)
        flag = PUBLIC_FLAG.match(str(key)) and (depth == 0 or not BARE_PUBLIC.match(str(key)))
        if flag and any(v is True for v in values):
            return f"{key}=true"  # (``share_to_web: true``, ``allow_search_engine_indexing: true``)
        if depth == 0 and any(v is False for v in values) and PRIVATE_FLAG.match(str(key)):
            return f"{key}=false"  # (``private: false`` on a gist or a repository)
        strings = [v.strip() for v in values if isinstance(v, str)]
        # a sharing permission says who in ``type`` beside its ``role`` (``{"type": "anyone", "role": …}``)
        access = ACCESS_KEY.search(str(key)) or (str(key).lower() == "type" and "role" in arguments)
        open_link = link and LINK_REACH.match(str(key)) and not _locked(arguments)
        if (access and any(EVERYONE.match(v) for v in strings)) or (
            open_link and any(OPEN_LINK.match(v) for v in strings)
        ):
            return f"{key}={values[0]}" if len(values) == 1 else f"{key} includes everybody"
    return None


# a grant to everyone in the organisation: a Drive permission of ``type: domain``, a SharePoint or Box link
# of scope ``organization`` / ``company``, an audience of all employees
WHOLE_ORGANISATION = re.compile(
    r"(?i)^(domain|organi[sz]ation|company|tenant|org|everyone_?in_?(the_?)?(org|organi[sz]ation|company|"
    r"domain)|all_?(employees|staff|members|users_?in_?domain)|people_?in_?(your_?)?(org|organi[sz]ation|company))$"
)


def organisation_in(arguments: dict[str, Any], depth: int = 0, link: bool = False) -> str | None:
    """The first access-setting argument that gives the whole organisation access (``type: domain``
    beside a role, a link's ``scope: organization``), looking into nested settings; or None."""
    for key, value in arguments.items():
        inner = link or "link" in str(key).lower()
        if isinstance(value, dict) and depth < 4 and (found := organisation_in(value, depth + 1, inner)):
            return f"{key}.{found}"
        if not isinstance(value, str) or not WHOLE_ORGANISATION.match(value.strip()):
            continue
        grant = str(key).lower() == "type" and "role" in arguments
        if grant or (inner and LINK_REACH.match(str(key))) or ACCESS_KEY.search(str(key)):
            return f"{key}={value}"
    return None


def _locked(arguments: dict[str, Any]) -> bool:
    """A link that asks for a password (``"password": "…"`` beside its access): open only to whom it is
    given."""
    return any(
        str(k).lower() in ("password", "passcode", "passphrase") and bool(v) for k, v in arguments.items()
    )


def public_control(arguments: dict[str, Any]) -> str | None:
    """A click on a control that makes the item public ("Make available to public", "Anyone with the
    link"): a computer-use agent's share, read from the control's label."""
    if not isinstance(arguments.get("selector") or arguments.get("text") or arguments.get("label"), str):
        return None
    label = next((x for x in click_labels(arguments) if PUBLIC_CONTROL.match(x)), None)
    return None if label is None else f"clicked {label.strip()[:40]!r}"
