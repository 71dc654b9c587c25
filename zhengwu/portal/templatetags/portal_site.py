"""Tags of the published pages' templates."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


class KeepNode(template.Node):
    def __init__(self, name: str, nodelist: template.NodeList, vary_on: list[Any]) -> None:
        self.name = name
        self.nodelist = nodelist
        self.vary_on = vary_on

    def render(self, context: template.Context) -> str:
        kept = context.get("kept")
        if kept is None:
            return self.nodelist.render(context)
        key = (self.name, get_language(), *(v.resolve(context) for v in self.vary_on))
        html = kept.get(key)
        if html is None:
            html = kept[key] = self.nodelist.render(context)  # a SafeString, as rendered
        return html


@register.tag
def keep(parser: Any, token: Any) -> KeepNode:
    """``{% keep "name" value … %}…{% endkeep %}``: the block is rendered once for each set of values
    and reused, when the context carries a ``kept`` dict (the publisher's, per regeneration run, or the
    per-process cache of pages rendered on request, emptied when a site, column or unit changes).
    The values must name everything the block shows that is not the same for the whole site."""
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError("keep needs a quoted name first")
    nodelist = parser.parse(("endkeep",))
    parser.delete_first_token()
    return KeepNode(bits[1][1:-1], nodelist, [parser.compile_filter(b) for b in bits[2:]])
