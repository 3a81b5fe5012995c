"""The text-classification template, run in-process: each model, each file layout, the fortunes
topics, the vocabulary saved with checkpoints, exact resume, and bad data with its file and line.

Configs are resolved by mlx itself (``mlx validate --json``); they need the TypeScript build."""

import json
import math
from pathlib import Path

import pytest
import torch
from recipe_helpers import REPO, resolve_config, run_recipe

from mlx_runtime import DataError

TEMPLATE = REPO / "templates" / "text-classification" / "train.py"
FORTUNES = Path("/usr/share/games/fortunes")

SPORTS = ["the team won the match", "a goal in the final minute", "the striker scored twice", "fans cheered the team",
          "the coach praised the defence", "a penalty decided the match"]
FOOD = ["bake the bread for an hour", "the soup needs more salt", "fresh pasta with tomato sauce",
        "a cake with chocolate cream", "roast the vegetables in oil", "the bread and the soup were warm"]


def examples():
    return [(text, "sports") for text in SPORTS] + [(text, "food") for text in FOOD]


def write_csv(path: Path, rows, header="text,label"):
    path.write_text(header + "\n" + "".join(f'"{text}",{label}\n' for text, label in rows))
    return path


def config(tmp_path, data: str, *overrides, epochs=3):
    return resolve_config(f"name: t\ntask: text-classification\ndata: {{{data}, batch_size: 4, val_fraction: 0.34, "
                          f"vocab: {{min_freq: 1}}}}\noptim: {{lr: 0.05}}\ntrain: {{epochs: {epochs}, log_every: 1}}\n",
                          tmp_path, *overrides)


def train(cfg, tmp_path, name="run", **sections):
    return run_recipe(TEMPLATE, cfg, tmp_path / name, **sections)


def values(metrics, key):
    return [m["values"][key] for m in metrics if key in m["values"]]


@pytest.mark.parametrize("arch", ["embedding_bag", "textcnn", "bilstm"])
def test_each_model_trains_on_a_csv(tmp_path, arch):
    path = write_csv(tmp_path / "texts.csv", examples())
    metrics, events, run_dir = train(config(tmp_path, f"source: csv, path: {path}", f"model.arch={arch}"), tmp_path,
                                     train={"epochs": 3, "log_every": 1, "artifacts": True})
    assert len(values(metrics, "val/f1")) == 3 and events[0]["classes"] == ["food", "sports"]
    matrix = next(e for e in events if e["event"] == "confusion_matrix")
    assert set(matrix["per_class_f1"]) == {"food", "sports"} and sum(map(sum, matrix["matrix"])) == events[0]["val_texts"]
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)
    assert checkpoint["vocabulary"][:2] == ["<pad>", "<unk>"] and "team" in checkpoint["vocabulary"]
    assert checkpoint["classes"] == ["food", "sports"]


def test_the_baseline_learns_separable_topics(tmp_path):
    train_path = write_csv(tmp_path / "train.csv", examples() * 3)
    val_path = write_csv(tmp_path / "val.csv", [("the team scored a goal", "sports"), ("warm bread and soup", "food")])
    metrics, _, _ = train(config(tmp_path, f"source: csv, path: {train_path}, val_path: {val_path}", epochs=15), tmp_path,
                          train={"epochs": 15, "log_every": 5})
    assert values(metrics, "val/acc")[-1] == 1.0


@pytest.mark.parametrize("pooling", ["mean", "idf"])
def test_the_bag_weights_tokens_by_their_idf_in_the_training_texts(tmp_path, pooling):
    rows = examples() * 2
    train_path = write_csv(tmp_path / "train.csv", rows)
    val_path = write_csv(tmp_path / "val.csv", [("the team scored a goal", "sports"), ("warm bread", "food")])
    cfg = config(tmp_path, f"source: csv, path: {train_path}, val_path: {val_path}", f"model.pooling={pooling}")
    metrics, _, run_dir = train(cfg, tmp_path)
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)
    weights, vocabulary = checkpoint["model"]["token_weights"], checkpoint["vocabulary"]
    assert len(values(metrics, "val/f1")) == 3 and weights.shape == (len(vocabulary),)
    if pooling == "mean":
        assert torch.equal(weights, torch.ones(len(vocabulary)))
        return
    for word in ["the", "team", "chocolate"]:
        document_frequency = sum(word in text.split() for text, _ in rows)
        assert weights[vocabulary.index(word)].item() == pytest.approx(math.log((1 + len(rows)) / (1 + document_frequency)) + 1)
    assert weights[vocabulary.index("the")] < weights[vocabulary.index("chocolate")]


def test_jsonl_and_ag_news_layouts(tmp_path):
    jsonl = tmp_path / "texts.jsonl"
    jsonl.write_text("".join(json.dumps({"body": text, "topic": label}) + "\n" for text, label in examples()))
    metrics, events, _ = train(config(tmp_path, f"source: jsonl, path: {jsonl}, text_field: body, label_field: topic"),
                               tmp_path, "jsonl")
    assert events[0]["classes"] == ["food", "sports"] and len(values(metrics, "val/acc")) == 3
    ag_news = tmp_path / "ag.csv"
    ag_news.write_text("".join(f'"{1 + (label == "food")}","{text}","more words about it"\n' for text, label in examples()))
    _, events, _ = train(config(tmp_path, f"source: ag_news, path: {ag_news}"), tmp_path, "ag")
    assert events[0]["classes"] == ["1", "2"] and events[0]["train_texts"] + events[0]["val_texts"] == 12


@pytest.mark.skipif(not (FORTUNES / "computers").exists(), reason="needs Debian's fortunes package (apt-get install fortunes)")
def test_fortunes_topics_are_the_classes(tmp_path):
    cfg = resolve_config("name: t\ntask: text-classification\ndata: {topics: [food, sports]}\ntrain: {epochs: 1}\n", tmp_path)
    _, events, _ = train(cfg, tmp_path)
    assert events[0]["classes"] == ["food", "sports"] and events[0]["train_texts"] + events[0]["val_texts"] > 300


def tiny_bert(folder: Path) -> Path:
    """A two-layer BERT with a word-piece vocabulary of our words, saved as save_pretrained saves any model."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = sorted({word for text, _ in examples() for word in text.split()})
    (folder / "vocab.txt").parent.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(vocab_size=len(words) + 5, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64)
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def test_a_hugging_face_model_from_a_local_folder(tmp_path):
    model_dir = tiny_bert(tmp_path / "tiny-bert")
    path = write_csv(tmp_path / "texts.csv", examples() * 2)
    cfg = config(tmp_path, f"source: csv, path: {path}", "model.arch=huggingface", f"model.hf_path={model_dir}",
                 "optim.lr=0.001", epochs=2)
    metrics, events, run_dir = train(cfg, tmp_path, train={"epochs": 2, "log_every": 1})
    assert events[0]["vocabulary"] == 0 and events[0]["classes"] == ["food", "sports"]
    assert len(values(metrics, "val/acc")) == 2 and values(metrics, "train/loss")[-1] < values(metrics, "train/loss")[0]
    state = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)["model"]
    assert state["net.classifier.weight"].shape == (2, 16)


def test_a_hugging_face_model_needs_its_folder_and_transformers(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "texts.csv", examples())
    (tmp_path / "none").mkdir()  # a folder (mlx checks that first), but no saved model in it
    cfg = config(tmp_path, f"source: csv, path: {path}", "model.arch=huggingface", f"model.hf_path={tmp_path / 'none'}")
    with pytest.raises(DataError, match="not a saved Hugging Face model"):
        train(cfg, tmp_path)
    # A Python without transformers: the import fails as it would there.
    monkeypatch.setitem(__import__("sys").modules, "transformers", None)
    with pytest.raises(DataError) as caught:
        train(cfg, tmp_path, "without")
    assert caught.value.hint == "pip install transformers into the environment that trains (mlx doctor names it)"


def data_error(tmp_path, data: str) -> DataError:
    with pytest.raises(DataError) as caught:
        train(config(tmp_path, data), tmp_path)
    return caught.value


def test_bad_files_are_reported_with_file_and_line(tmp_path):
    path = write_csv(tmp_path / "texts.csv", examples(), header="txt,label")
    error = data_error(tmp_path, f"source: csv, path: {path}")
    assert (error.row, error.hint) == (1, "'text': did you mean 'txt'?")

    (tmp_path / "empty.csv").write_text("")
    assert "the file is empty" in data_error(tmp_path, f"source: csv, path: {tmp_path / 'empty.csv'}").message

    ragged = tmp_path / "ragged.csv"
    ragged.write_text('text,label\n"a b",x\n"c d",y,z\n')
    assert data_error(tmp_path, f"source: csv, path: {ragged}").row == 3

    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text('{"text": "a", "label": "x"}\n{"text": "b"\n')
    error = data_error(tmp_path, f"source: jsonl, path: {jsonl}")
    assert error.row == 2 and error.message.startswith("not valid JSON")

    train_path = write_csv(tmp_path / "train.csv", examples())
    val_path = write_csv(tmp_path / "val.csv", [("the match", "sports"), ("a poem about rain", "poetry")])
    error = data_error(tmp_path, f"source: csv, path: {train_path}, val_path: {val_path}")
    assert (error.path, error.row) == (str(val_path), 3) and "label 'poetry' never appears" in error.message

    error = data_error(tmp_path, f"source: fortunes, directory: {tmp_path}, topics: [food, sports]")
    assert error.hint == "install Debian's fortunes package (apt-get install fortunes), or set data.directory"
