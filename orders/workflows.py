"""Editing a workflow's stages safely, wherever it is edited (the console, the admin).

Positions are unique within a workflow, so a swap saved stage by stage would collide
half-way. Every edit first moves the stages out of the way (above ROOM), saves, then
numbers them 1, 2, 3… in their new order. Open orders keep their stage (they point
at the stage, not its position); their next stage is whatever follows it now.
"""

from django.db import transaction
from django.db.models import F

from .models import Stage, Workflow, stages_changed

# What an owner edits of a stage (its position is changed by moving it).
STAGE_FIELDS = (
    "name_ru",
    "name_en",
    "text_ru",
    "text_en",
    "expected_minutes",
    "notify",
    "waits_for_customer",
)

ROOM = 10_000  # above any real position (forms refuse more than MAX_POSITION)
MAX_POSITION = 999


def make_room(workflow: Workflow) -> None:
    Stage.objects.filter(workflow=workflow, position__lt=ROOM).update(position=F("position") + ROOM)
    stages_changed(workflow.pk)


def settle(workflow: Workflow, order: list[int] | None = None) -> None:
    """Number the workflow's stages 1, 2, 3… in `order` (stage pks), or in the order
    their positions give (a stage left out of the way counts as it was)."""
    stages = list(Stage.objects.filter(workflow=workflow))
    if order is None:
        stages.sort(key=lambda s: (s.position % ROOM, s.position < ROOM))
    else:
        rank = {pk: n for n, pk in enumerate(order)}
        stages.sort(key=lambda s: (rank.get(s.pk, len(rank)), s.position % ROOM))
    make_room(workflow)
    for number, stage in enumerate(stages, start=1):
        stage.position = number
    Stage.objects.bulk_update(stages, ["position"])
    stages_changed(workflow.pk)


@transaction.atomic
def reorder(workflow: Workflow, order: list[int]) -> None:
    """Put the workflow's stages in this order (stage pks; others follow)."""
    settle(workflow, order)


@transaction.atomic
def move(stage: Stage, step: int) -> None:
    """Move a stage up (step -1) or down (+1); at either end it stays."""
    pks = list(Stage.objects.filter(workflow_id=stage.workflow_id).values_list("pk", flat=True))
    at = pks.index(stage.pk)
    to = min(max(at + step, 0), len(pks) - 1)
    pks.insert(to, pks.pop(at))
    settle(stage.workflow, pks)
