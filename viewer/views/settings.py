"""Settings → Cloud access: the credential rows a user may use to read frames from object storage (their own
and the shared ones), with add, edit, delete and a Test that lists one object. The rules and the secrets'
encryption live in frames.services.credentials; secrets are never sent back to the browser."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from frames import selectors, services
from frames.exceptions import NotFound
from viewer.credential_forms import CloudCredentialForm

from .datasets import form_page, posted

CORS_RULES = {
    "s3": """[{"AllowedOrigins": ["https://hyperdata.example.com"], "AllowedMethods": ["GET", "HEAD"],
  "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "Content-Length", "Content-Range"], "MaxAgeSeconds": 3600}]""",
    "gcs": """[{"origin": ["https://hyperdata.example.com"], "method": ["GET", "HEAD"],
  "responseHeader": ["Content-Type", "Content-Range", "ETag"], "maxAgeSeconds": 3600}]""",
    "azure": """<Cors><CorsRule><AllowedOrigins>https://hyperdata.example.com</AllowedOrigins>
  <AllowedMethods>GET,HEAD</AllowedMethods><AllowedHeaders>*</AllowedHeaders>
  <ExposedHeaders>ETag,Content-Length,Content-Range</ExposedHeaders><MaxAgeInSeconds>3600</MaxAgeInSeconds>
</CorsRule></Cors>""",
}


def _credential(request, credential_id: str, *, to_change: bool = False):
    try:
        credential = selectors.credential_get(user=request.user, credential_id=credential_id)
    except NotFound:
        raise Http404("no such credentials") from None
    if to_change and credential.owner_id is None and not request.user.is_staff:
        raise PermissionDenied("Only staff change shared cloud access.")  # the form would only be refused
    return credential


def _page_context(request) -> dict:
    origin = request.build_absolute_uri("/").rstrip("/")
    return {"cors_rules": {name: rule.replace("https://hyperdata.example.com", origin) for name, rule in CORS_RULES.items()},
            "settings_url": reverse("viewer:cloud-access")}


@require_GET
def cloud_access(request):
    rows = list(selectors.credentials_list(user=request.user))
    return render(request, "viewer/cloud_access.html", {"credentials": rows, **_page_context(request)})


def _form_context(request, title: str, submit_label: str) -> dict:
    return {"title": title, "submit_label": submit_label, "cancel_url": reverse("viewer:cloud-access"),
            "explain": "Rows are matched to a source URI by host and bucket, most specific first; your own rows "
                       "before shared ones.", **_page_context(request)}


@require_http_methods(["GET", "POST"])
def credential_create(request):
    form = CloudCredentialForm(posted(request), can_share=request.user.is_staff)

    def submit(data):
        credential = services.credential_create(user=request.user, data=form.service_data())
        messages.success(request, f"Cloud access “{credential.name}” added. Use Test to check it.")
        return reverse("viewer:cloud-access")

    return form_page(request, form=form, submit=submit, context=_form_context(request, "Add cloud access", "Add"),
                     template="viewer/credential_form.html")


@require_http_methods(["GET", "POST"])
def credential_edit(request, credential_id):
    credential = _credential(request, credential_id, to_change=True)
    initial = {name: getattr(credential, name) for name in
               ("provider", "name", "host", "bucket", "region", "key", "azure_auth", "use_tls", "anonymous", "delivery")}
    initial["shared"] = credential.owner_id is None
    form = CloudCredentialForm(posted(request), initial=initial, can_share=request.user.is_staff, editing=True)

    def submit(data):
        services.credential_update(user=request.user, credential=credential, data=form.service_data())
        messages.success(request, f"Cloud access “{credential.name}” saved.")
        return reverse("viewer:cloud-access")

    context = {**_form_context(request, f"Edit cloud access “{credential.name}”", "Save"), "credential": credential}
    return form_page(request, form=form, submit=submit, context=context, template="viewer/credential_form.html")


@require_POST
def credential_delete(request, credential_id):
    credential = _credential(request, credential_id, to_change=True)
    services.credential_delete(user=request.user, credential=credential)
    messages.success(request, f"Cloud access “{credential.name}” deleted.")
    return redirect("viewer:cloud-access")


@require_POST
def credential_test(request, credential_id):
    """List one object with the row: {"ok": bool, "message": what worked or what failed, in plain words}."""
    credential = _credential(request, credential_id)
    return JsonResponse(services.credential_test(user=request.user, credential=credential))
