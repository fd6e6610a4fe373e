"""Forms of the dataset and version pages. They only parse and type-check what the browser sends (text to
lists, JSON text to objects); the business rules (unique names, published versions are frozen, the shape of
the mask-label map) live in frames.services, whose errors `add_service_errors` puts next to the fields."""
import json

from django import forms

from frames.exceptions import ServiceError
from frames.models import DatasetMember

from .jsonfmt import compact_json


class JSONObjectField(forms.CharField):
    """A textarea holding a JSON object; blank means {}."""

    widget = forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "code"})

    def prepare_value(self, value):
        if isinstance(value, (dict, list)):
            return compact_json(value)
        return value

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return {}
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", code="json"
            ) from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError("must be a JSON object ({...})", code="json")
        return parsed


class TagsField(forms.CharField):
    """Comma-separated tags in the browser, a list for the services."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [tag.strip() for tag in (value or "").split(",") if tag.strip()]


class ServiceErrorsMixin:
    """Maps a ServiceError's [{field, message}] onto the form: `metadata.mask_labels._all_[0].value` goes to
    the `metadata` field, unknown fields to the form's non-field errors."""

    def add_service_errors(self, exc: ServiceError) -> None:
        for error in exc.errors:
            name = (error.get("field") or "").split(".")[0].split("[")[0]
            message = error.get("message", str(exc))
            full = error.get("field") or ""
            if name in self.fields:
                self.add_error(name, message if full == name else f"{full}: {message}")
            else:
                self.add_error(None, message)


class PreconditionMixin:
    """A hidden `etag`: the version of the object the form was opened on. Saving sends it as the write
    precondition, so a form opened in two tabs cannot silently overwrite what the other saved."""

    def if_match(self) -> list[str] | None:
        etag = (self.cleaned_data.get("etag") or "").strip()
        return [etag] if etag else None


def etag_field():
    return forms.CharField(required=False, widget=forms.HiddenInput)


class DatasetForm(PreconditionMixin, ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    project = forms.ChoiceField(required=False, help_text="The project the dataset lives in")
    new_project = forms.CharField(required=False, max_length=255, label="Or a new project",
                                  help_text="A name here makes a new project and puts the dataset in it",
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "New project name"}))
    tags = TagsField(required=False, help_text="Comma-separated, e.g. street, night, v2-labels",
                     widget=forms.TextInput(attrs={"autocomplete": "off"}))
    metadata = JSONObjectField(required=False, help_text="A JSON object")
    etag = etag_field()

    def __init__(self, data=None, *, projects=(), blank_label=None, **kwargs):
        """`projects`: those the user can see; `blank_label` names what no choice means (the default project,
        on create)."""
        super().__init__(data, **kwargs)
        blank = [("", blank_label)] if blank_label else []
        self.fields["project"].choices = [*blank, *((p.pk, p.name) for p in projects)]


class VersionEditForm(PreconditionMixin, ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    etag = etag_field()


class VersionChildForm(ServiceErrorsMixin, forms.Form):
    """A new draft child of a published version."""

    name = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PublishForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=255, required=False, help_text="Leave as is to keep the current name",
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))
    open_child = forms.BooleanField(required=False, initial=True, label="Open a draft working copy (a child of it)")
    child_name = forms.CharField(max_length=255, required=False, initial="Current", label="Working copy name",
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))


class SnapshotForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=255, required=False, help_text="Name of the published snapshot",
                           widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}))
    child_name = forms.CharField(max_length=255, required=False, initial="Current", label="New draft name",
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))


class ConfirmForm(ServiceErrorsMixin, forms.Form):
    """A delete: nothing to fill in, the button is the confirmation."""


class MetadataForm(PreconditionMixin, ServiceErrorsMixin, forms.Form):
    metadata = JSONObjectField(required=False, widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code"}))
    etag = etag_field()


class MemberForm(ServiceErrorsMixin, forms.Form):
    """Add a user to a dataset (or change the role of one who is a member already)."""

    username = forms.CharField(label="User name", max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "their sign-in name"}))
    role = forms.ChoiceField(choices=DatasetMember.ROLES, initial=DatasetMember.VIEWER)


class MemberRoleForm(ServiceErrorsMixin, forms.Form):
    role = forms.ChoiceField(choices=DatasetMember.ROLES)
