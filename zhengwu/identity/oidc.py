"""The OpenID Connect provider's claims: who the staff member is and which units they work in."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


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

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        unit = user.primary_unit
        units: list[dict[str, Any]] = []
        from zhengwu.core.models import PostAssignment, UnitRole

        for a in PostAssignment.objects.filter(user=user).select_related("post__unit"):
            units.append({"code": a.post.unit.code, "name": a.post.unit.name, "post": a.post.name})
        roles: dict[str, list[str]] = {}
        for r in UnitRole.objects.filter(user=user).select_related("unit"):
            roles.setdefault(r.unit.code, []).append(r.role)
        for entry in units:
            entry["roles"] = sorted(roles.get(entry["code"], []))
        return {
            "name": user.name,
            "preferred_username": user.username,
            "unit_code": unit.code if unit else "",
            "unit_name": unit.name if unit else "",
            "units": units,
            "email": user.email or "",
        }
