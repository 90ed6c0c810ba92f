"""The API's lists are paged as the site's are (stechec.www.contest.pagination): without
COUNT(*), one row more than a page to know whether another follows, website.page_size
a page."""

from rest_framework import pagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from stechec.www.contest.pagination import paginate


class NextPagePagination(pagination.BasePagination):
    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page = paginate(request, queryset)
        return self.page.items

    def _link(self, number):
        url = self.request.build_absolute_uri()
        return (remove_query_param(url, "page") if number == 1
                else replace_query_param(url, "page", number))

    def get_paginated_response(self, data):
        page = self.page
        return Response({
            "next": self._link(page.next_number) if page.has_next else None,
            "previous": self._link(page.previous_number) if page.has_previous else None,
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {"type": "object", "required": ["next", "previous", "results"],
                "properties": {"next": link, "previous": link, "results": schema}}

    def get_schema_operation_parameters(self, view):
        return [{"name": "page", "in": "query", "required": False,
                 "schema": {"type": "integer"}, "description": "The page's number, from 1."}]
