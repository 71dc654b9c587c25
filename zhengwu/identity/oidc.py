"""The OpenID Connect provider's claims: who the staff member is and which units they work in.

`profile` gives name, preferred_username and the primary unit (unit_code, unit_name); `units` gives every
unit the person works in with their posts and roles there; `email` the office e-mail. Claims are
computed only when their scope was granted, and are listed in the discovery document.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


def _units(user: Any) -> list[dict[str, Any]]:
    """Every unit a staff member works in: its code and name, their posts there and their roles there."""
    from zhengwu.core.models import PostAssignment, UnitRole

    units: dict[int, dict[str, Any]] = {}
    for a in (
        PostAssignment.objects.filter(user=user).select_related("post__unit").order_by("-is_primary", "id")
    ):
        entry = units.setdefault(
            a.post.unit_id,
            {"code": a.post.unit.code, "name": a.post.unit.name, "posts": [], "roles": []},
        )
        entry["posts"].append(a.post.name)
    for r in UnitRole.objects.filter(user=user).select_related("unit").order_by("id"):
        entry = units.setdefault(
            r.unit_id, {"code": r.unit.code, "name": r.unit.name, "posts": [], "roles": []}
        )
        entry["roles"].append(r.role)
    for entry in units.values():
        entry["roles"] = sorted(set(entry["roles"]))
    return list(units.values())


class ZhengwuOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "name": "profile",
        "preferred_username": "profile",
        "unit_code": "profile",
        "unit_name": "profile",
        "units": "units",
        "email": "email",
    }

    def get_additional_claims(self) -> dict[str, Any]:  # type: ignore[override]
        # Request-agnostic form (no `request` parameter): the toolkit then lists these claims in the
        # discovery document and calls each one only when its scope was granted.
        return {
            "name": lambda r: r.user.name,
            "preferred_username": lambda r: r.user.username,
            "unit_code": lambda r: r.user.primary_unit.code if r.user.primary_unit_id else "",
            "unit_name": lambda r: r.user.primary_unit.name if r.user.primary_unit_id else "",
            "units": lambda r: _units(r.user),
            "email": lambda r: r.user.email or "",
        }
