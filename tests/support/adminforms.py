"""The form data the admin's workflow page posts: the workflow and its stage rows."""

from html.parser import HTMLParser

from orders.models import Workflow

STAGE_FIELDS = ("name_ru", "name_en", "text_ru", "text_en", "expected_minutes")


def workflow_form(workflow: Workflow, positions: dict[int, int] | None = None, **changes) -> dict:
    """`positions`: new positions by stage pk; `changes`: the workflow's own fields."""
    stages = list(workflow.stages.all())
    data = {
        "shop": workflow.shop_id,
        "key": workflow.key,
        "name_ru": workflow.name_ru,
        "name_en": workflow.name_en,
        "aftercare_ru": workflow.aftercare_ru,
        "aftercare_en": workflow.aftercare_en,
        **changes,
        "stages-TOTAL_FORMS": len(stages),
        "stages-INITIAL_FORMS": len(stages),
        "stages-MIN_NUM_FORMS": 0,
        "stages-MAX_NUM_FORMS": 1000,
    }
    for i, stage in enumerate(stages):
        data[f"stages-{i}-id"] = stage.pk
        data[f"stages-{i}-workflow"] = workflow.pk
        data[f"stages-{i}-position"] = (positions or {}).get(stage.pk, stage.position)
        data.update({f"stages-{i}-{name}": getattr(stage, name) for name in STAGE_FIELDS})
    return data


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values[name] = a.get("value") or ("on" if a.get("type") == "checkbox" else "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    """What a browser would post from the page's form as it stands."""
    parser = _Fields()
    parser.feed(html)
    return {k: v for k, v in parser.values.items() if "__prefix__" not in k}
