"""The two pages in Chromium: a person sets their contact methods and quiet hours; an admin builds a
rotation and a policy. Both read back from the database the pages write through."""
from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from data.models import ContactMethod, EscalationPolicy, NotificationPreference, OnCallSchedule, User
from tests.support.browser_logs import page_errors
from tests.support.live_services import wait_for

pytestmark = pytest.mark.browser


def _type(dash_duo, selector: str, text: str) -> None:
    box = dash_duo.find_element(selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text)


def _click(dash_duo, selector: str) -> None:
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def _choose(dash_duo, dropdown: str, label: str) -> None:
    """Open a dcc.Dropdown and click the option whose label starts with ``label``."""
    _click(dash_duo, f"#{dropdown}")
    until(lambda: dash_duo.driver.find_elements("css selector", ".dash-dropdown-option"), timeout=5)
    option = next(o for o in dash_duo.driver.find_elements("css selector", ".dash-dropdown-option")
                  if o.text.strip().startswith(label))
    option.click()
    ActionChains(dash_duo.driver).send_keys(Keys.ESCAPE).perform()


def test_a_person_adds_contact_methods_and_quiet_hours(dash_duo, services, browser_sign_in):
    name = browser_sign_in("viewer", "/account/notifications")
    dash_duo.wait_for_element("#nt-add", timeout=30)
    _type(dash_duo, "#nt-address", "+1 555 867 5310")
    _click(dash_duo, "#nt-add")
    dash_duo.wait_for_text_to_equal("#nt-result .alert", "Added SMS (Twilio).", timeout=20)
    _choose(dash_duo, "nt-kind", "E-mail")
    _type(dash_duo, "#nt-address", "not-an-address")
    _click(dash_duo, "#nt-add")
    wait_for(lambda: "is not an e-mail address" in dash_duo.find_element("#nt-result").text, 20, 0.2, "the named error")
    _type(dash_duo, "#nt-address", "me@example.com")
    _click(dash_duo, "#nt-add")
    dash_duo.wait_for_text_to_equal("#nt-result .alert", "Added E-mail (SendGrid).", timeout=20)
    wait_for(lambda: "me@example.com" in dash_duo.find_element("#nt-methods").text, 20, 0.2, "the table row")
    dash_duo.driver.execute_script(
        "for (const [id, v] of [['nt-start', '22:00'], ['nt-end', '07:00']]) {"
        " const el = document.getElementById(id);"
        " Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, v);"
        " el.dispatchEvent(new Event('input', {bubbles: true})); }")
    _click(dash_duo, "#nt-save-quiet")
    wait_for(lambda: "Quiet hours 22:00-07:00" in dash_duo.find_element("#nt-quiet-result").text, 20, 0.2, "saved")
    with services.db.session() as s:
        uid = s.execute(select(User.id).where(User.username == name)).scalar_one()
        methods = [(m.kind, m.address, m.priority) for m in s.execute(
            select(ContactMethod).where(ContactMethod.user_id == uid).order_by(ContactMethod.priority)).scalars()]
        pref = s.get(NotificationPreference, uid)
    assert methods == [("sms", "+15558675310", 0), ("email", "me@example.com", 1)]
    assert (pref.quiet_start_min, pref.quiet_end_min, pref.quiet_bypass_severity) == (22 * 60, 7 * 60, "critical")
    assert page_errors(dash_duo) == []


def test_an_admin_builds_a_rotation_and_a_policy(dash_duo, services, browser_sign_in):
    from data.models import Role
    from security.users import create_user

    create_user(services.db, "carol", "correct-horse-battery-9", Role.operator)
    browser_sign_in("admin", "/admin/on-call", username="root")
    dash_duo.wait_for_element("#oc-s-save", timeout=30)
    _type(dash_duo, "#oc-s-name", "ops")
    _choose(dash_duo, "oc-s-members", "carol")
    _choose(dash_duo, "oc-s-members", "root")
    _click(dash_duo, "#oc-s-save")
    dash_duo.wait_for_text_to_equal("#oc-s-result .alert", "Schedule 'ops' saved.", timeout=20)
    wait_for(lambda: "carol → root" in dash_duo.find_element("#oc-schedules").text, 20, 0.2, "the rotation row")
    _type(dash_duo, "#oc-p-name", "default")
    _type(dash_duo, "#oc-p-stages", "+0 schedule:ops\n+15 user:nobody")
    _click(dash_duo, "#oc-p-save")
    wait_for(lambda: "stage line 2: no user called 'nobody'" in dash_duo.find_element("#oc-p-result").text, 20, 0.2,
             "the named error")
    _type(dash_duo, "#oc-p-stages", "+0 schedule:ops\n+15 user:carol")
    _click(dash_duo, "#oc-p-save")
    wait_for(lambda: "Policy 'default' saved." in dash_duo.find_element("#oc-p-result").text, 20, 0.2,
             "saved, not: " + dash_duo.find_element("#oc-p-result").text)
    wait_for(lambda: "on call: ops" in dash_duo.find_element("#oc-policies").text, 20, 0.2, "the policy row")
    with services.db.session() as s:
        schedule = s.execute(select(OnCallSchedule)).scalar_one()
        policy = s.execute(select(EscalationPolicy)).scalar_one()
        carol = s.execute(select(User.id).where(User.username == "carol")).scalar_one()
    assert schedule.name == "ops" and schedule.members[0] == carol and schedule.shift_hours == 168
    assert policy.stages == [{"delay_min": 0.0, "targets": [{"type": "schedule", "id": schedule.id}]},
                             {"delay_min": 15.0, "targets": [{"type": "user", "id": carol}]}]
    assert page_errors(dash_duo) == []
