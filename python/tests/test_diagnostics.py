"""mlx_runtime.diagnostics: gradient histograms and norms read back with TensorBoard's own reader, their
warnings said once per layer, the embedding map and its projector data, the worst samples."""

import json

import pytest
import torch
from google.protobuf import text_format
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from torch import nn

from mlx_runtime.diagnostics import ANALYSIS_OFF, GradientWatch, save_embedding, save_worst_samples
from mlx_runtime.metrics import MetricsWriter


def analysis(**fields) -> dict:
    return {**ANALYSIS_OFF, **fields}


def train(model, watch, steps: int, scale: float = 1.0) -> None:
    for step in range(1, steps + 1):
        loss = model(torch.randn(4, 3)).pow(2).mean() * scale
        loss.backward()
        watch.after_backward(step)
        model.zero_grad()


def events(tmp_path) -> list:
    return [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]


def test_histograms_and_norms_in_tensorboard_every_n_steps(tmp_path):
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    with MetricsWriter(path=str(tmp_path / "metrics.jsonl"), tensorboard_dir=tmp_path) as metrics:
        train(model, GradientWatch(model, analysis(histograms_every=2), metrics, enabled=True), 5)
    board = EventAccumulator(str(tmp_path), size_guidance={"histograms": 0, "scalars": 0})
    board.Reload()
    tags = board.Tags()
    assert {"weights/0.weight", "gradients/0.weight", "weights/2.bias", "gradients/2.bias"} <= set(tags["histograms"])
    assert [event.step for event in board.Histograms("gradients/0.weight")] == [2, 4]
    assert board.Histograms("weights/0.weight")[0].histogram_value.num == 15
    assert [event.step for event in board.Scalars("grad_norm/2.weight")] == [2, 4]
    assert not [line for line in events(tmp_path) if line.get("event") == "warning"]


@pytest.mark.parametrize(("scale", "kind"), [(1e-12, "vanishing"), (1e9, "exploding")])
def test_a_vanishing_or_exploding_norm_is_warned_of_once_per_layer(tmp_path, capsys, scale, kind):
    model = nn.Linear(3, 2)
    with MetricsWriter(path=str(tmp_path / "metrics.jsonl")) as metrics:
        train(model, GradientWatch(model, analysis(histograms_every=1), metrics, enabled=True), 3, scale=scale)
    warnings = [line for line in events(tmp_path) if line.get("event") == "warning"]
    assert sorted(w["layer"] for w in warnings) == ["bias", "weight"]  # once each, over three steps
    assert all(w["kind"] == kind and w["step"] == 1 for w in warnings)
    assert f"{kind} gradient: layer weight" in capsys.readouterr().err


def test_off_writes_nothing(tmp_path):
    model = nn.Linear(3, 2)
    with MetricsWriter(path=str(tmp_path / "metrics.jsonl"), tensorboard_dir=tmp_path) as metrics:
        train(model, GradientWatch(model, analysis(), metrics, enabled=True), 3, scale=1e-12)
        save_embedding(model, lambda count, first: (torch.randn(count, 3),), 50, [0] * 50, ["a"], tmp_path,
                       analysis(), metrics, 3, 0, torch.device("cpu"))
    assert events(tmp_path) == [] and not (tmp_path / "embedding.png").exists()


def test_the_embedding_map_and_its_projector_data(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    centres = torch.tensor([[3.0, 0.0, 0.0], [-3.0, 0.0, 0.0]])
    labels = [i % 2 for i in range(120)]

    def inputs(count: int, first: int) -> tuple:
        rows = [centres[labels[first + i]] + 0.1 * torch.randn(3) for i in range(count)]
        return (torch.stack(rows),)

    with MetricsWriter(path=str(tmp_path / "metrics.jsonl")) as metrics:
        save_embedding(model, inputs, 120, labels, ["left", "right"], tmp_path,
                       analysis(embeddings=True, embedding_method="tsne", embedding_points=100), metrics, 9, 0,
                       torch.device("cpu"))
    assert (tmp_path / "embedding.png").stat().st_size > 1000
    config = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(), ProjectorConfig())
    (embedding,) = config.embeddings
    vectors = (tmp_path / embedding.tensor_path).read_text().splitlines()
    assert len(vectors) == 100 and len(vectors[0].split("\t")) == 8  # the last linear layer's 8 inputs
    assert (tmp_path / embedding.metadata_path).read_text().splitlines()[:2] == ["left", "right"]
    (event,) = events(tmp_path)
    assert event["event"] == "embedding" and event["method"] == "tsne" and event["points"] == 100


def test_worst_samples_as_a_table(tmp_path):
    with MetricsWriter(path=str(tmp_path / "metrics.jsonl")) as metrics:
        rows = [("0.500", "one two", "one\ttoo"), ("0.250", "three", "tree")]
        save_worst_samples(rows, ["cer", "reference", "hypothesis"], tmp_path, metrics, 4, "utterances by CER", 1)
    assert (tmp_path / "worst_samples.tsv").read_text() == "cer\treference\thypothesis\n0.500\tone two\tone too\n"
    (event,) = events(tmp_path)
    assert event["what"] == "utterances by CER" and event["rows"] == [["0.500", "one two", "one\ttoo"]]
    save_worst_samples(rows, ["cer"], tmp_path / "none", None, 4, "utterances by CER", 0)  # 0: none, nothing written
