"""Small inline SVG charts: no script, no CDN, readable without JavaScript."""

from html import escape

from django.utils.safestring import mark_safe

WIDTH, HEIGHT, MARGIN = 640, 240, 36


def line_chart(series, *, label, caption=""):
    """An SVG line chart of `series`: (name, css class, [y, ...]) sharing one x axis.

    Each value is one point, in order (x is its index); `caption` goes under
    the x axis. Returns safe markup.
    """
    values = [y for _, _, ys in series for y in ys]
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    count = max(len(ys) for _, _, ys in series)

    def x(index):
        return MARGIN + (WIDTH - 2 * MARGIN) * (index / (count - 1) if count > 1 else 0.5)

    def y(value):
        return HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * (value - low) / (high - low)

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
             f'<line class="axis" x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
             f'y2="{HEIGHT - MARGIN}"/>',
             f'<line class="axis" x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" '
             f'y2="{HEIGHT - MARGIN}"/>']
    for value in (low, (low + high) / 2, high):
        parts.append(f'<text x="{MARGIN - 4}" y="{y(value) + 4:.1f}" text-anchor="end">'
                     f"{value:.1f}</text>")
    parts.append(f'<text x="{WIDTH - MARGIN}" y="{HEIGHT - MARGIN + 16}" text-anchor="end">'
                 f"{escape(caption)}</text>")
    for position, (name, css_class, ys) in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(ys))
        parts.append(f'<polyline class="{escape(css_class)}" fill="none" points="{points}">'
                     f"<title>{escape(name)}</title></polyline>")
        parts.append(f'<text class="{escape(css_class)}" x="{MARGIN + 8}" '
                     f'y="{MARGIN - 10 + 14 * position}">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
