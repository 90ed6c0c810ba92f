from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.http import Http404
from django.shortcuts import redirect, render

from stechec.www.contest import conf
from stechec.www.contest.forms import RegistrationForm


def register(request):
    """Self-registration, when website.self_registration allows it."""
    if not conf.website()["self_registration"]:
        raise Http404("Accounts are created by the organisers.")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, f"Welcome, {user.username}.")
        return redirect("home")
    return render(request, "registration/register.html", {"form": form})


class ContestLoginView(LoginView):
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                "self_registration": conf.website()["self_registration"]}
