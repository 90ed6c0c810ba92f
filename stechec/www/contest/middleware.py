"""Refusing requests no view should see: bodies far over the upload limit, NULs in queries.

Django bounds form fields in memory but spools uploaded files to disk
whatever their size, and the CSRF check reads the whole body of every POST
before any view runs. Behind the nginx sample, client_max_body_size does
this; without nginx (gunicorn alone, or whitenoise-only deployments) this
middleware, placed before the CSRF one, does.
"""

from django.contrib import auth
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.functional import SimpleLazyObject

from stechec.www.contest import conf

# Room for the upload form's other fields and the multipart framing.
FORM_OVERHEAD_BYTES = 64 * 1024


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = conf.website()["upload_max_bytes"] + FORM_OVERHEAD_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            # Authentication runs after this middleware: the page's menu needs the user.
            request.user = SimpleLazyObject(lambda: auth.get_user(request))
            return render(request, "413.html", {
                "limit": filesizeformat(conf.website()["upload_max_bytes"])}, status=413)
        return self.get_response(request)


class NulQueryMiddleware:
    """A query string holding a NUL gets 400: PostgreSQL refuses a NUL in a query.

    Any filter (the match list's author, the admin's list filters) would
    otherwise turn it into a server error; forms refuse NULs on their own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in value for values in request.GET.lists() for value in values[1]):
            return HttpResponseBadRequest("A NUL character is not allowed in a query.\n",
                                          content_type="text/plain")
        return self.get_response(request)
