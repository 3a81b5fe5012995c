"""Speech recognition with CTC: log-mel features, the guide's CNN + BiLSTM, greedy decoding.

The guide's method, top to bottom:
  1. data       utterances (audio and transcript) from the offline demo set (spoken digit strings
                and command words, made with Debian's espeak-ng in several voices, speeds and
                pitches; the validation strings never occur in training), a manifest of yours
                (JSON Lines or CSV: an audio path and a transcript per row), or LibriSpeech
                through torchaudio.datasets (downloaded when the network allows; offline, the
                error says where the files go). Audio is read with soundfile (WAV, FLAC, OGG),
                averaged to mono and resampled to data.sample_rate. Transcripts are lower-cased;
                a character outside data.alphabet stops the run with the file and line, or drops
                the utterance (counted), as data.unknown_characters says.
  2. features   torchaudio's MelSpectrogram (data.features.n_mels bands), log-compressed and
                standardised per utterance; SpecAugment (frequency and time masks) on training
                utterances when data.spec_augment is set
  3. model      the guide's acoustic model: two strided conv blocks (time and frequency down by
                4), a bidirectional LSTM, a linear layer over the characters and the CTC blank;
                log-probabilities shaped (T, N, C) as nn.CTCLoss wants them
  4. loss       nn.CTCLoss(blank=0) with the input and target lengths; metrics: loss, character
                and word error rates (jiwer) of greedy decoding (best class per frame, repeats
                merged, blanks dropped)
  5. optimiser  Adam, AdamW or SGD; schedules (mlx_runtime.build_optimizer / build_scheduler)
  6. loop       mixed precision, gradient accumulation, clipping, a step limit, train metrics every
                `train.log_every` steps, validation every `train.eval_every` epochs, early stopping;
                a loss that is not finite or explodes (train.divergence) stops the run (diverged); Ctrl-C or SIGTERM saves a checkpoint
  7. output     metrics.jsonl and TensorBoard; checkpoints (periodic, best, last, on interrupt) with
                the model, optimiser, schedule, RNG states and the alphabet, so `--resume`
                continues exactly and a checkpoint alone can transcribe
  8. analysis   validation transcripts next to their references (an event), and the log-mel
                features and per-frame character probabilities of one utterance (PNG)

Every value comes from the resolved config (JSON), read as data.

Run it through mlx:  mlx run configs/speech-recognition.yaml
Run it by hand:      python train.py --config config.json   (needs mlx's python/ on PYTHONPATH)
"""

import time
from pathlib import Path

import jiwer
import numpy as np
import torch
import torchaudio
from torch import nn
from torch.utils.data import DataLoader

from mlx_runtime import (
    DataError,
    PaddedBiLSTM,
    TrainingLoop,
    build_optimizer,
    compile_model,
    pyplot,
    save_worst_samples,
    start_run,
    validation_inputs,
)
from mlx_runtime.speech import build_demo, read_audio, read_manifest

run = start_run(__doc__)  # the config, seeds, the device, the checkpoint to go on from, metrics
cfg, device, metrics = run.cfg, run.device, run.metrics
data_cfg, model_cfg, train_cfg = cfg["data"], cfg["model"], cfg["train"]
features_cfg = data_cfg["features"]
run_dir = run.run_dir
shuffle_generator = run.generator  # shuffles the training data: a checkpoint holds its state at the epoch's start

# -----------------------------------------------------------------------------
# 1. Data
#
# Every source gives (audio path, transcript, where it came from) triples; the transcripts
# are checked against the alphabet here, before any training.

alphabet = data_cfg["alphabet"]
char_index = {character: i + 1 for i, character in enumerate(alphabet)}  # 0 is the CTC blank
LIBRISPEECH_FILES = "LibriSpeech/{url}/ (extracted from {url}.tar.gz, from https://www.openslr.org/12)"


def librispeech(url: str):
    """(audio path, transcript, origin) of every utterance of a LibriSpeech part under data.root."""
    try:
        dataset = torchaudio.datasets.LIBRISPEECH(data_cfg["root"], url=url, download=data_cfg["download"])
    except (RuntimeError, OSError) as error:
        raise DataError(data_cfg["root"], f"LibriSpeech {url} is not there{' and could not be downloaded' if data_cfg['download'] else ''} ({error})",
                        hint=f"with no network, put {LIBRISPEECH_FILES.format(url=url)} into {data_cfg['root']}/") from None
    items = []
    for n in range(len(dataset)):
        relative, _, transcript, speaker, chapter, utterance = dataset.get_metadata(n)
        path = Path(dataset._archive) / relative
        items.append((str(path), transcript, (str(path.parent / f"{speaker}-{chapter}.trans.txt"), None)))
    return items


def manifest(path: str, audio_field: str = "audio", text_field: str = "text"):
    return [(audio, text, (path, line)) for line, audio, text in read_manifest(path, audio_field, text_field)]


def load_utterances():
    """The training and validation utterances (the validation ones None when they are to be split off)."""
    source = data_cfg["source"]
    if source == "demo":
        meta = build_demo(data_cfg["root"], data_cfg["utterances"], data_cfg["val_fraction"], cfg["seed"])
        metrics.event("demo_data", **meta)
        return manifest(str(Path(data_cfg["root"]) / "train.jsonl")), manifest(str(Path(data_cfg["root"]) / "val.jsonl"))
    if source == "librispeech":
        return librispeech(data_cfg["url"]), librispeech(data_cfg["val_url"])
    fields = data_cfg["audio_field"], data_cfg["text_field"]
    return manifest(data_cfg["path"], *fields), manifest(data_cfg["val_path"], *fields) if data_cfg["val_path"] else None


dropped = {"utterances": 0, "characters": set()}


def checked(items):
    """Transcripts lower-cased and held to the alphabet: an error naming the line, or the utterance dropped."""
    kept = []
    for audio, text, (path, line) in items:
        text = " ".join(text.lower().split())
        unknown = sorted(set(text) - set(alphabet))
        if unknown and data_cfg["unknown_characters"] == "error":
            raise DataError(path, f"the transcript {text!r} has {''.join(unknown)!r}, outside data.alphabet", row=line,
                            hint="add the characters to data.alphabet, or set data.unknown_characters: drop")
        if unknown or not text:
            dropped["utterances"] += 1
            dropped["characters"].update(unknown)
            continue
        kept.append((audio, text, (path, line)))
    return kept


train_items, val_items = load_utterances()
train_items = checked(train_items)
if val_items is None:
    order = np.random.RandomState(cfg["seed"]).permutation(len(train_items))
    cut = max(1, round(len(train_items) * data_cfg["val_fraction"]))
    val_items, train_items = [train_items[i] for i in order[:cut]], [train_items[i] for i in order[cut:]]
else:
    val_items = checked(val_items)
if dropped["utterances"]:
    metrics.event("dropped", utterances=dropped["utterances"], characters="".join(sorted(dropped["characters"])),
                  reason="a transcript with characters outside data.alphabet, or empty")

mel = torchaudio.transforms.MelSpectrogram(data_cfg["sample_rate"], n_fft=features_cfg["n_fft"],
                                           hop_length=features_cfg["hop_length"], n_mels=features_cfg["n_mels"])
spec_augment_cfg = data_cfg["spec_augment"]
spec_augment = (nn.Sequential(*[torchaudio.transforms.FrequencyMasking(spec_augment_cfg["freq_width"])
                                for _ in range(spec_augment_cfg["freq_masks"])],
                              *[torchaudio.transforms.TimeMasking(spec_augment_cfg["time_width"])
                                for _ in range(spec_augment_cfg["time_masks"])])
                if spec_augment_cfg else nn.Identity())


class Utterances(torch.utils.data.Dataset):
    """Log-mel features (n_mels, frames), standardised per utterance, and the transcript as ids.

    With data.cache_features each utterance is decoded and featurised once and kept (SpecAugment
    still draws new masks every epoch): decoding and resampling cost more than a training step.
    """

    def __init__(self, items, train: bool):
        self.items, self.train, self.cache = items, train, {}

    def __len__(self):
        return len(self.items)

    def features(self, index):
        if index in self.cache:
            return self.cache[index]
        features = torch.log(mel(read_audio(self.items[index][0], data_cfg["sample_rate"])) + 1e-6)
        features = (features - features.mean(dim=1, keepdim=True)) / (features.std(dim=1, keepdim=True) + 1e-5)
        if data_cfg["cache_features"]:
            self.cache[index] = features
        return features

    def __getitem__(self, index):
        _, text, _ = self.items[index]
        features = self.features(index)
        if self.train:
            features = spec_augment(features.unsqueeze(0)).squeeze(0)
        return features, torch.tensor([char_index[c] for c in text], dtype=torch.long), text


def collate(batch):
    """Features padded to the longest (N, 1, n_mels, frames), their lengths, targets concatenated (CTC's layout)."""
    features, targets, texts = zip(*batch)
    lengths = torch.tensor([f.size(1) for f in features])
    padded = torch.zeros(len(batch), 1, features[0].size(0), int(lengths.max()))
    for i, f in enumerate(features):
        padded[i, 0, :, :f.size(1)] = f
    return padded, lengths, torch.cat(targets), torch.tensor([len(t) for t in targets]), list(texts)


train_set, val_set = Utterances(train_items, train=True), Utterances(val_items, train=False)
pin_memory = device.type == "cuda" if data_cfg["pin_memory"] == "auto" else data_cfg["pin_memory"]
loader_options = dict(batch_size=data_cfg["batch_size"], num_workers=data_cfg["num_workers"], pin_memory=pin_memory,
                      collate_fn=collate)
train_loader = DataLoader(train_set, shuffle=True, generator=shuffle_generator, **loader_options)
val_loader = DataLoader(val_set, shuffle=False, **loader_options)

# -----------------------------------------------------------------------------
# 2. Model


class AcousticModel(nn.Module):
    """Two conv blocks striding time and frequency by 2 each, a BiLSTM, a linear layer over characters + blank."""

    def __init__(self, n_mels: int, channels: int, hidden: int, layers: int, dropout: float, classes: int):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, channels, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
        )
        frequencies = (n_mels + 3) // 4
        self.project = nn.Linear(channels * frequencies, hidden)
        # nn.LSTM over packed sequences, in operations an exported graph can hold (mlx export).
        self.lstm = PaddedBiLSTM(hidden, hidden, layers=layers, dropout=dropout)
        self.dropout = nn.Dropout(dropout)
        self.classify = nn.Linear(2 * hidden, classes)

    @staticmethod
    def output_lengths(lengths: torch.Tensor) -> torch.Tensor:
        for _ in range(2):
            lengths = (lengths - 1) // 2 + 1  # kernel 3, stride 2, padding 1
        return lengths

    def forward(self, features: torch.Tensor, lengths: torch.Tensor):
        x = self.conv(features)  # (N, C, F/4, T/4)
        x = self.project(x.flatten(1, 2).transpose(1, 2))  # (N, T/4, hidden)
        out_lengths = self.output_lengths(lengths)
        x = self.lstm(x, out_lengths)
        logits = self.classify(self.dropout(x))
        return logits.log_softmax(dim=-1).transpose(0, 1), out_lengths  # (T, N, C) for nn.CTCLoss


raw_model = AcousticModel(features_cfg["n_mels"], model_cfg["channels"], model_cfg["hidden"], model_cfg["layers"],
                          model_cfg["dropout"], len(alphabet) + 1).to(device)
model = compile_model(raw_model, train_cfg["compile"])

# -----------------------------------------------------------------------------
# 3. Loss, decoding and metrics

criterion = nn.CTCLoss(blank=0, zero_infinity=True)
autocast = run.autocast  # train.amp: bf16 or fp16 autocast, or nothing at all


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor) -> list:
    """The best class per frame, repeats merged, blanks dropped: one string per utterance."""
    best = log_probs.argmax(dim=-1).transpose(0, 1).cpu()  # (N, T)
    texts = []
    for row, length in zip(best, lengths.tolist()):
        ids = torch.unique_consecutive(row[:length]).tolist()
        texts.append("".join(alphabet[i - 1] for i in ids if i != 0))
    return texts


def ctc_loss(log_probs, out_lengths, targets, target_lengths):
    # CTC wants float32 log-probabilities whatever the autocast.
    return criterion(log_probs.float(), targets, out_lengths, target_lengths)


@torch.no_grad()
def predict(loader: DataLoader):
    """Mean CTC loss, with every reference transcript and greedy hypothesis."""
    model.eval()
    total_loss, references, hypotheses = 0.0, [], []
    for features, lengths, targets, target_lengths, texts in loader:
        features, lengths = features.to(device), lengths.to(device)
        with autocast:
            log_probs, out_lengths = model(features, lengths)
        total_loss += ctc_loss(log_probs, out_lengths, targets.to(device), target_lengths.to(device)).item() * len(texts)
        references += texts
        hypotheses += greedy_decode(log_probs.float(), out_lengths)
    model.train()
    return total_loss / len(loader.dataset), references, hypotheses


def evaluate() -> dict:
    started = time.perf_counter()
    loss, references, hypotheses = predict(val_loader)
    return {"val/loss": loss, "val/cer": jiwer.cer(references, hypotheses), "val/wer": jiwer.wer(references, hypotheses),
            "perf/eval_time": time.perf_counter() - started}


# -----------------------------------------------------------------------------
# 4. Optimiser and schedule

optimizer = build_optimizer(cfg["optim"], model.parameters())
# The schedule (per step, epoch or evaluation), AMP's gradient scaler, early stopping, checkpoints.
loop = TrainingLoop(run, raw_model, optimizer, batches_per_epoch=len(train_loader), shuffle=shuffle_generator,
                    extra_state=lambda: {"alphabet": alphabet},
                    # mlx export checks on validation utterances: their padded features and lengths.
                    example_inputs=validation_inputs(val_set, collate, inputs=lambda batch: batch[:2]))

# -----------------------------------------------------------------------------
# 5. Training loop

loop.start(train_utterances=len(train_set), val_utterances=len(val_set))
for _epoch in loop.epochs():
    for features, lengths, targets, target_lengths, _ in loop.batches(train_loader):
        features, lengths = features.to(device, non_blocking=True), lengths.to(device, non_blocking=True)
        targets, target_lengths = targets.to(device, non_blocking=True), target_lengths.to(device, non_blocking=True)
        with autocast:
            log_probs, out_lengths = model(features, lengths)
        loop.backward(ctc_loss(log_probs, out_lengths, targets, target_lengths), samples=features.size(0))
        loop.optimizer_step()
    loop.end_epoch(evaluate)

# -----------------------------------------------------------------------------
# 6. The last checkpoint (before the analysis, whose pass over the data a resumed run must not see)

loop.finish()

# -----------------------------------------------------------------------------
# 7. Analysis: what the model hears


def save_alignment(index: int, path: Path) -> None:
    """One validation utterance: its log-mel features over the per-frame character probabilities."""
    features, _, text = val_set[index]
    model.eval()
    with torch.no_grad():
        log_probs, _ = model(features[None, None].to(device), torch.tensor([features.size(1)], device=device))
    model.train()
    probabilities = log_probs[:, 0].float().exp().cpu().numpy().T  # (classes, frames)
    plt = pyplot()
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=False)
    top.imshow(features.numpy(), origin="lower", aspect="auto", interpolation="nearest")
    top.set_title(f"log-mel features of {text!r}")
    top.set_ylabel("mel band")
    bottom.imshow(probabilities, origin="lower", aspect="auto", interpolation="nearest", cmap="magma")
    bottom.set_yticks(range(len(alphabet) + 1), ["·"] + [c if c != " " else "␣" for c in alphabet], fontsize=6)
    bottom.set_title(f"per-frame probabilities (· blank); greedy: {greedy_decode(log_probs, torch.tensor([log_probs.size(0)]))[0]!r}")
    bottom.set_xlabel("frame (4 feature frames each)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


if train_cfg["artifacts"]:
    _, references, hypotheses = predict(val_loader)
    wrong = [(r, h) for r, h in zip(references, hypotheses) if r != h]
    save_alignment(0, run_dir / "alignment.png")
    # analysis.worst_samples: the utterances with the highest character error rate, with both transcripts.
    errors = sorted(((jiwer.cer(r, h), r, h) for r, h in zip(references, hypotheses)), key=lambda row: -row[0])
    save_worst_samples([(f"{cer:.3f}", r, h) for cer, r, h in errors], ["cer", "reference", "hypothesis"], run_dir,
                       metrics, loop.step, "utterances by CER", cfg["analysis"]["worst_samples"])
    metrics.event("transcripts", step=loop.step, correct=len(references) - len(wrong), total=len(references),
                  examples=[{"reference": r, "hypothesis": h} for r, h in (wrong or list(zip(references, hypotheses)))[:20]],
                  artifacts=["alignment.png"])

loop.close()
