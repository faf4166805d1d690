"""Take PNG screenshots of app pages in headless Chromium (for looking at what we build).

    .venv/bin/python scripts/screenshot.py http://127.0.0.1:8050/ out.png [--width 1400 --height 1000 --wait 4 --dark]
        [--user NAME --password-env VAR]   # sign in through the form first (password from env var VAR)
"""
from __future__ import annotations

import argparse
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service


def screenshot(url: str, out: str, width: int = 1400, height: int = 1000, wait: float = 4.0, dark: bool = False,
               user: str | None = None, password: str | None = None) -> None:
    """Load ``url`` (signed in as ``user`` when given) and save a full-page PNG to ``out``."""
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        if user:
            from urllib.parse import urlsplit

            parts = urlsplit(url)
            driver.get(f"{parts.scheme}://{parts.netloc}/login")
            driver.find_element("id", "login-username").send_keys(user)
            driver.find_element("id", "login-password").send_keys(password or "")
            driver.find_element("id", "login-submit").click()
            for _ in range(100):
                if "/login" not in driver.current_url:
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError("sign-in failed: " + driver.find_element("tag name", "body").text[:200])
        driver.get(url)
        if dark:
            driver.execute_script("localStorage.setItem('shell-theme', JSON.stringify('dark'));")
            driver.get(url)
        time.sleep(wait)
        total = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, max(height, min(int(total) + 40, 4000)))
        time.sleep(0.5)
        driver.save_screenshot(out)
    finally:
        driver.quit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--wait", type=float, default=4.0)
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password-env", default="FLEETLIGHT_SCREENSHOT_PASSWORD")
    a = parser.parse_args()
    import os

    screenshot(a.url, a.out, a.width, a.height, a.wait, a.dark, a.user, os.environ.get(a.password_env))
