from __future__ import annotations

from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from assistant.core.crosslingual import DEFAULT_STRENGTH, fit_query_translation
from assistant.core.e5 import MULTILINGUAL_MODEL
from assistant.core.encoder import languages, model_checked
from assistant.core.errors import ApplicationError
from assistant.core.language import LANGUAGES, Language


class Command(BaseCommand):
    help = (
        "Fit what lets questions in one language search documents in another: the map of a "
        "multilingual model's question vectors and the word table for full-text search, from the "
        "parallel questions that ship with the project. Searches use them from then on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", default=MULTILINGUAL_MODEL)
        parser.add_argument("--source", default="zh", choices=LANGUAGES, help="the questions' language")
        parser.add_argument("--target", default="en", choices=LANGUAGES, help="the documents' language")
        parser.add_argument(
            "--strength",
            type=float,
            default=DEFAULT_STRENGTH,
            help="how firmly the vector map is held to the identity",
        )

    def handle(
        self, *args: Any, model: str, source: str, target: str, strength: float, **options: Any
    ) -> None:
        try:
            model_checked(model)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        if not {source, target} <= set(languages(model)):
            raise CommandError(
                f"{model} does not read both {source} and {target}: the map needs a multilingual model"
            )
        bars: dict[str, tqdm[None]] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                for finished in bars.values():
                    finished.close()
                bars[stage] = tqdm(total=total, desc=stage, file=self.stderr._out)
            bars[stage].update(done - bars[stage].n)

        try:
            vectors, words = fit_query_translation(
                model,
                source=cast(Language, source),
                target=cast(Language, target),
                strength=strength,
                on_progress=progress,
            )
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(
            f"{vectors.model}: {source} questions search {target} documents through the map, and full-text "
            f"search through {len(words.translations)} translated words"
        )
