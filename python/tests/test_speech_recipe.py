"""The speech-recognition template, run in-process: manifests of WAV files written by the test
(JSON Lines and CSV), CTC training with SpecAugment, greedy decoding with CER and WER, exact
resume, bad transcripts and unreadable audio named with their file and line, LibriSpeech's
offline error, and the espeak-ng demo set (deterministic, cached, unseen validation strings).

Configs are resolved by mlx itself (``mlx validate --json``); they need the TypeScript build."""

import json
import shutil

import numpy as np
import pytest
import soundfile
from recipe_helpers import REPO, resolve_config, run_recipe

from mlx_runtime import DataError
from mlx_runtime.speech import build_demo, read_audio

TEMPLATE = REPO / "templates" / "speech-recognition" / "train.py"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs Debian's espeak-ng (apt-get install espeak-ng)")


def tone(path, frequency: float, seconds: float = 0.4, rate: int = 8000) -> None:
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(str(path), (0.4 * np.sin(2 * np.pi * frequency * t)).astype(np.float32), rate)


def tone_manifest(folder, rows, name="train.jsonl") -> str:
    """WAV files of pure tones, one pitch per word, and a JSON Lines manifest of them."""
    (folder / "clips").mkdir(parents=True, exist_ok=True)
    pitch = {"ab": 300.0, "ba": 900.0, "a": 500.0}
    lines = []
    for i, text in enumerate(rows):
        tone(folder / "clips" / f"{name}-{i}.wav", pitch.get(text, 700.0))
        lines.append(json.dumps({"audio": f"clips/{name}-{i}.wav", "text": text}))
    (folder / name).write_text("\n".join(lines) + "\n")
    return str(folder / name)


def config(tmp_path, manifest: str, *overrides, extra=""):
    return resolve_config(f"name: t\ntask: speech-recognition\ndata: {{source: manifest, path: {manifest}, sample_rate: 8000, "
                          f"batch_size: 4, val_fraction: 0.25, features: {{n_mels: 16, n_fft: 200, hop_length: 80}}{extra}}}\n"
                          "model: {channels: 4, hidden: 16, layers: 1}\noptim: {lr: 0.01}\n"
                          "train: {epochs: 2, log_every: 1}\n", tmp_path, *overrides)


def test_audio_is_read_mono_and_resampled(tmp_path):
    stereo = np.stack([np.ones(16000, np.float32) * 0.5, np.zeros(16000, np.float32)], axis=1)
    soundfile.write(str(tmp_path / "s.flac"), stereo, 16000)
    waveform = read_audio(tmp_path / "s.flac", 8000)
    assert waveform.shape == (8000,) and abs(float(waveform[4000]) - 0.25) < 1e-3


def test_ctc_trains_decodes_and_reports_cer_and_wer(tmp_path):
    manifest = tone_manifest(tmp_path, ["ab", "ba", "a"] * 8)
    cfg = config(tmp_path, manifest, extra=", spec_augment: {freq_masks: 1, freq_width: 2, time_masks: 1, time_width: 2}")
    metrics, events, run_dir = run_recipe(TEMPLATE, cfg, tmp_path / "run", train={"artifacts": True})
    evaluations = [m["values"] for m in metrics if "val/cer" in m["values"]]
    assert len(evaluations) == 2 and all(0 <= e["val/cer"] and 0 <= e["val/wer"] and e["val/loss"] > 0 for e in evaluations)
    losses = [m["values"]["train/loss"] for m in metrics if "train/loss" in m["values"]]
    assert losses[-1] < losses[0]
    start = next(e for e in events if e["event"] == "start")
    assert (start["train_utterances"], start["val_utterances"]) == (18, 6)
    transcripts = next(e for e in events if e["event"] == "transcripts")
    assert transcripts["total"] == 6 and {"reference", "hypothesis"} <= set(transcripts["examples"][0])
    assert (run_dir / "alignment.png").read_bytes()[:4] == b"\x89PNG"


def test_a_transcript_outside_the_alphabet_is_an_error_or_dropped_and_counted(tmp_path):
    manifest = tone_manifest(tmp_path, ["ab", "ba", "a", "ab", "Ωa", "ba", "ab", "ba"])
    with pytest.raises(DataError) as caught:
        run_recipe(TEMPLATE, config(tmp_path, manifest), tmp_path / "strict")
    assert (caught.value.path, caught.value.row) == (manifest, 5)
    assert "'ωa' has 'ω'" in caught.value.message and "unknown_characters: drop" in caught.value.hint
    _, events, _ = run_recipe(TEMPLATE, config(tmp_path, manifest, "data.unknown_characters=drop"), tmp_path / "lenient")
    dropped = next(e for e in events if e["event"] == "dropped")
    assert (dropped["utterances"], dropped["characters"]) == (1, "ω")


def test_unreadable_audio_and_bad_manifest_lines_are_named(tmp_path):
    manifest = tone_manifest(tmp_path, ["ab", "ba", "a", "ab"])
    (tmp_path / "clips" / "train.jsonl-2.wav").write_bytes(b"not audio at all")
    with pytest.raises(DataError) as caught:
        run_recipe(TEMPLATE, config(tmp_path, manifest), tmp_path / "bad-audio")
    assert caught.value.path.endswith("train.jsonl-2.wav") and "cannot read the audio" in caught.value.message
    (tmp_path / "broken.jsonl").write_text('{"audio": "clips/train.jsonl-0.wav", "text": "ab"}\n{"audio": 3}\n')
    with pytest.raises(DataError) as caught:
        run_recipe(TEMPLATE, config(tmp_path, str(tmp_path / "broken.jsonl")), tmp_path / "bad-line")
    assert caught.value.row == 2 and "no text field 'audio'" in caught.value.message


def test_a_csv_manifest_with_other_column_names(tmp_path):
    tone_manifest(tmp_path, ["ab", "ba"] * 4)
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    (tmp_path / "m.csv").write_text("file,sentence\n" + "".join(f"{r['audio']},{r['text']}\n" for r in rows))
    cfg = config(tmp_path, str(tmp_path / "m.csv"), extra=", audio_field: file, text_field: sentence")
    _, events, _ = run_recipe(TEMPLATE, cfg, tmp_path / "csv", train={"epochs": 1})
    assert next(e for e in events if e["event"] == "start")["train_utterances"] == 6


def test_librispeech_missing_offline_says_where_the_files_go(tmp_path):
    (tmp_path / "data").mkdir()  # the folder is there (mlx checks that first); LibriSpeech is not in it
    cfg = resolve_config(f"name: t\ntask: speech-recognition\ndata: {{source: librispeech, root: {tmp_path / 'data'}, "
                         "download: false}\ntrain: {epochs: 1}\n", tmp_path)
    with pytest.raises(DataError) as caught:
        run_recipe(TEMPLATE, cfg, tmp_path / "run")
    assert "LibriSpeech train-clean-100 is not there" in caught.value.message
    assert "LibriSpeech/train-clean-100/ (extracted from train-clean-100.tar.gz" in caught.value.hint


@needs_espeak
def test_the_demo_set_is_deterministic_cached_and_holds_out_unseen_strings(tmp_path):
    meta = build_demo(tmp_path / "a", 60, 0.2, seed=3)
    again = build_demo(tmp_path / "b", 60, 0.2, seed=3)
    assert (meta["train"] + meta["val"], meta["train"], again["train"]) == (60, again["train"], meta["train"])
    assert (tmp_path / "a" / "train.jsonl").read_text() == (tmp_path / "b" / "train.jsonl").read_text()
    assert (tmp_path / "a" / "wav" / "00007.wav").read_bytes() == (tmp_path / "b" / "wav" / "00007.wav").read_bytes()

    def read(folder, name):
        return [json.loads(line) for line in (folder / f"{name}.jsonl").read_text().splitlines()]

    train, val = read(tmp_path / "a", "train"), read(tmp_path / "a", "val")
    assert val and not {row["text"] for row in val} & {row["text"] for row in train}
    assert len({row["voice"] for row in train}) > 3
    stamp = (tmp_path / "a" / "wav" / "00000.wav").stat().st_mtime_ns
    assert build_demo(tmp_path / "a", 60, 0.2, seed=3) == meta  # the cache: nothing spoken again
    assert (tmp_path / "a" / "wav" / "00000.wav").stat().st_mtime_ns == stamp
    assert read_audio(tmp_path / "a" / train[0]["audio"], 16000).numel() > 8000
