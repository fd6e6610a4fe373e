"""Cloud credentials (Settings -> Cloud access): list, add, change, delete, test. Secrets are write-only: the
responses say `secret_set` / `token_set` instead."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...models import CloudCredential

PUBLIC_FIELDS = ("id", "provider", "name", "host", "bucket", "region", "key", "azure_auth", "use_tls", "anonymous", "delivery")


def credential_body(row: CloudCredential) -> dict:
    body = {name: getattr(row, name) for name in PUBLIC_FIELDS}
    body.update(
        shared=row.owner_id is None, owner=row.owner.get_username() if row.owner_id else None,
        secret_set=bool(row.secret), token_set=bool(row.token),
        created=row.created.isoformat(), updated=row.updated.isoformat(),
    )
    return body


class CredentialListView(APIView):
    @extend_schema(operation_id="cloud_credentials_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """Your cloud credentials and the shared ones (staff: everyone's)."""
        rows = selectors.credentials_list(user=request.user)
        return Response({"results": [credential_body(row) for row in rows]})

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        """Add a credential (`shared: true` for everyone: staff only)."""
        row = services.credential_create(user=request.user, data=request.data)
        return Response(credential_body(row), status=status.HTTP_201_CREATED)


class CredentialDetailView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, credential_id):
        return Response(credential_body(selectors.credential_get(user=request.user, credential_id=credential_id)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def patch(self, request, credential_id):
        """Change fields; a secret left out is kept, "" clears it."""
        row = selectors.credential_get(user=request.user, credential_id=credential_id)
        return Response(credential_body(services.credential_update(user=request.user, credential=row, data=request.data)))

    @extend_schema(responses={204: None})
    def delete(self, request, credential_id):
        row = selectors.credential_get(user=request.user, credential_id=credential_id)
        services.credential_delete(user=request.user, credential=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CredentialTestView(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, credential_id):
        """List one object with the credential: {"ok", "message"} saying plainly what failed."""
        row = selectors.credential_get(user=request.user, credential_id=credential_id)
        return Response(services.credential_test(user=request.user, credential=row))
