"""The form of Settings → Cloud access. It only parses what the browser sends; frames.services.credentials
checks the rules (who may share a row, which fields a provider needs) and names the field of each error.

Secrets (secret key, service-account JSON, account key, SAS, connection string, session token) are write-only:
the form never shows a saved one, and leaving the field blank when editing keeps it."""
from django import forms

from .forms import ServiceErrorsMixin

PROVIDERS = [
    ("s3", "Amazon S3 or S3-compatible (MinIO, Ceph, Wasabi, ...)"),
    ("gcs", "Google Cloud Storage"),
    ("azure", "Azure Blob Storage"),
]
AZURE_AUTH = [("key", "Account key"), ("sas", "SAS token"), ("connection_string", "Connection string")]
DELIVERY = [
    ("proxy", "Through HyperData (a streaming proxy for signed-in users who may see the frame)"),
    ("signed", "Signed URLs (the browser reads the bucket directly for a few minutes; needs a CORS rule)"),
]
SECRET_FIELDS = ("secret", "token")


def _secret(label: str, help_text: str, rows: int = 2) -> forms.CharField:
    attrs = {"rows": rows, "spellcheck": "false", "autocomplete": "off", "class": "code secret"}
    return forms.CharField(required=False, label=label, help_text=help_text, widget=forms.Textarea(attrs=attrs))


class CloudCredentialForm(ServiceErrorsMixin, forms.Form):
    provider = forms.ChoiceField(choices=PROVIDERS)
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
                           help_text="How this row is listed, e.g. “MinIO lab” or “AWS datasets”")
    host = forms.CharField(required=False, max_length=255, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                           help_text="Blank for AWS S3 and Google; host:port of an S3-compatible server (as in "
                                     "s3://host:port/bucket/key); the account host for Azure "
                                     "(account.blob.core.windows.net). A server on a private address (a MinIO on "
                                     "your network) is reached only through rows made by staff.")
    bucket = forms.CharField(required=False, max_length=255, label="Bucket or container",
                             widget=forms.TextInput(attrs={"autocomplete": "off"}),
                             help_text="Blank: every bucket of this host. A row naming the bucket wins over one that does not.")
    region = forms.CharField(required=False, max_length=64, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                             help_text="S3 region, e.g. us-east-1")
    key = forms.CharField(required=False, max_length=255, label="Access key or account name",
                          widget=forms.TextInput(attrs={"autocomplete": "off"}))
    secret = _secret("Secret", "S3 secret key; Google service-account JSON; Azure account key, SAS token or connection "
                               "string. Never shown again; leave blank when editing to keep the saved one.", rows=3)
    token = _secret("Session token", "S3 temporary credentials only. Leave blank when editing to keep the saved one.")
    azure_auth = forms.ChoiceField(choices=AZURE_AUTH, required=False, label="Azure secret is")
    use_tls = forms.BooleanField(required=False, initial=True, label="TLS (https) to this host")
    anonymous = forms.BooleanField(required=False, label="Anonymous access (a public bucket: no key)")
    delivery = forms.ChoiceField(choices=DELIVERY, initial="proxy", widget=forms.RadioSelect, label="The browser gets the images")
    shared = forms.BooleanField(required=False, label="Shared with everyone (staff only)")

    def __init__(self, *args, can_share: bool, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_share:
            del self.fields["shared"]
        self.editing = editing

    def service_data(self) -> dict:
        """What the service gets: blank secrets are left out when editing (kept as saved)."""
        data = dict(self.cleaned_data)
        if self.editing:
            for name in SECRET_FIELDS:
                if not data.get(name):
                    data.pop(name, None)
        return data
