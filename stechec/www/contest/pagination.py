"""Pages of a list without COUNT(*): one query per page whatever the table's size.

A page fetches one row more than it shows to know whether a next page exists;
with 200,000 matches a COUNT would cost more than the page itself.
"""

from stechec.www.contest import conf

# Far beyond any real list; keeps OFFSET within the databases' 64-bit integers.
MAX_PAGE = 1_000_000


class Page:
    def __init__(self, items, number, has_next):
        self.items = items
        self.number = number
        self.has_next = has_next
        self.has_previous = number > 1

    @property
    def next_number(self):
        return self.number + 1

    @property
    def previous_number(self):
        return self.number - 1


def paginate(request, queryset):
    try:
        number = min(max(1, int(request.GET.get("page", 1))), MAX_PAGE)
    except ValueError:
        number = 1
    size = conf.website()["page_size"]
    start = (number - 1) * size
    items = list(queryset[start:start + size + 1])
    return Page(items[:size], number, len(items) > size)
