"""``xinyue seed-demo`` (what ``make run`` loads): every app's ``demo.seed`` step runs, twice."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from xinyue.orders.demo import DEMO_BUDGET_FEN
from xinyue.orders.models import BudgetPeriod
from xinyue.orders.selectors import budget_summary, current_budget_period


@pytest.mark.django_db
@pytest.mark.slow
def test_seed_demo_runs_every_step_and_is_safe_to_run_again(zhejiang, categories):
    out = io.StringIO()
    call_command("seed-demo", "--titles", "0", stdout=out)
    call_command("seed-demo", "--titles", "0", stdout=out)
    text = out.getvalue()
    assert text.count("operator") >= 2  # the credentials table, printed by each run
    period = current_budget_period()
    assert period is not None
    assert BudgetPeriod.objects.count() == 1  # the second run opened no second budget
    # topped up once; the demo orders (orders/demo.py) hold or spent some of it
    assert budget_summary(period=period)["topped_up_fen"] == DEMO_BUDGET_FEN
