"""Who may do what on the sandbox FHIR server: bearer tokens from the sandbox authorization
server, and SMART scopes applied to each resource.

`patient/` scopes reach only the launch patient's compartment (and resources outside any
patient compartment, such as Practitioner); `user/` scopes reach every patient. A granular
scope (``patient/Observation.rs?category=…``) reaches only resources matching its query.
The signed-in user may always read their own Practitioner when `fhirUser` was granted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugin.sandbox.auth.records import AccessToken, AuthorizationRecords
from plugin.sandbox.auth.scopes import Permission, ResourceScope, ScopeSet
from plugin.sandbox.fhir.outcome import FhirError
from plugin.sandbox.fhir.references import COMPARTMENT_ELEMENTS
from plugin.sandbox.fhir.search import matches, parse_search

__all__ = ["Access", "authenticate", "forbidden", "in_patient_compartment_type"]

_REALM = 'Bearer realm="sandbox-fhir"'


def in_patient_compartment_type(resource_type: str) -> bool:
    return resource_type == "Patient" or resource_type in COMPARTMENT_ELEMENTS


@dataclass(frozen=True, slots=True)
class Access:
    token: AccessToken
    scopes: ScopeSet
    fhir_base: str

    @property
    def patient(self) -> str | None:
        return self.token.subject.patient

    @property
    def client_id(self) -> str:
        return self.token.client_id

    def permits(
        self,
        permission: Permission,
        resource_type: str,
        patient: str | None,
        resource: dict[str, Any] | None,
    ) -> bool:
        """Whether some granted scope allows `permission` on this resource."""
        if (
            permission is Permission.READ
            and resource_type == "Practitioner"
            and resource is not None
            and "fhirUser" in self.scopes
            and resource.get("id") == self.token.subject.user
        ):
            return True
        return any(
            self._scope_reaches(scope, resource_type, patient, resource)
            for scope in self.scopes.permitting(permission, resource_type)
        )

    def _scope_reaches(
        self,
        scope: ResourceScope,
        resource_type: str,
        patient: str | None,
        resource: dict[str, Any] | None,
    ) -> bool:
        outside = self.patient is None or patient != self.patient
        if scope.level == "patient" and in_patient_compartment_type(resource_type) and outside:
            return False
        if scope.query and resource is not None:
            try:
                constraint = parse_search(resource_type, list(scope.query), self.fhir_base)
            except FhirError:
                return False  # a constraint the server cannot read grants nothing
            return matches(constraint, resource, self.fhir_base)
        return True

    def require(
        self,
        permission: Permission,
        resource_type: str,
        patient: str | None,
        resource: dict[str, Any] | None,
    ) -> None:
        if not self.permits(permission, resource_type, patient, resource):
            raise forbidden(permission, resource_type)

    def search_compartment(self, resource_type: str, named_patients: set[str]) -> str | None:
        """The patient a search must be limited to (None: no limit). Raises 403 when no
        scope allows searching the type, or the search names a patient out of reach."""
        scopes = self.scopes.permitting(Permission.SEARCH, resource_type)
        if not scopes:
            raise forbidden(Permission.SEARCH, resource_type)
        if any(s.level == "user" for s in scopes) or not in_patient_compartment_type(resource_type):
            return None
        if self.patient is None or named_patients - {self.patient}:
            raise FhirError.single(
                403,
                "forbidden",
                f"the token's patient/ scopes reach only the launch patient; this {resource_type} "
                "search asks for another patient",
            )
        return self.patient


def forbidden(permission: Permission, resource_type: str) -> FhirError:
    verb = {
        Permission.CREATE: "create",
        Permission.READ: "read",
        Permission.UPDATE: "update",
        Permission.DELETE: "delete",
        Permission.SEARCH: "search",
    }[permission]
    return FhirError.single(
        403,
        "forbidden",
        f"the access token's scopes do not allow {verb} ({permission.value}) on this "
        f"{resource_type}",
        resource_type,
    )


def authenticate(
    authorization: str | None, records: AuthorizationRecords, fhir_base: str
) -> Access:
    """The caller's access from its ``Authorization: Bearer`` header, or 401."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FhirError.single(
            401, "login", "an access token is required (Authorization: Bearer)",
            headers={"WWW-Authenticate": _REALM},
        )  # fmt: skip
    found = records.access_token(token.strip())
    if found is None:
        raise FhirError.single(
            401,
            "expired",
            "the access token is unknown, expired or revoked",
            headers={
                "WWW-Authenticate": f'{_REALM}, error="invalid_token", '
                'error_description="The access token is unknown, expired or revoked"'
            },
        )
    return Access(found, ScopeSet.parse(found.scope), fhir_base)
