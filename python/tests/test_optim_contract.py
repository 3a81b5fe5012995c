"""optim.py against the config schema (mlx.schema.json, generated from the zod schema and kept fresh by
mlx's tests): every optimiser and schedule the schema offers is built, from exactly the fields the schema
gives it, and the fields reach torch; a name the schema does not know is refused."""

import json
from pathlib import Path

import pytest
import torch

from mlx_runtime import build_optimizer, build_scheduler

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "mlx.schema.json").read_text())
TASKS = [branch for branch in SCHEMA["oneOf"] if "optim" in branch["properties"]]
# Values for the fields the schema leaves without a default (the resolved config has them).
WITHOUT_DEFAULT = {"milestones": [2, 4], "max_lr": 0.1}
# Fields of a schedule that the training loop reads, not optim.py.
READ_BY_THE_LOOP = {"monitor"}


def variants(section: str) -> dict[str, dict]:
    return {option["properties"]["name"]["const"]: option["properties"] for option in TASKS[0]["properties"][section]["oneOf"]}


class Recorded(dict):
    """A config section that remembers which fields were read."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


def section(properties: dict) -> Recorded:
    values = {key: field.get("default", WITHOUT_DEFAULT.get(key)) for key, field in properties.items()}
    values["name"] = properties["name"]["const"]
    if values.get("mode") == "auto":
        values["mode"] = "min"  # the resolved config decides auto from metrics.goal
    return Recorded(values)


def test_every_task_offers_the_same_optimisers_and_schedules():
    for name in ("optim", "scheduler"):
        assert all(task["properties"][name] == TASKS[0]["properties"][name] for task in TASKS)
    assert len(TASKS) >= 6


@pytest.mark.parametrize("name", sorted(variants("optim")))
def test_an_optimiser_is_built_from_exactly_its_schema_fields(name):
    config = section(variants("optim")[name])
    optimizer = build_optimizer(config, [torch.nn.Parameter(torch.zeros(2))])
    assert config.read == set(config)
    group = optimizer.param_groups[0]
    for key, value in config.items():
        if key != "name":
            assert group[key] == (tuple(value) if isinstance(value, list) else value), key


@pytest.mark.parametrize("name", sorted(variants("scheduler")))
def test_a_schedule_is_built_from_exactly_its_schema_fields(name):
    config = section(variants("scheduler")[name])
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    scheduler, when = build_scheduler(config, optimizer, base_lr=0.1, steps_per_epoch=10, total_steps=100)
    assert config.read == set(config) - READ_BY_THE_LOOP
    assert when in ("step", "epoch", "eval")
    assert hasattr(scheduler, "step")


def test_names_the_schema_does_not_know_are_refused():
    with pytest.raises(ValueError, match="unknown optimiser"):
        build_optimizer({"name": "lion", "lr": 0.1}, [torch.nn.Parameter(torch.zeros(2))])
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="unknown scheduler"):
        build_scheduler({"name": "linear"}, optimizer, 0.1, 10, 100)
