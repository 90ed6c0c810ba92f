from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from stechec.contest.models import ApiToken, PlayerProfile
from stechec.www.api import tokens
from stechec.www.contest import bulk_accounts, conf, webhooks
from stechec.www.contest.forms import (
    ApiTokenForm,
    BulkAccountsForm,
    DisplayNameForm,
    RegistrationForm,
    SignInForm,
    WebhookForm,
)


def register(request):
    """Self-registration, when website.self_registration allows it."""
    if not conf.website()["self_registration"]:
        raise Http404(_("Accounts are created by the organisers."))
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, _("Welcome, %(name)s.") % {"name": user.username})
        return redirect("home")
    return render(request, "registration/register.html", {"form": form})


class ContestLoginView(LoginView):
    authentication_form = SignInForm

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                "self_registration": conf.website()["self_registration"]}


@login_required
def account(request):
    """The player's account: their display name, and the way to their password."""
    form = _display_name_form(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        PlayerProfile.objects.update_or_create(
            user=request.user, defaults={"display_name": form.cleaned_data["display_name"]})
        messages.success(request, _("Display name saved."))
        return redirect("account")
    return _account_page(request, form)


def _display_name_form(user, data=None):
    profile = PlayerProfile.objects.filter(user=user).first()
    return DisplayNameForm(data, user=user,
                           initial={"display_name": profile.display_name if profile else ""})


def _account_page(request, form, token_form=None, new_token=None, webhook_form=None,
                  new_webhook=None):
    """The account page; `new_token` and `new_webhook` (the hook, its secret) are shown
    this once."""
    return render(request, "registration/account.html", {
        "form": form, "token_form": token_form or ApiTokenForm(user=request.user),
        "new_token": new_token, "tokens": ApiToken.objects.filter(user=request.user),
        "webhook_form": webhook_form or WebhookForm(user=request.user),
        "new_webhook": new_webhook, "webhooks": webhooks.of(request.user),
        "deliveries": webhooks.recent_deliveries(request.user)})


@login_required
@require_POST
@never_cache
def token_new(request):
    """Create a personal API token; the page shows it this once (never cached, as it holds
    it): only its hash is kept."""
    token_form = ApiTokenForm(request.POST, user=request.user)
    new_token = None
    if token_form.is_valid():
        try:
            _, new_token = tokens.create(request.user, token_form.cleaned_data["name"],
                                         token_form.cleaned_data["scopes"])
        except tokens.BadToken as e:
            token_form.add_error(None, str(e))
        else:
            token_form = ApiTokenForm(user=request.user)
    return _account_page(request, _display_name_form(request.user), token_form, new_token)


@login_required
@require_POST
def token_revoke(request, pk):
    if not tokens.revoke(request.user, pk):
        raise Http404(_("No such token of yours."))
    messages.success(request, _("Token revoked: programs using it are refused from now on."))
    return redirect("account")


@login_required
@require_POST
@never_cache
def webhook_new(request):
    """Register a webhook; the page shows its secret this once (never cached, as it holds
    it)."""
    webhook_form = WebhookForm(request.POST, user=request.user)
    new_webhook = None
    if webhook_form.is_valid():
        data = webhook_form.cleaned_data
        try:
            new_webhook = webhooks.create(request.user, data["url"], data["events"],
                                          discord=data["discord"],
                                          contest_wide=data.get("contest_wide", False))
        except webhooks.BadWebhook as e:
            webhook_form.add_error(None, str(e))
        else:
            webhook_form = None
    return _account_page(request, _display_name_form(request.user), webhook_form=webhook_form,
                         new_webhook=new_webhook)


@login_required
@require_POST
def webhook_delete(request, pk):
    if not webhooks.delete(request.user, pk):
        raise Http404(_("No such webhook of yours."))
    messages.success(request, _("Webhook deleted: nothing more is sent to it."))
    return redirect("account")


@login_required
@never_cache
def bulk_create(request):
    """Staff create accounts from a CSV file; the passwords are shown once (and the page
    is never cached, since it holds them)."""
    if not request.user.is_staff:
        raise PermissionDenied(_("Only organisers create accounts."))
    form = BulkAccountsForm(request.POST or None, request.FILES or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            text = form.cleaned_data["accounts"].read().decode("utf-8-sig")
            created = bulk_accounts.create(bulk_accounts.read(text))
        except UnicodeDecodeError:
            form.add_error("accounts", _("The file is not UTF-8 text."))
        except bulk_accounts.BadFile as e:
            form.add_error("accounts", _("Nothing was created: %(reason)s.") % {"reason": e})
        else:
            if form.cleaned_data["mail"]:
                sent = bulk_accounts.mail(created, request.build_absolute_uri("/"))
                messages.success(request, _("%(count)s mails sent.") % {"count": sent})
            form = BulkAccountsForm()
    return render(request, "registration/bulk_accounts.html", {
        "form": form, "created": created,
        "created_csv": created and bulk_accounts.as_csv(created)})
