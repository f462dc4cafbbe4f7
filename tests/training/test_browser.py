"""An ML engineer follows a task and a running run in the admin, in a real Chromium (desktop and phone)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from assistant.core import roles
from tests.conftest import SCREENSHOTS, fits_width
from tests.support.training import TOPIC_TASK
from tests.training.factories import audit_create, running_run, version_create

pytestmark = pytest.mark.browser
TASK = TOPIC_TASK.name

# Each title of the page's header against each button or link beside it: which overlap.
OVERLAPS = """() => {
  const titles = [...document.querySelectorAll('#content > h1, #content > h2')].map(title => {
    const text = document.createRange();
    text.selectNodeContents(title);
    return [title.textContent, text.getBoundingClientRect()];
  });
  const tools = [...document.querySelectorAll('.object-tools li')];
  return titles.flatMap(([name, t]) => tools
    .map(tool => [name, tool.textContent.trim(), tool.getBoundingClientRect()])
    .filter(([, , b]) => !(b.right <= t.left || t.right <= b.left || b.bottom <= t.top || t.bottom <= b.top))
    .map(([title, tool]) => `${tool} over ${title}`));
}"""


@pytest.fixture
def task_with_a_running_run(transactional_db):
    user = User.objects.create_user("mel", password="pw", is_staff=True)
    Group.objects.get(name=roles.ML_ENGINEER).user_set.add(user)
    first = version_create(status="retired")
    active = version_create(status="active", previous=first)
    version_create()
    audit_create(active, timezone.now() - timedelta(hours=2), label_psi=0.04, embedding_psi=0.08)
    audit_create(active, timezone.now() - timedelta(hours=1), label_psi=0.06, embedding_psi=0.12)
    return running_run(step=30, total_steps=120, seconds_in=60)


def test_an_engineer_opens_the_task_then_its_running_run_and_sees_the_loss_curve_with_axes(
    site, task_with_a_running_run, any_page
):
    page, run = any_page, task_with_a_running_run
    shot = f"admin-training-{page.size}"

    page.goto(f"{site.url}/admin/login/?next=/admin/training/modelversion/task/{TASK}/")
    page.fill("#id_username", "mel")
    page.fill("#id_password", "pw")
    page.click("input[type=submit], button[type=submit]")
    assert page.locator("#content h1").inner_text() == f"Task {TASK}"
    assert [th.inner_text() for th in page.locator("table.versions tr").first.locator("th a").all()] == [
        "v3",
        "v2",
        "v1",
    ]
    assert page.locator("button[name=rollback]").inner_text() == "Roll back to v1"
    assert page.locator('.drift svg[aria-label="drift audits"]').is_visible()
    assert page.evaluate(OVERLAPS) == []
    assert fits_width(page), "the task page scrolls sideways"
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-task.png"), full_page=True)

    page.goto(f"{site.url}/admin/training/modelversion/")
    assert page.locator("#result_list a", has_text="v2").count() == 1
    assert page.evaluate(OVERLAPS) == []
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-versions.png"), full_page=True)

    page.go_back()
    page.click(f"text=run {run.pk}")
    curve = page.locator('#run-progress svg[aria-label="training loss"]')
    curve.wait_for()
    texts = curve.locator("text").all_text_contents()
    assert {"step", "loss", "train loss", "validation loss", "0.00"} <= set(texts)
    assert "step 30 of 120 (25%)" in page.locator(".run-state").inner_text()
    assert page.locator(".run-left").inner_text().startswith("about ")
    with page.expect_request(lambda request: "progress=1" in request.url, timeout=5_000):
        pass  # the page asks for its progress again, without reloading
    assert page.evaluate(OVERLAPS) == []
    assert fits_width(page), "the run page scrolls sideways"
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-run.png"), full_page=True)
