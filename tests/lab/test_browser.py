"""An ML engineer starts a study in a real Chromium, follows it, and reads its recommendation and plots."""

import pytest
from django.contrib.auth.models import Group, User

from assistant.core import roles
from tests.conftest import SCREENSHOTS
from tests.support.training import TOPIC_TASK

pytestmark = pytest.mark.browser


@pytest.fixture
def lab_engineer(transactional_db):
    user = User.objects.create_user("lee", password="pw")
    Group.objects.get(name=roles.ML_ENGINEER).user_set.add(user)
    return user


def test_an_engineer_starts_a_study_and_sees_its_plots(
    site, test_queue, start_worker, settings, tiny_model, tmp_path, lab_engineer, browser_page
):
    start_worker(
        test_queue,
        FINASSIST_TRAINING_BASE_MODEL=tiny_model,
        FINASSIST_MODELS_DIR=str(settings.MODELS_DIR),
        FINASSIST_DATASETS_DIR=str(tmp_path / "no-datasets"),
    )
    page = browser_page

    page.goto(f"{site.url}/accounts/login/?next=/lab/")
    page.fill("#id_username", "lee")
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.select_option("#id_task", TOPIC_TASK.name)
    for box in page.locator("input[name=techniques]").all():
        box.set_checked(box.get_attribute("value") in ("zero-shot", "knn", "tfidf"))
    page.fill("#id_min_accuracy", "0.3")
    page.click("button:has-text('Start the study')")

    page.locator("#progress").wait_for(timeout=10_000)
    page.locator("#recommendation").wait_for(timeout=180_000)
    assert page.locator("#plot-accuracy-latency svg circle").count() == 3
    assert page.locator("#plot-curves svg polyline").count() >= 1
    assert page.locator("#plot-updates svg rect").count() == 3
    assert "Recommendation:" in page.locator("#recommendation h2").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "lab-study.png"), full_page=True)

    page.fill("#answers-form input[name=latency_budget_ms]", "0.1")
    page.click("button:has-text('Recommend again')")
    assert "no technique meets every constraint" in page.locator("#recommendation").inner_text().lower()
