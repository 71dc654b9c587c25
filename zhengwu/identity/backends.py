"""The password backend: staff and public accounts authenticate only through their own sign-in page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from zhengwu.core.models import AccountKind, User

STAFF_SCOPE = "staff"
PUBLIC_SCOPE = "public"


class AccountBackend(ModelBackend):
    """Django's model backend with a `scope`: the staff page never signs a public account in, and the
    public page never a staff account, even with the right password (the answer is the same as for a
    wrong password, so neither page tells which accounts exist on the other side)."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        scope: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        qs = User.objects.all()
        if scope == STAFF_SCOPE:
            qs = qs.filter(kind=AccountKind.STAFF)
        elif scope == PUBLIC_SCOPE:
            qs = qs.exclude(kind=AccountKind.STAFF)
        user = qs.filter(username=username).first()
        if user is None:
            # Spend the time of one hash anyway, so timing does not reveal which usernames exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
