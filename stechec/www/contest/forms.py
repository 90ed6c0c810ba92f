import tempfile
import unicodedata

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    UserCreationForm,
)
from django.contrib.auth.models import User
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from stechec.common import archive
from stechec.contest import operations
from stechec.contest.models import ApiToken, Map, Tournament, Webhook
from stechec.www.contest import conf, limits, mapcheck, picker

# An upload whose folder is taken off is rewritten in memory up to this size, then on disk.
_FLATTENED_IN_MEMORY = 1024 * 1024


def check_one_line_name(value):
    """A name is one line of printable text: it is shown in pages and logs, and one with
    a newline once reached the compile script's command line."""
    for position, character in enumerate(value, 1):
        # Cc: control characters (newline, tab, ESC...); Zl, Zp: line and paragraph separators.
        if unicodedata.category(character) in ("Cc", "Zl", "Zp"):
            what = _("a newline") if character in "\n\r" else _("a control character")
            raise forms.ValidationError(
                _("The name holds %(what)s (%(character)s at character %(position)s); a name "
                  "is one line of printable characters.")
                % {"what": what, "character": repr(character), "position": position})


class ChampionUploadForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           validators=[check_one_line_name])
    sources = forms.FileField(
        label=gettext_lazy("Sources (.tgz)"),
        help_text=gettext_lazy("A gzip-compressed tar archive of your champion's sources."))
    comment = forms.CharField(label=gettext_lazy("Comment"),
                              widget=forms.Textarea(attrs={"rows": 3}), required=False)
    # The folder taken off the archive's names, when all its files were in one (clean_sources).
    stripped_folder = None

    def clean_sources(self):
        """Refuse the archive before anything is stored, with the worker's own checks."""
        uploaded = self.cleaned_data["sources"]
        website = conf.website()
        if uploaded.size > website["upload_max_bytes"]:
            raise forms.ValidationError(
                _("The archive is %(size)s; the limit is %(limit)s.")
                % {"size": filesizeformat(uploaded.size),
                   "limit": filesizeformat(website["upload_max_bytes"])})
        uploaded.seek(0)
        try:
            archive.check(uploaded, max_members=website["archive_max_members"],
                          max_unpacked_bytes=website["archive_max_unpacked_bytes"])
        except archive.ArchiveError as e:
            raise forms.ValidationError(_("Archive refused: %(reason)s.") % {"reason": e}) from None
        uploaded.seek(0)
        folder = archive.single_folder(uploaded)
        if folder is None:
            return uploaded
        # Every file inside one folder: taken as if packed from inside it.
        flattened = tempfile.SpooledTemporaryFile(max_size=_FLATTENED_IN_MEMORY)
        uploaded.seek(0)
        archive.strip_folder(uploaded, folder, flattened)
        flattened.seek(0)
        self.stripped_folder = folder
        return File(flattened, name=uploaded.name)


class ChampionField(forms.CharField):
    """A ready champion, named as players know it (picker.find: `bob`, `bob/sly`, `12`)."""

    def __init__(self, ready, **kwargs):
        super().__init__(max_length=300, widget=forms.TextInput(attrs={
            "list": "champion-choices", "autocomplete": "off", "class": "champion-picker",
            "placeholder": _("a player's name, player/champion, or #number")}), **kwargs)
        self.ready = ready

    def clean(self, value):
        text = super().clean(value)
        champion = picker.find(self.ready, text)
        if champion is None:
            raise forms.ValidationError(
                _("No ready champion is %(text)s: give a player's name (their latest ready "
                  "champion), player/champion, or a champion's number.") % {"text": repr(text)})
        return champion


class MatchForm(forms.Form):
    map = forms.ModelChoiceField(Map.objects.all(), required=False, label=gettext_lazy("Map"),
                                 empty_label=gettext_lazy("(no map)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        ready = picker.ready_champions(user)
        seats = conf.contest()["nb_players"]
        for seat in range(seats):
            self.fields[f"champion_{seat + 1}"] = ChampionField(
                ready, label=_("Champion %(seat)s") % {"seat": seat + 1})
        if not conf.uses_maps():
            del self.fields["map"]
        # The map select goes last.
        self.order_fields([f"champion_{n + 1}" for n in range(seats)])

    def clean(self):
        cleaned = super().clean()
        # A game without maps shows no map field; a map sent anyway (an old form, a script)
        # is refused rather than silently dropped: the player meant something by it.
        if "map" not in self.fields and self.data.get("map") not in (None, ""):
            raise forms.ValidationError(_("This contest's game plays without maps: leave "
                                          "the map out."))
        return cleaned

    def champions(self):
        return [self.cleaned_data[f"champion_{n + 1}"]
                for n in range(conf.contest()["nb_players"])]

    def chosen_map(self):
        return self.cleaned_data.get("map")


class MapForm(forms.ModelForm):
    # Kept as typed (no stripping): whitespace may matter to a game's map format.
    contents = forms.CharField(label=gettext_lazy("Contents"), strip=False,
                               widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}))

    class Meta:
        model = Map
        fields = ["name", "contents"]
        labels = {"name": gettext_lazy("Name")}

    def clean_name(self):
        name = self.cleaned_data["name"]
        check_one_line_name(name)
        return name

    def clean_contents(self):
        contents = self.cleaned_data["contents"].replace("\r\n", "\n")
        limit = conf.contest()["map_max_bytes"]
        size = len(contents.encode("utf-8"))
        if not contents.strip():
            raise forms.ValidationError(_("The map is empty."))
        if size > limit:
            raise forms.ValidationError(_("The map is %(size)s; the limit is %(limit)s.")
                                        % {"size": filesizeformat(size),
                                           "limit": filesizeformat(limit)})
        contest = conf.contest()
        try:
            mapcheck.check_text(contents)
            if contest["map_validator"]:
                mapcheck.run_validator(contest["map_validator"], contents,
                                       contest["map_validator_timeout_secs"])
        except mapcheck.MapRefused as e:
            raise forms.ValidationError(str(e)) from None
        return contents


def check_username(username):
    """Django's rules for a user name (letters, digits, @.+-_, 150 at most), and not "."
    or "..", which Django allows: a user's name is a directory of the shared one."""
    User.username_validator(username)
    if not username or len(username) > User._meta.get_field("username").max_length:
        raise forms.ValidationError(_("A name has 1 to 150 characters."))
    if username in (".", ".."):
        raise forms.ValidationError(_("This name is reserved."))


class SignInForm(AuthenticationForm):
    """Django's sign-in form under the limit on failed sign-ins (limits.authenticate_limited)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = limits.authenticate_limited(self.request, username, password)
            except limits.LimitReached as e:
                raise forms.ValidationError(str(e), code="too_many_failures") from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LimitedPasswordChangeForm(PasswordChangeForm):
    """Django's password change form, its old password checked under the limit on failed
    sign-ins: a session left open is not a way round it."""

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            checked = limits.authenticate_limited(None, self.user.get_username(), old_password)
        except limits.LimitReached as e:
            raise forms.ValidationError(str(e), code="too_many_failures") from None
        if checked is None:
            raise forms.ValidationError(self.error_messages["password_incorrect"],
                                        code="password_incorrect")
        return old_password


class LimitedPasswordResetForm(PasswordResetForm):
    """Django's password reset form under the limit on reset mails per address."""

    def clean_email(self):
        email = self.cleaned_data["email"]
        try:
            limits.count_password_reset(email)
        except limits.LimitReached as e:
            raise forms.ValidationError(str(e), code="too_many_resets") from None
        return email


class RegistrationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ["username", "email"]

    def clean_username(self):
        username = super().clean_username()
        check_username(username)
        return username


def check_display_name(user, name):
    """A display name is one line, and not another player's name or display name (case
    aside): a player could otherwise pass for another."""
    check_one_line_name(name)
    if not name:
        return
    others = User.objects.exclude(pk=user.pk if user else None)
    if (others.filter(username__iexact=name).exists()
            or others.filter(profile__display_name__iexact=name).exists()):
        raise forms.ValidationError(_("%(name)s is another player's name.")
                                    % {"name": repr(name)})


class DisplayNameForm(forms.Form):
    display_name = forms.CharField(max_length=100, required=False,
                                   label=gettext_lazy("Display name"), help_text=gettext_lazy(
                                       "The name other players see on the leaderboard, "
                                       "tournaments and your champions; empty: your user name."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_display_name(self):
        name = self.cleaned_data["display_name"]
        check_display_name(self.user, name)
        return name


class ApiTokenForm(forms.Form):
    """A new personal API token (stechec.www.api.tokens checks the scopes again)."""

    name = forms.CharField(max_length=100, validators=[check_one_line_name],
                           help_text="To tell your tokens apart, e.g. the machine it is on.")
    scopes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple,
                                       initial=["read", "submit"])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [
            (scope.value, f"{scope.value}: {scope.label}") for scope in ApiToken.Scope
            if scope != ApiToken.Scope.STAFF or user.is_staff]


class WebhookForm(forms.Form):
    """A new webhook (stechec.www.contest.webhooks checks the URL and the events)."""

    url = forms.CharField(label=gettext_lazy("URL"), max_length=500,
                          help_text=gettext_lazy("http:// or https://; events are POSTed to it."))
    events = forms.MultipleChoiceField(label=gettext_lazy("Events"),
                                       widget=forms.CheckboxSelectMultiple,
                                       choices=Webhook.Event.choices,
                                       initial=[event.value for event in Webhook.Event])
    discord = forms.BooleanField(
        label=gettext_lazy("Discord message"), required=False,
        help_text=gettext_lazy("Send a Discord-compatible message instead of the event's JSON."))
    contest_wide = forms.BooleanField(
        label=gettext_lazy("Contest-wide"), required=False,
        help_text=gettext_lazy("Every player's events, not only yours."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.is_staff:
            del self.fields["contest_wide"]


class BulkAccountsForm(forms.Form):
    """Staff's page for accounts in bulk (bulk_accounts)."""

    accounts = forms.FileField(label=gettext_lazy("Accounts (.csv)"), help_text=gettext_lazy(
        "A header line naming the columns username and email (and display_name, if "
        "wanted), then one account a line."))
    mail = forms.BooleanField(required=False,
                              label=gettext_lazy("Mail each new account its password"))


class RequeueForm(forms.Form):
    """Staff's bulk requeue of failed tasks, with a filter (stechec.contest.operations)."""

    MATCHES, CHAMPIONS = "matches", "champions"

    what = forms.ChoiceField(label=gettext_lazy("Requeue"), choices=[
        (MATCHES, gettext_lazy("failed matches")),
        (CHAMPIONS, gettext_lazy("failed compilations"))])
    tournament = forms.ModelChoiceField(Tournament.objects.all(), required=False,
                                        label=gettext_lazy("Tournament"),
                                        help_text=gettext_lazy("Matches only."))
    reason = forms.CharField(label=gettext_lazy("Failure reason contains"), max_length=200,
                             required=False)
    worker = forms.CharField(label=gettext_lazy("Worker of the last attempt"), max_length=300,
                             required=False, help_text=gettext_lazy("host:port"))
    since = forms.DateTimeField(
        label=gettext_lazy("Since"), required=False,
        help_text=gettext_lazy("Queued at or after this time, e.g. 2026-05-01 18:00"))

    def clean_worker(self):
        worker = self.cleaned_data["worker"]
        if worker:
            try:
                operations.worker_name(worker)
            except ValueError:
                raise forms.ValidationError(_("Not a worker's host:port.")) from None
        return worker

    def clean(self):
        data = super().clean()
        if data.get("what") == self.CHAMPIONS and data.get("tournament"):
            self.add_error("tournament", _("Compilations belong to no tournament."))
        return data

    def requeue(self, actor):
        """Requeue what the valid form selects; how many."""
        data = self.cleaned_data
        filters = {"reason": data["reason"], "worker": data["worker"], "since": data["since"]}
        if data["what"] == self.CHAMPIONS:
            return operations.requeue_champions(actor, **filters)
        tournament = data["tournament"]
        return operations.requeue_matches(actor, tournament=tournament and tournament.pk,
                                          **filters)


class TournamentForm(forms.Form):
    """A new tournament, for organisers (docs/tournaments.md)."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=Tournament.Format.choices)
    rounds = forms.IntegerField(label=gettext_lazy("Rounds"), min_value=0, initial=0,
                                required=False,
                                help_text=gettext_lazy("Swiss only: how many rounds."))
    champions = forms.CharField(
        label=gettext_lazy("Champions"), required=False, help_text=gettext_lazy(
            "Champion numbers separated by spaces or commas; empty: "
            "each player's latest ready champion (before the deadline)."))
    deadline = forms.DateTimeField(label=gettext_lazy("Deadline"), required=False,
                                   help_text=gettext_lazy("e.g. 2026-05-01 18:00"))
    include_staff = forms.BooleanField(required=False,
                                       label=gettext_lazy("Include staff's champions"))
    maps = forms.ModelMultipleChoiceField(
        Map.objects.all(), required=False, label=gettext_lazy("Maps"),
        help_text=gettext_lazy("None selected: play without a map."))
    launch = forms.BooleanField(required=False, initial=True,
                                label=gettext_lazy("Launch it now"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["maps"].initial = list(Map.objects.filter(official=True)
                                           .values_list("pk", flat=True))

    def clean_champions(self):
        words = self.cleaned_data["champions"].replace(",", " ").split()
        not_numbers = [word for word in words if not word.isdecimal()]
        if not_numbers:
            listed = ", ".join(repr(word) for word in not_numbers)
            raise forms.ValidationError(ngettext(
                "Champions are given by their numbers, e.g. 12 15 18: %(listed)s is not a "
                "number.",
                "Champions are given by their numbers, e.g. 12 15 18: %(listed)s are not a "
                "number.", len(not_numbers)) % {"listed": listed})
        return [int(word) for word in words]
