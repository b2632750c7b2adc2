"""API tokens in the admin: issue one (shown once, on the page that follows), revoke them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from minestrone.monitor.api.tokens import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens by owner; the token itself is never stored, so it is shown only when issued."""

    list_display = ("__str__", "user", "read_only", "created", "last_used", "revoked")
    list_filter = ("read_only", ("revoked", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "name")
    fields = ("user", "name", "read_only", "created", "last_used", "revoked")
    readonly_fields = ("created", "last_used", "revoked")
    actions = ("revoke_tokens",)

    def get_queryset(self, request):
        """A superuser sees every token; another user only their own (nor revokes others')."""
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def get_readonly_fields(self, request, obj=None) -> tuple:
        """Once issued, a token only changes by being revoked."""
        if obj is not None:
            return self.fields
        return self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A superuser issues tokens for anyone; another user only for themselves (a token acts
        with its owner's permissions: no one gets more than their own this way)."""
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.remote_field.model.objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        """Issue the token: store its hash, keep the token for the page that shows it."""
        if change:
            return
        row, token = ApiToken.objects.issue(obj.user, obj.name, obj.read_only)
        obj.pk, obj.key_hash, obj.created = row.pk, row.key_hash, row.created
        obj._state.adding = False
        request._issued_token = token

    def response_add(self, request, obj, post_url_continue=None) -> HttpResponse:
        """Show the new token, once (never in a message: messages may travel in a cookie)."""
        context = {
            **self.admin_site.each_context(request),
            "title": "API token issued",
            "opts": self.model._meta,
            "row": obj,
            "token": request._issued_token,
        }
        response = TemplateResponse(request, "admin/monitor/apitoken/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke_tokens(self, request, queryset) -> None:
        """Refuse the selected tokens from now on."""
        count = queryset.filter(revoked__isnull=True).update(revoked=timezone.now())
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)
