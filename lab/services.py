"""Studies: each technique fitted by the platform on the same splits and subsamples, measured where
it is served, scored once on a test split the study reserves, and a recommendation made.

A study plans its training runs when it is created: for each technique its main version, a
version at each point of the learning curve, and for the update cost a version without one label
(then, for techniques that refit, one with that label's first examples). An arm (one technique)
fits its runs one after another on the worker its technique needs (`lab.train` on the gpu queue
for fine-tuning, `lab.fit` on inference), then is measured on an inference worker (`lab.measure`);
the last arm to finish has the study scored on its test split (`lab.finish`).
"""

from __future__ import annotations

import logging
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assistant.core.errors import ApplicationError
from assistant.training.config import FINE_TUNING, METHODS
from assistant.training.data import Narrowing, Splits
from assistant.training.models import TrainingRun
from assistant.training.registry import Example, task_get
from assistant.training.services import (
    RETRIEVING,
    evaluate_examples,
    examples_add,
    run_cancel,
    run_execute,
    run_submit,
    sampled,
    version_activate,
)
from lab.dispatch import arm_fit_later, arm_measure_later, study_finish_later
from lab.models import FINISHED, Arm, ArmRun, Status, Study
from lab.recommend import Answers, Recommendation, Row, recommend

logger = logging.getLogger("finassist.lab")

# qlora needs a CUDA worker: a study runs it only when asked.
DEFAULT_TECHNIQUES = tuple(method for method in METHODS if method != "qlora")
CURVE_SIZES = (8, 32, 128)
UPDATE_EXAMPLES = 16
TEST_SHARE = 0.15
ICL_EVALUATION_LIMIT = 50  # texts an icl version is scored on per split, in a study
# Each icl prediction is a generation (seconds on a CPU): fewer texts time it.
SPEED_TEXTS = {"icl": {"singles": 10, "batch_texts": 32}}
UPDATE_HOW = {"zero-shot": "none", "knn": "insert", "icl": "insert", "probe": "refit", "tfidf": "refit"}


# The purposes of an arm's runs, as stored (keys of the arm's runs by purpose and curve size).
MAIN, CURVE = ArmRun.Purpose.MAIN.value, ArmRun.Purpose.CURVE.value
BEFORE, AFTER = ArmRun.Purpose.UPDATE_BEFORE.value, ArmRun.Purpose.UPDATE_AFTER.value


def update_how(technique: str) -> str:
    return UPDATE_HOW.get(technique, "retrain")


class StudyError(ApplicationError):
    pass


def study_create(
    *,
    task: str,
    techniques: list[str] | None = None,
    answers: dict[str, Any] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    curve_sizes: tuple[int, ...] = CURVE_SIZES,
    seed: int = 42,
    user: User | None = None,
    dispatch: bool = True,
) -> Study:
    """Validate and plan a study; with `dispatch`, send each arm to its workers.

    `options` holds training options per technique (epochs for lora, say), checked as a run's are.
    """
    spec = task_get(task)
    chosen = list(dict.fromkeys(techniques or DEFAULT_TECHNIQUES))
    unknown = [t for t in chosen if t not in METHODS]
    if unknown:
        raise StudyError(
            f"unknown techniques: {', '.join(unknown)} (known: {', '.join(METHODS)})", field="techniques"
        )
    options = options or {}
    if stray := sorted(set(options) - set(chosen)):
        raise StudyError(
            f"options for techniques the study does not compare: {', '.join(stray)}", field="options"
        )
    checked = Answers.build(answers or {})
    if dispatch and settings.CELERY_TASK_ALWAYS_EAGER:
        raise StudyError(
            "a study runs on Celery workers and none is connected (tasks run in-process); start a broker "
            "and worker, or use `manage.py compare_techniques`"
        )
    splits = Splits.of(spec.examples()).narrowed(Narrowing(test_share=TEST_SHARE, seed=seed))
    counts = Counter(example.label for example in splits.train)
    candidates = sorted(label for label, count in counts.items() if count >= UPDATE_EXAMPLES)
    if not candidates:
        raise StudyError(f"no label has {UPDATE_EXAMPLES} training examples to measure an update with")
    held_out = random.Random(seed).choice(candidates)
    sizes = tuple(size for size in sorted(set(curve_sizes)) if 0 < size < max(counts.values()))
    with transaction.atomic():
        study = Study.objects.create(
            task=spec.name,
            techniques=chosen,
            answers=checked.as_dict(),
            seed=seed,
            test_share=TEST_SHARE,
            held_out_label=held_out,
            update_examples=UPDATE_EXAMPLES,
            curve_sizes=list(sizes),
            plan={
                "labels": len(spec.labels),
                "training_examples": len(splits.train),
                "examples_per_label": {
                    "median": int(statistics.median(counts.values())),
                    "min": min(counts.values()),
                    "max": max(counts.values()),
                },
            },
            created_by=user if user is not None and user.is_authenticated else None,
        )
        for technique in chosen:
            arm = Arm.objects.create(study=study, technique=technique)
            defaults = {"evaluation_limit": ICL_EVALUATION_LIMIT} if technique == "icl" else {}
            for purpose, per_label, extra in _plan(study, technique):
                given = {**defaults, **options.get(technique, {}), **extra}
                run = run_submit(task=spec.name, options=given, user=user, dispatch=False)
                ArmRun.objects.create(arm=arm, run=run, purpose=purpose, per_label=per_label)
            if dispatch:
                arm_fit_later(arm.pk, fine_tuning=technique in FINE_TUNING)
    logger.info("study %s of %s: %s; label %r held out", study.pk, spec.name, ", ".join(chosen), held_out)
    return study


def _plan(study: Study, technique: str) -> list[tuple[str, int, dict[str, Any]]]:
    """(purpose, examples a label, training options) of each run the arm fits, in order."""
    base: dict[str, Any] = {"method": technique, "test_share": study.test_share, "seed": study.seed}
    plan = [(MAIN, 0, base)]
    if technique == "zero-shot":  # it uses no examples: no curve, and a new label needs only its name
        return plan
    plan += [(CURVE, size, {**base, "per_label": size}) for size in study.curve_sizes]
    held = {**base, "held_out_label": study.held_out_label}
    plan.append((BEFORE, 0, {**held, "held_out_keep": 0}))
    if technique not in RETRIEVING:
        plan.append((AFTER, 0, {**held, "held_out_keep": study.update_examples}))
    return plan


# Fitting and measuring (workers) -----------------------------------------------------------------


# What a step of an arm leads to; BUSY: another worker is fitting the arm's current run and
# carries the arm on (a message delivered twice, or sent again by the sweep).
FITTED, ENDED, STUDY_DONE, BUSY = "fitted", "ended", "study-done", "busy"
MEASURING = "measuring"


def arm_start(arm_id: int) -> Arm | None:
    """Mark an arm (and its study) running; None where it has ended already."""
    with transaction.atomic():
        arm = Arm.objects.select_for_update().select_related("study").get(pk=arm_id)
        if arm.status in FINISHED:
            return None
        arm.status, arm.started_at = Status.RUNNING, arm.started_at or timezone.now()
        arm.progressed_at = timezone.now()
        arm.save(update_fields=["status", "started_at", "progressed_at"])
        Study.objects.filter(pk=arm.study_id, status=Status.QUEUED).update(status=Status.RUNNING)
    return arm


def arm_fit(arm_id: int, *, on_stage: Callable[[str], None] | None = None) -> str:
    """Fit the arm's runs in order (a run left running by a lost worker starts again): FITTED
    (measure it next), ENDED (failed or cancelled), STUDY_DONE (it was the study's last arm), or
    BUSY."""
    arm = arm_start(arm_id)
    if arm is None:
        return ENDED
    for planned in arm.runs.select_related("run"):
        if planned.run.status == TrainingRun.Status.SUCCEEDED:
            continue
        if Study.objects.filter(pk=arm.study_id, cancel_requested=True).exists():
            return arm_end(arm, Status.CANCELLED)
        arm_stage(arm.pk, _stage(planned))
        if on_stage is not None:
            on_stage(_stage(planned))
        run = run_execute(planned.run_id, restart_interrupted=True)
        if run.status == TrainingRun.Status.RUNNING:
            return BUSY
        if run.status == TrainingRun.Status.CANCELLED:
            return arm_end(arm, Status.CANCELLED)
        if run.status != TrainingRun.Status.SUCCEEDED:
            return arm_end(arm, Status.FAILED, error=f"{_stage(planned)} (run {run.pk}): {run.error}")
    arm_stage(arm.pk, MEASURING)
    return FITTED


def arm_stage(arm_id: int, stage: str) -> None:
    """Record what the arm is doing now, and when it last moved (the stale-work sweep reads it)."""
    Arm.objects.filter(pk=arm_id).update(stage=stage[:40], progressed_at=timezone.now())


def arms_requeue_stale() -> int:
    """Send again the arms a dead worker left running, and the finish of studies whose arms all
    ended without one, where nothing has moved for TRAINING_REQUEUE_AFTER_S. A fitting arm resumes
    at its first unfinished run, a measuring one is measured again; a duplicate finds the work
    taken (BUSY) or done."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.TRAINING_REQUEUE_AFTER_S)
    moving = TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, progressed_at__gte=cutoff)
    arms = list(
        Arm.objects.filter(status=Status.RUNNING, progressed_at__lt=cutoff)
        .exclude(runs__run__in=moving)
        .values_list("pk", "technique", "stage")[:100]
    )
    Arm.objects.filter(pk__in=[pk for pk, _, _ in arms]).update(progressed_at=now)
    for pk, technique, stage in arms:
        if stage == MEASURING:
            arm_measure_later(pk)
        else:
            arm_fit_later(pk, fine_tuning=technique in FINE_TUNING)
    unfinished = Study.objects.filter(status=Status.RUNNING).exclude(
        arms__status__in=[Status.QUEUED, Status.RUNNING]
    )
    studies = list(unfinished.exclude(arms__finished_at__gte=cutoff).values_list("pk", flat=True)[:100])
    for pk in studies:
        study_finish_later(pk)
    if arms or studies:
        logger.warning("re-sent %d stalled arm(s) and %d unfinished stud(ies)", len(arms), len(studies))
    return len(arms) + len(studies)


def _stage(planned: ArmRun) -> str:
    if planned.purpose == ArmRun.Purpose.CURVE:
        return f"curve: {planned.per_label} a label"
    return planned.purpose


def arm_measure(arm_id: int) -> str:
    """Measure a fitted arm where it is served (speed, update cost, forgetting): ENDED, or
    STUDY_DONE where it was the study's last arm."""
    from assistant.training.costs import serving_speed
    from assistant.training.techniques import predictor_load
    from lab.measure import forgetting

    arm = Arm.objects.select_related("study").get(pk=arm_id)
    if arm.status in FINISHED:
        return ENDED
    study = arm.study
    if study.cancel_requested:
        return arm_end(arm, Status.CANCELLED)
    runs = {(str(p.purpose), p.per_label): p for p in arm.runs.select_related("run__model_version")}
    main = runs[(MAIN, 0)].run.model_version
    splits = study_splits(study)
    predictor = predictor_load(Path(main.artefact_path), expected_checksum=main.artefact_checksum)
    results: dict[str, Any] = {
        "version": main.pk,
        "validation": quality(main.metrics),
        "cost": {
            "fit_seconds": main.fit_seconds,
            "fit_device": main.fit_device,
            "artefact_bytes": main.artefact_bytes,
            "peak_memory_bytes": main.peak_memory_bytes,
            **{
                k: v
                for k, v in main.metrics.items()
                if k.startswith(("prompt_tokens", "completion_tokens", "call_"))
            },
        },
        "speed": serving_speed(
            predictor.scores, [e.text for e in splits.validation], **SPEED_TEXTS.get(arm.technique, {})
        ),
        "curve": [
            {
                "per_label": p.per_label,
                "train": p.run.dataset_sizes.get("train"),
                **quality(p.run.model_version.metrics),
            }
            for p in runs.values()
            if p.purpose == CURVE
        ]
        + [
            {"per_label": 0, "train": runs[(MAIN, 0)].run.dataset_sizes.get("train"), **quality(main.metrics)}
        ],
    }
    results["update"] = _update(study, arm.technique, runs, splits, main)
    if arm.technique in FINE_TUNING:
        results["forgetting"] = forgetting(predictor, main.base_model)
    Arm.objects.filter(pk=arm.pk).update(results=results)
    return arm_end(arm, Status.SUCCEEDED)


def quality(metrics: dict[str, Any]) -> dict[str, Any]:
    """Accuracy, macro-F1, worst-class F1, ECE and coverage at the abstain threshold."""
    present = [c["f1"] for c in metrics["per_class"].values() if c["support"]]
    abstain = metrics["abstain"]
    return {
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "worst_f1": round(min(present), 4) if present else 0.0,
        "ece": metrics["ece"],
        "coverage": abstain.get("on_validation", abstain)["coverage"],
        "examples": metrics["examples"],
    }


def study_splits(study: Study) -> Splits:
    return Splits.of(task_get(study.task).examples()).narrowed(
        Narrowing(test_share=study.test_share, seed=study.seed)
    )


def _update(
    study: Study, technique: str, runs: dict[tuple[str, int], ArmRun], splits: Splits, main: Any
) -> dict[str, Any]:
    """Seconds until served predictions use a label the technique had no examples of, once given
    `update_examples` of them, and its F1 on that label before and after."""
    label, how = study.held_out_label, update_how(technique)
    result: dict[str, Any] = {"label": label, "how": how, "examples": study.update_examples}
    if how == "none":
        f1 = main.metrics["per_class"][label]["f1"]
        return {**result, "examples": 0, "seconds": 0.0, "f1_before": f1, "f1_after": f1}
    before = runs[(BEFORE, 0)].run.model_version
    result["f1_before"] = before.metrics["per_class"][label]["f1"]
    if how == "insert":
        from assistant.training.techniques import predictor_load

        added = _first_examples(study, splits, label)
        started = time.perf_counter()
        examples_add(before, added)
        before.refresh_from_db()
        predictor = predictor_load(Path(before.artefact_path), expected_checksum=before.artefact_checksum)
        predictor.scores([added[0].text])
        result["seconds"] = round(time.perf_counter() - started, 3)
        limit, seed = before.config.get("evaluation_limit", 0), before.config.get("seed", 0)
        scored = evaluate_examples(
            predictor, sampled(splits.validation, limit, seed), threshold=before.abstain_threshold
        )
        result["f1_after"] = scored["per_class"][label]["f1"]
        return result
    after = runs[(AFTER, 0)].run.model_version
    return {**result, "seconds": after.fit_seconds, "f1_after": after.metrics["per_class"][label]["f1"]}


def _first_examples(study: Study, splits: Splits, label: str) -> list[Example]:
    """The held-out label's examples a refitting technique is given: the same ones for all."""
    kept = splits.narrowed(
        Narrowing(held_out_label=label, held_out_keep=study.update_examples, seed=study.seed)
    ).train
    return [example for example in kept if example.label == label]


def arm_end(arm: Arm, status: str, *, error: str = "") -> str:
    """Record how the arm ended: ENDED, or STUDY_DONE where it was the study's last to."""
    with transaction.atomic():
        Study.objects.select_for_update().get(pk=arm.study_id)  # one arm at a time decides "last"
        Arm.objects.filter(pk=arm.pk).update(status=status, error=error, stage="", finished_at=timezone.now())
        pending = Arm.objects.filter(study_id=arm.study_id).exclude(status__in=FINISHED).exists()
    return ENDED if pending else STUDY_DONE


def arm_failed(arm_id: int, reason: str) -> str:
    """A worker gave up on the arm (its task failed for good)."""
    arm = Arm.objects.get(pk=arm_id)
    return ENDED if arm.status in FINISHED else arm_end(arm, Status.FAILED, error=reason)


def study_finish(study_id: int) -> Study:
    """Score each arm's main version on the test split (once) and recommend."""
    from assistant.training.techniques import predictor_load

    study = Study.objects.get(pk=study_id)
    if study.status in FINISHED:
        return study
    tested: dict[str, Any] = {}
    if study.kind == Study.Kind.KNOWLEDGE:  # its arms were scored on the test questions already
        tested = {arm.technique: arm.results["test"] for arm in study.arms.filter(status=Status.SUCCEEDED)}
        examples_tested = sum(q["split"] == "test" for q in study.plan["questions"])
    else:
        splits = study_splits(study)
        examples_tested = len(splits.test)
        for arm in study.arms.filter(status=Status.SUCCEEDED):
            version = arm.runs.get(purpose=ArmRun.Purpose.MAIN).run.model_version
            predictor = predictor_load(
                Path(version.artefact_path), expected_checksum=version.artefact_checksum
            )
            examples = sampled(splits.test, version.config.get("evaluation_limit", 0), study.seed)
            tested[arm.technique] = quality(
                evaluate_examples(predictor, examples, threshold=version.abstain_threshold)
            )
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study_id)
        if study.status in FINISHED:  # cancelled meanwhile
            return study
        study.results = {"test": tested, "test_examples": examples_tested}
        study.status = Status.SUCCEEDED if tested else Status.FAILED
        study.error = "" if tested else "no technique finished: see each one's error"
        study.finished_at = timezone.now()
        study.save(update_fields=["results", "status", "error", "finished_at"])
    logger.info("study %s of %s %s", study.pk, study.task, study.status)
    return study


# People's actions --------------------------------------------------------------------------------


def study_cancel(study: Study) -> Study:
    """Stop a study: queued runs are cancelled at once, a running one at its next progress report."""
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        if study.status in FINISHED:
            return study
        study.cancel_requested, study.status, study.finished_at = True, Status.CANCELLED, timezone.now()
        study.save(update_fields=["cancel_requested", "status", "finished_at"])
        for planned in ArmRun.objects.filter(arm__study=study).select_related("run"):
            if planned.run.status in (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING):
                run_cancel(planned.run)
        study.arms.filter(status=Status.QUEUED).update(status=Status.CANCELLED, finished_at=timezone.now())
    return study


def answers_set(study: Study, given: dict[str, Any]) -> Study:
    """Change the questionnaire's answers: the recommendation follows at once (nothing is refitted)."""
    checked = Answers.build({**study.answers, **given})
    study.answers = checked.as_dict()
    study.save(update_fields=["answers"])
    return study


def recommendation(study: Study) -> Recommendation:
    return recommend(rows(study), Answers.build(study.answers))


def rows(study: Study) -> list[Row]:
    """Each measured technique's figures, with the test split's accuracy where it has been scored."""
    tested = study.results.get("test", {})
    found = []
    for arm in study.arms.filter(status=Status.SUCCEEDED):
        result = arm.results
        if study.kind == Study.Kind.KNOWLEDGE:
            found.append(_knowledge_row(arm.technique, result))
            continue
        scored = tested.get(arm.technique, result["validation"])
        found.append(
            Row(
                technique=arm.technique,
                accuracy=scored["accuracy"],
                macro_f1=scored["macro_f1"],
                p50_ms=result["speed"]["p50_ms"],
                p95_ms=result["speed"]["p95_ms"],
                fit_seconds=result["cost"]["fit_seconds"] or 0.0,
                update_seconds=result["update"]["seconds"] or 0.0,
                update_how=result["update"]["how"],
                curve={point["per_label"]: point["accuracy"] for point in result["curve"]},
                forgetting_change=result.get("forgetting", {}).get("change"),
                version=result["version"],
            )
        )
    return found


def _knowledge_row(technique: str, result: dict[str, Any]) -> Row:
    """A knowledge study's technique as the recommendation reads it: top-1 as its accuracy, nDCG@10
    in place of macro-F1, the seconds until it serves the changed entries as its update."""
    return Row(
        technique=technique,
        accuracy=result["test"]["top1"],
        macro_f1=result["test"]["ndcg@10"],
        p50_ms=result["speed"]["p50_ms"],
        p95_ms=result["speed"]["p95_ms"],
        fit_seconds=result["cost"]["fit_seconds"] or 0.0,
        update_seconds=result["freshness"]["seconds"],
        update_how=result["freshness"]["how"],
        forgetting_change=result.get("forgetting", {}).get("change"),
    )


def study_adopt(study: Study, *, user: User | None = None) -> Any:
    """Activate the recommended technique's version for the task (through the registry)."""
    from assistant.training.models import ModelVersion

    chosen = recommendation(study)
    if study.kind == Study.Kind.KNOWLEDGE:
        raise StudyError(
            "a knowledge study compares ways of answering from a collection; it has no version to adopt",
            field="study",
        )
    if study.status != Status.SUCCEEDED or chosen.version is None:
        raise StudyError("only a finished study with a recommendation can be adopted", field="study")
    version = ModelVersion.objects.get(pk=chosen.version)
    return version_activate(version, user=user)
