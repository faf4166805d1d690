"""Browser console errors a page test must not see."""
from __future__ import annotations

import re

# Leaving a page (a link, driver.get) can cut its Socket.IO long-polling request short; the server
# then answers that request of the abandoned session 400 ("Invalid session"): not an error of the page.
_ABANDONED_POLL = re.compile(r"/socket\.io/\?EIO=4&transport=polling.*status of 400")


def page_errors(dash_duo) -> list[dict]:
    """Return the SEVERE console entries of the browser, except abandoned Socket.IO polls."""
    return [e for e in dash_duo.get_logs() or [] if e["level"] == "SEVERE"
            and not (e.get("source") == "network" and _ABANDONED_POLL.search(e["message"]))]
