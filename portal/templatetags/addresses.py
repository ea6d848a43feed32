"""The portal's configured address in templates that leave the browser (emails)."""

from django import template

from portal import addresses

register = template.Library()


@register.simple_tag
def base_url() -> str:
    return addresses.base_url()
