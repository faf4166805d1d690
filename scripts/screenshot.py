"""Take PNG screenshots of app pages in headless Chromium (for looking at what we build).

    .venv/bin/python scripts/screenshot.py http://127.0.0.1:8050/ out.png [--width 1400 --height 1000 --wait 4 --dark]
"""
from __future__ import annotations

import argparse
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service


def screenshot(url: str, out: str, width: int = 1400, height: int = 1000, wait: float = 4.0, dark: bool = False,
               cookies: dict[str, str] | None = None) -> None:
    """Load ``url`` and save a full-window PNG to ``out``."""
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(url)
        if cookies:
            for name, value in cookies.items():
                driver.add_cookie({"name": name, "value": value})
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
    a = parser.parse_args()
    screenshot(a.url, a.out, a.width, a.height, a.wait, a.dark)
