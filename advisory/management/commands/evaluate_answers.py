"""Ask the cases of a JSONL file as an advisor would and check each answer's facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from advisory.evaluation import CASES, answer_cases, answers_evaluate
from assistant.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Answer each case of FILE (JSONL: question, scope, collections, client, expect, forbid) and "
        "report which expected facts are missing and which forbidden ones appear; stores nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            type=Path,
            nargs="?",
            default=CASES,
            help="the cases (default: the demo knowledge's cases)",
        )
        parser.add_argument("--json", type=Path, help="also write the report (with pass_rate) to this file")
        parser.add_argument(
            "--backend",
            choices=settings.GENERATION_BACKENDS,
            help="answer with this backend, not the configured one",
        )
        parser.add_argument("--advisor", help="ask every case as this user (default: as an advisor would)")

    def handle(self, *args: Any, **options: Any) -> None:
        advisor = None
        if options["advisor"]:
            advisor = User.objects.filter(username=options["advisor"]).first()
            if advisor is None:
                raise CommandError(f"--advisor: no user {options['advisor']!r}")
        try:
            cases = answer_cases(options["file"])
            report = answers_evaluate(cases, backend=options["backend"], advisor=advisor)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        for case in report.cases:
            if not case.passed:
                self.stdout.write(f"FAIL line {case.line}: {case.question}")
                for fact in case.missing:
                    self.stdout.write(f"  missing: {fact}")
                for fact in case.forbidden:
                    self.stdout.write(f"  forbidden: {fact}")
                self.stdout.write(f"  answer: {case.answer}")
        summary = report.summary()
        self.stdout.write(
            f"{summary['backend']}: {summary['passed']}/{summary['cases']} cases passed "
            f"(pass_rate {summary['pass_rate']:.3f}); expected facts found {summary['expect_rate']:.3f} "
            f"of {summary['expect_checks']}; forbidden facts kept out {summary['forbid_rate']:.3f} "
            f"of {summary['forbid_checks']}"
        )
        if options["json"]:
            options["json"].write_text(json.dumps(report.as_dict(), indent=2) + "\n")
