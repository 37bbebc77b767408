"""Who may open a page: one decorator per role, sharing one rule.

Anonymous visitors are sent to the log-in page; a logged-in user of another
role gets a 403 that says whose pages these are.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort
from flask_babel import gettext
from flask_login import current_user

from certificate.auth.models import Role
from certificate.extensions import login_manager
from certificate.i18n import N_

F = TypeVar("F", bound=Callable[..., Any])


def role_required(role: Role, refusal: str) -> Callable[[F], F]:
    """A decorator letting in only logged-in users of ``role``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role != role.value:
                abort(403, gettext(refusal))
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


applicant_required = role_required(
    Role.APPLICANT, N_("Only applicant accounts can file and follow applications.")
)
# an officer always belongs to one country: create_user refuses an officer without one
officer_required = role_required(
    Role.AGENCY_OFFICER, N_("The portal is for the officers of national agencies.")
)
admin_required = role_required(Role.ADMIN, N_("These pages are for the service's administrators."))
id_checker_required = role_required(
    Role.ID_CHECKER, N_("This desk is for the ID checkers of registered organisations.")
)
employer_required = role_required(Role.EMPLOYER, N_("These pages are for registered employers."))
