from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from stechec.contest.models import PlayerProfile
from stechec.www.contest import bulk_accounts, conf
from stechec.www.contest.forms import BulkAccountsForm, DisplayNameForm, RegistrationForm


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
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                "self_registration": conf.website()["self_registration"]}


@login_required
def account(request):
    """The player's account: their display name, and the way to their password."""
    profile = PlayerProfile.objects.filter(user=request.user).first()
    form = DisplayNameForm(request.POST or None, user=request.user,
                           initial={"display_name": profile.display_name if profile else ""})
    if request.method == "POST" and form.is_valid():
        PlayerProfile.objects.update_or_create(
            user=request.user, defaults={"display_name": form.cleaned_data["display_name"]})
        messages.success(request, _("Display name saved."))
        return redirect("account")
    return render(request, "registration/account.html", {"form": form})


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
