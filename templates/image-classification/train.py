"""Image classification: the guide's CNN, an MLP or a torchvision model, on bundled, downloaded or your own images.

The guide's method, top to bottom:
  1. data       digits (1,797 greyscale 8x8 images, ships with scikit-learn, no download), MNIST,
                Fashion-MNIST or CIFAR-10 through torchvision (downloaded into data.root when the
                network allows; offline, the error says which files to put where), a folder of
                yours with one subfolder per class (data.path; data.val_path or a split), or
                synthetic images (torchvision FakeData, for smoke tests). Split with a fixed seed
                (stratified). One torchvision transforms pipeline: resize, augmentation for training
                images (random crop, flip, rotation, RandAugment or AutoAugment), standardisation
                with the training images' own channel statistics. An image that cannot be decoded
                is an error naming the file.
  2. model      Backbone (two conv blocks, adaptive pooling) + linear Classifier head, an MLP, or
                torchvision resnet18 / resnet50 / efficientnet_b0 with a new head, optionally from
                ImageNet weights in the torch hub cache; transfer learning: the backbone frozen
                (model.freeze) until model.unfreeze_at_epoch; optionally torch.compile'd
  3. loss       cross-entropy (optional label smoothing); metrics: loss, accuracy and macro-F1
                (scikit-learn's metrics)
  4. optimiser  Adam, AdamW or SGD (momentum, Nesterov); schedules: none, step, multistep
                (per epoch), cosine, warmup_cosine, onecycle (per step), plateau (per evaluation)
  5. loop       mixed precision (bf16 or fp16 autocast, a gradient scaler for fp16), gradient
                accumulation, gradient-norm clipping, a step limit, channels-last; train metrics
                every `train.log_every` steps (loss, lr, gradient norm, samples/s, step and
                data-loading time, CUDA peak memory), validation every `train.eval_every` epochs,
                early stopping on any metric; a loss that is not finite or explodes (train.divergence) stops the run (diverged) after
                saving the last good checkpoint; Ctrl-C or SIGTERM saves a checkpoint, then exits;
                data-parallel under torchrun (DistributedDataParallel, a DistributedSampler
                reshuffled each epoch, no gradient all-reduce inside an accumulation window,
                validation metrics over every rank's share, rank 0 alone writing metrics and
                checkpoints; a torchrun restart goes on from the newest checkpoint)
  6. output     metrics.jsonl (mlx ingests it into SQLite as it trains) and TensorBoard event
                files; checkpoints every N epochs (the last K kept), of the best value of a
                metric, on interrupt and at the end, each with the model, optimiser, scheduler,
                scaler, counters, RNG states and the config: `--resume CHECKPOINT` continues
                exactly where it stopped (mlx resume RUN)
  7. analysis   the confusion matrix (numbers and a PNG) and a grid of misclassified
                validation images (torchvision.utils.make_grid)

Every value comes from the resolved config (JSON), read as data. Each feature has one code
path whether it is on or off: autocast and the scaler take `enabled=`, a clipping norm of
infinity never clips, a monitor without patience never stops.

Run it through mlx:  mlx run configs/image-classification.yaml
                     mlx run configs/image-classification.yaml --set launch.launcher=torchrun --set launch.nproc_per_node=2
Run it by hand:      python train.py --config config.json   (metrics go to ./metrics.jsonl
                     unless MLX_METRICS_FILE says otherwise; needs mlx's python/ on PYTHONPATH)
"""

import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
from torchvision.transforms import v2

from mlx_runtime import (
    DataError,
    TrainingLoop,
    build_optimizer,
    class_weights,
    compile_model,
    holdout_split,
    pyplot,
    save_confusion_matrix,
    save_embedding,
    save_predictions,
    start_run,
    validation_inputs,
)

run = start_run(__doc__)  # the config, seeds, this process among torchrun's, the checkpoint to go on from
cfg, world, device, metrics = run.cfg, run.world, run.device, run.metrics
data_cfg, model_cfg, train_cfg = cfg["data"], cfg["model"], cfg["train"]
transforms_cfg = data_cfg["transforms"]
run_dir = run.run_dir
# The DataLoader's worker seeds come from their own generator, reseeded at each epoch, so that starting
# an epoch draws nothing from the model's random numbers.
loader_generator = run.generator

# -----------------------------------------------------------------------------
# 1. Data
#
# Every source gives images (PIL or uint8 tensors) and integer labels; one pipeline of
# torchvision transforms turns them into float tensors: resized, augmented (training images
# only), standardised with the training images' own statistics.

TORCHVISION_SETS = {"mnist": ("MNIST", "MNIST/raw/train-images-idx3-ubyte.gz and the other three MNIST files"),
                    "fashion-mnist": ("FashionMNIST", "FashionMNIST/raw/train-images-idx3-ubyte.gz and the other three files"),
                    "cifar10": ("CIFAR10", "cifar-10-python.tar.gz (or its extracted cifar-10-batches-py/)")}
NATIVE_SIZE = {"digits": 8, "mnist": 28, "fashion-mnist": 28, "cifar10": 32}


class DigitsImages(torch.utils.data.Dataset):
    """scikit-learn's bundled digits as uint8 (1, 8, 8) images (0-16 scaled to 0-255)."""

    def __init__(self):
        from sklearn.datasets import load_digits

        digits = load_digits()
        self.images = torch.from_numpy(np.round(digits.images * 255 / 16)).to(torch.uint8).unsqueeze(1)
        self.targets = digits.target.tolist()
        self.classes = [str(label) for label in range(10)]

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.images[index], self.targets[index]


def open_image(path: str):
    """An image file as RGB; a file that is not an image is a DataError naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise DataError(path, f"cannot decode the image ({error})", hint="remove or replace the file") from None


def image_folder(path: str):
    from torchvision.datasets import ImageFolder

    try:
        return ImageFolder(path, loader=open_image)
    except FileNotFoundError as error:
        raise DataError(path, str(error), hint="an image folder holds one subfolder of images per class") from None


def torchvision_set(name: str, root: str, download: bool):
    """MNIST, Fashion-MNIST or CIFAR-10 (the training split) from root, downloaded there when missing."""
    from torchvision import datasets

    kind, files = TORCHVISION_SETS[name]
    try:
        return getattr(datasets, kind)(root, train=True, download=download)
    except (RuntimeError, OSError) as error:
        raise DataError(root, f"{name} is not there{' and could not be downloaded' if download else ''} ({error})",
                        hint=f"with no network, copy {files} into {root}/ from a machine that has it") from None


def load_source():
    """The training images (and validation images, when the source has its own) and the class names."""
    source = data_cfg["source"]
    if source == "digits":
        return DigitsImages(), None
    if source in TORCHVISION_SETS:
        return torchvision_set(source, data_cfg["root"], data_cfg["download"]), None
    if source == "imagefolder":
        train = image_folder(data_cfg["path"])
        val = image_folder(data_cfg["val_path"]) if data_cfg["val_path"] else None
        unknown = sorted(set(val.classes) - set(train.classes)) if val else []
        if unknown:
            raise DataError(Path(data_cfg["val_path"]) / unknown[0], "a class folder that the training folder lacks",
                            hint=f"the training classes are {', '.join(train.classes)}")
        if val:
            val.class_to_idx = train.class_to_idx
            val.samples = [(file, train.class_to_idx[val.classes[label]]) for file, label in val.samples]
            val.targets = [label for _, label in val.samples]
        return train, val
    from torchvision.datasets import FakeData

    size, channels = data_cfg["image_size"], data_cfg["channels"]
    fake = FakeData(data_cfg["samples"], (channels, size, size), data_cfg["classes"], random_offset=cfg["seed"])
    fake.targets = [int(fake[i][1]) for i in range(len(fake))]
    fake.classes = [str(label) for label in range(data_cfg["classes"])]
    return fake, None


class Transformed(torch.utils.data.Dataset):
    """Some items of a dataset, each image through a transform."""

    def __init__(self, dataset, indices, transform):
        self.dataset, self.indices, self.transform = dataset, list(indices), transform

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        image, label = self.dataset[self.indices[index]]
        return self.transform(image), label


train_source, val_source = load_source()
class_names = [str(name) for name in train_source.classes]
num_classes = len(class_names)
if val_source is None:
    targets = np.asarray(train_source.targets)
    # Stratified when every class has two images at least (and labels are real: not FakeData's).
    stratify = targets if np.unique(targets, return_counts=True)[1].min() >= 2 and data_cfg["source"] != "synthetic" else None
    train_idx, val_idx = holdout_split(len(targets), stratify, data_cfg, cfg["seed"])
    val_source = train_source
else:
    train_idx, val_idx = np.arange(len(train_source)), np.arange(len(val_source))

# The size images come in (an image folder's vary: None), and the size the model sees.
source_size = {**NATIVE_SIZE, "synthetic": data_cfg.get("image_size")}.get(data_cfg["source"])
image_size = transforms_cfg["resize"] or source_size or data_cfg["image_size"]
torchvision_model = model_cfg["arch"] in ("resnet18", "resnet50", "efficientnet_b0")
in_channels = 3 if torchvision_model or data_cfg["source"] in ("cifar10", "imagefolder") else data_cfg.get("channels", 1)


def pipeline(train: bool, mean=None, std=None) -> v2.Compose:
    """Image -> float tensor: resize, augmentation (training only), 3 channels where the model wants them, standardisation."""
    steps = [v2.ToImage()]
    if image_size != source_size:
        steps += [v2.Resize(image_size, antialias=True), v2.CenterCrop(image_size)]
    if train and transforms_cfg["random_crop_padding"] is not None:
        steps.append(v2.RandomCrop(image_size, padding=transforms_cfg["random_crop_padding"]))
    if train and transforms_cfg["horizontal_flip"]:
        steps.append(v2.RandomHorizontalFlip())
    if train and transforms_cfg["rotation"]:
        steps.append(v2.RandomRotation(transforms_cfg["rotation"]))
    if train and transforms_cfg["augment"] != "none":
        steps.append(v2.RandAugment() if transforms_cfg["augment"] == "randaugment" else v2.AutoAugment())
    if in_channels == 3:
        steps.append(v2.RGB())
    steps.append(v2.ToDtype(torch.float32, scale=True))
    if mean is not None:
        steps.append(v2.Normalize(mean, std))
    return v2.Compose(steps)


def channel_statistics(dataset, indices) -> tuple:
    """Mean and deviation of each channel over (up to 2,000 of) the training images, as the model will see them."""
    chosen = np.random.RandomState(cfg["seed"]).permutation(indices)[:2000]
    images = torch.stack([image for image, _ in Transformed(dataset, chosen, pipeline(train=False))])
    return images.mean(dim=(0, 2, 3)).tolist(), images.std(dim=(0, 2, 3)).clamp(min=1e-6).tolist()


def in_memory(dataset: Transformed, random_transforms: bool):
    """A small in-memory source (digits, synthetic) whose transforms draw no random numbers is
    transformed once, up front: per-image transforms would cost more than the training step."""
    if random_transforms or data_cfg["source"] not in ("digits", "synthetic"):
        return dataset
    images, labels = zip(*(dataset[i] for i in range(len(dataset))))
    return TensorDataset(torch.stack(images), torch.tensor(labels))


augmenting = (transforms_cfg["random_crop_padding"] is not None or transforms_cfg["horizontal_flip"]
              or transforms_cfg["rotation"] > 0 or transforms_cfg["augment"] != "none")
mean, std = channel_statistics(train_source, train_idx) if transforms_cfg["normalize"] else (None, None)
train_set = in_memory(Transformed(train_source, train_idx, pipeline(train=True, mean=mean, std=std)), augmenting)
# Each rank validates its own share; the predictions are gathered before any metric is computed.
val_set = in_memory(Transformed(val_source, world.shard(val_idx), pipeline(train=False, mean=mean, std=std)), False)
pin_memory = device.type == "cuda" if data_cfg["pin_memory"] == "auto" else data_cfg["pin_memory"]
loader_options = dict(batch_size=data_cfg["batch_size"], num_workers=data_cfg["num_workers"], pin_memory=pin_memory,
                      persistent_workers=data_cfg["persistent_workers"])
# Each rank trains on its own part of a shuffle drawn from (seed, epoch): set_epoch reshuffles, and a
# resumed run draws the same order again.
train_sampler = DistributedSampler(train_set, num_replicas=world.world_size, rank=world.rank, shuffle=True,
                                   seed=cfg["seed"])
train_loader = DataLoader(train_set, sampler=train_sampler, generator=loader_generator, **loader_options)
val_loader = DataLoader(val_set, shuffle=False, **loader_options)

# -----------------------------------------------------------------------------
# 2. Model


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class Backbone(nn.Module):
    """Two conv blocks (the first followed by 2x2 max pooling), then adaptive average pooling."""

    def __init__(self, in_channels: int, channels: list):
        super().__init__()
        self.features = nn.Sequential(
            conv_block(in_channels, channels[0]),
            nn.MaxPool2d(2),
            conv_block(channels[0], channels[1]),
            nn.AdaptiveAvgPool2d(1),
        )
        self.out_features = channels[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).flatten(1)


class Classifier(nn.Module):
    """Backbone features -> dropout -> linear head over the classes."""

    def __init__(self, backbone: Backbone, num_classes: int, dropout: float):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(backbone.out_features, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def mlp(inputs: int, hidden: list, num_classes: int, dropout: float) -> nn.Sequential:
    """Flattened pixels through linear layers; its last layer is the head."""
    layers, width = [nn.Flatten()], inputs
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(inplace=True), nn.Dropout(dropout)]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, num_classes))


def pretrained_weights(arch: str):
    """torchvision's ImageNet weights for arch, from the torch hub cache; offline and missing: a clear error."""
    from torch.hub import get_dir
    from torchvision.models import get_model_weights

    weights = get_model_weights(arch).DEFAULT
    cached = Path(get_dir()) / "checkpoints" / Path(weights.url).name
    if not cached.exists():
        try:
            weights.get_state_dict(progress=False)
        except OSError as error:  # URLError is an OSError: no network
            raise DataError(cached, f"the pretrained {arch} weights are not in the torch hub cache and could not be "
                            f"downloaded ({error})", hint=f"on a machine with network access, download {weights.url} "
                            f"and copy it to {cached}") from None
    return weights


def torchvision_classifier(arch: str, num_classes: int, dropout: float, pretrained: bool):
    """resnet18, resnet50 or efficientnet_b0 with a new head for num_classes; returns (model, head)."""
    from torchvision.models import get_model

    net = get_model(arch, weights=pretrained_weights(arch) if pretrained else None)
    if arch.startswith("resnet"):
        net.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(net.fc.in_features, num_classes))
        return net, net.fc
    net.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(net.classifier[-1].in_features, num_classes))
    return net, net.classifier


def build_model():
    """The network and its head (the part that trains while the backbone is frozen)."""
    arch = model_cfg["arch"]
    if arch == "cnn":
        net = Classifier(Backbone(in_channels, model_cfg["channels"]), num_classes, model_cfg["dropout"])
        return net, net.head
    if arch == "mlp":
        net = mlp(in_channels * image_size * image_size, model_cfg["hidden"], num_classes, model_cfg["dropout"])
        return net, net[-1]
    return torchvision_classifier(arch, num_classes, model_cfg["dropout"], model_cfg["pretrained"])


memory_format = torch.channels_last if train_cfg["channels_last"] else torch.contiguous_format
raw_model, head = build_model()
raw_model = raw_model.to(device, memory_format=memory_format)
head_parameters = {id(parameter) for parameter in head.parameters()}
backbone_parameters = [p for p in raw_model.parameters() if id(p) not in head_parameters]


def backbone_trains(epoch: int) -> bool:
    """Transfer learning: with freeze: backbone only the head trains, until unfreeze_at_epoch (if any)."""
    unfreeze_at = model_cfg["unfreeze_at_epoch"]
    return model_cfg["freeze"] == "none" or (unfreeze_at is not None and epoch >= unfreeze_at)


# The compiled wrapper evaluates, and trains inside DistributedDataParallel when there are several
# processes; raw_model's state_dict (no "_orig_mod." or "module." prefixes) is what checkpoints hold.
compiled = compile_model(raw_model, train_cfg["compile"])
model = world.wrap(compiled, find_unused_parameters=model_cfg["freeze"] != "none")

# -----------------------------------------------------------------------------
# 3. Loss and metrics

# FakeData (source: synthetic) has no targets to count: its classes are uniform anyway.
train_targets = np.asarray(train_source.targets)[train_idx] if hasattr(train_source, "targets") else []
criterion = nn.CrossEntropyLoss(weight=class_weights(train_targets, num_classes, cfg["loss"]["class_weights"]),
                                label_smoothing=cfg["loss"]["label_smoothing"]).to(device)
autocast = run.autocast  # train.amp: bf16 or fp16 autocast, or nothing at all


def to_device(images: torch.Tensor, labels: torch.Tensor):
    # non_blocking overlaps the copy with compute when the batch sits in pinned memory.
    return (images.to(device, non_blocking=True, memory_format=memory_format),
            labels.to(device, non_blocking=True))


@torch.no_grad()
def predict(loader: DataLoader, keep_images: bool = False):
    """Loss over the whole validation set, with every label and prediction (and, on request, the images,
    on the CPU): each rank predicts its share with rank 0's weights and batch-norm statistics, then the
    shares are gathered on every rank."""
    world.broadcast_buffers(raw_model)
    compiled.eval()
    total_loss, labels_seen, predictions, images_seen = 0.0, [], [], []
    for images, labels in loader:
        images, labels = to_device(images, labels)
        with autocast:
            logits = compiled(images)
        total_loss += criterion(logits.float(), labels).item() * labels.size(0)
        labels_seen.append(labels.cpu())
        predictions.append(logits.argmax(dim=1).cpu())
        images_seen.append(images.float().cpu() if keep_images else images.new_empty(0))
    compiled.train()
    total_loss, count = world.sum(total_loss, len(loader.dataset))
    return (total_loss / count, world.gather(torch.cat(labels_seen)), world.gather(torch.cat(predictions)),
            world.gather(torch.cat(images_seen)))


def evaluate() -> dict:
    started = time.perf_counter()
    loss, labels, predictions, _ = predict(val_loader)
    return {"val/loss": loss, "val/acc": accuracy_score(labels, predictions),
            "val/f1": f1_score(labels, predictions, average="macro", zero_division=0),
            "perf/eval_time": time.perf_counter() - started}


# -----------------------------------------------------------------------------
# 4. Optimiser and schedule

optimizer = build_optimizer(cfg["optim"], model.parameters())
# The schedule (per step, epoch or evaluation), AMP's gradient scaler, early stopping, checkpoints.
# mlx export checks its exported forms against this model on validation images.
loop = TrainingLoop(run, raw_model, optimizer, batches_per_epoch=len(train_loader),
                    example_inputs=validation_inputs(val_set))

# -----------------------------------------------------------------------------
# 5. Training loop

loop.start(train_images=len(train_idx), val_images=len(val_idx))
for epoch in loop.epochs():
    # Each rank trains on its own part of a shuffle drawn from (seed, epoch): a resumed run draws the same.
    train_sampler.set_epoch(epoch)
    loader_generator.manual_seed(cfg["seed"] + epoch)
    trains = backbone_trains(epoch)
    if backbone_parameters and backbone_parameters[0].requires_grad != trains:
        metrics.event("backbone", trainable=trains, epoch=epoch)
    for parameter in backbone_parameters:
        parameter.requires_grad_(trains)
    for images, labels in loop.batches(train_loader):
        images, labels = to_device(images, labels)
        with loop.accumulating(model):
            with autocast:
                loss = criterion(model(images), labels)
            loop.backward(loss, samples=labels.size(0))
        loop.optimizer_step()
    loop.end_epoch(evaluate)

# -----------------------------------------------------------------------------
# 6. The last checkpoint: enough to resume, or to reload the model for analysis or export

loop.finish()

# -----------------------------------------------------------------------------
# 7. Analysis: where the model errs


def save_analysis(labels: torch.Tensor, predictions: torch.Tensor, images: torch.Tensor) -> None:
    from torchvision.utils import make_grid

    matrix = confusion_matrix(labels, predictions, labels=list(range(num_classes)))
    save_confusion_matrix(matrix, class_names, run_dir / "confusion_matrix.png")

    wrong = (labels != predictions).nonzero().flatten()[:64]
    if len(wrong) > 0:
        grid = make_grid(images[wrong], nrow=8, padding=1, pad_value=1.0, normalize=True)
        plt = pyplot()
        figure, axes = plt.subplots(figsize=(8, 1 + len(wrong) / 8))
        axes.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
        cell = images.shape[-1] + 1
        for position, index in enumerate(wrong.tolist()):
            axes.text((position % 8) * cell + 1, (position // 8) * cell + 2, f"{labels[index]}→{predictions[index]}",
                      color="red", fontsize=7)
        axes.set_axis_off()
        axes.set_title(f"misclassified validation images ({len(wrong)} of {int((labels != predictions).sum())}): "
                       "true→predicted")
        figure.savefig(run_dir / "misclassified.png", dpi=100, bbox_inches="tight")
        plt.close(figure)
    metrics.event("confusion_matrix", labels=class_names, matrix=matrix.tolist(), step=loop.step,
                  artifacts=["confusion_matrix.png"] + (["misclassified.png"] if len(wrong) > 0 else []))


if train_cfg["artifacts"]:
    _, labels, predictions, images = predict(val_loader, keep_images=True)
    if world.is_main:
        save_analysis(labels, predictions, images)
        save_predictions(run_dir / "predictions.npz", labels, predictions, class_names)  # mlx card's intervals
        # analysis.embeddings: the validation images' penultimate features, mapped to 2-D.
        save_embedding(raw_model, loop.example_inputs, len(val_set), labels.numpy(), class_names, run_dir,
                       cfg["analysis"], metrics, loop.step, cfg["seed"], device)

loop.close()
