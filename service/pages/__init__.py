"""The referral desk page: Chinese, server-rendered, every asset shipped in the package.

``router`` owns ``/desk``: the route screen for clerks, the planner's coverage
view (table, map, CSV) and the static files. Templates live in
``templates/``, the stylesheet and the one script in ``static/``; nothing is
fetched from outside, and no page has inline script or style, so a strict
``Content-Security-Policy: default-src 'self'`` holds.
"""

from service.pages.views import router

__all__ = ["router"]
