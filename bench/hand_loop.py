"""The minimal hand-written PyTorch loop that bench/parity.py holds the image recipe against.

Two workloads, each what a careful person writes by hand with no runner, Adam and cross-entropy:
- digits: the guide's CNN on scikit-learn's digits, read as the recipe reads them (8-bit images,
  then floats in [0, 1] as torchvision's ToDtype makes them);
- resnet18: torchvision's resnet18 (its head a dropout and a linear layer, as the recipe makes it)
  on 32x32 synthetic RGB images (torchvision's FakeData, made as the recipe makes them): a step
  long enough (~0.25 s on one CPU thread) that the machine's noise is small beside it.
Both split and shuffle the data as the recipe does and draw the same random numbers in the same
order, so the two programs compute the same losses.

Run: python bench/hand_loop.py SEED EPOCHS BATCH_SIZE LR OUT.json [digits|resnet18 SAMPLES]
(mlx's python/ on PYTHONPATH)
"""

import json
import sys

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from mlx_runtime import seed_everything

seed, epochs, batch_size, lr, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
workload = sys.argv[6] if len(sys.argv) > 6 else "digits"
loader_generator = seed_everything(seed)
if workload == "digits":
    digits = load_digits()
    images = torch.round(torch.tensor(digits.images, dtype=torch.float32) * 255 / 16).unsqueeze(1) * (1.0 / 255)
    labels = torch.tensor(digits.target, dtype=torch.long)
    stratify = labels.numpy()
else:
    from torchvision.datasets import FakeData
    from torchvision.transforms import v2

    fake = FakeData(int(sys.argv[7]), (3, 32, 32), 10, random_offset=seed)
    to_tensor = v2.Compose([v2.ToImage(), v2.RGB(), v2.ToDtype(torch.float32, scale=True)])
    pairs = [fake[i] for i in range(len(fake))]
    images = torch.stack([to_tensor(image) for image, _ in pairs])
    labels = torch.tensor([int(label) for _, label in pairs])
    stratify = None  # random labels: the recipe splits synthetic images without stratifying
train_idx, val_idx = train_test_split(torch.arange(len(labels)).numpy(), test_size=0.2, random_state=seed,
                                      stratify=stratify)
train_set = TensorDataset(images[train_idx], labels[train_idx])
val_loader = DataLoader(TensorDataset(images[val_idx], labels[val_idx]), batch_size=batch_size)


def block(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(block(1, 32), nn.MaxPool2d(2), block(32, 64), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return self.features(x).flatten(1)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.backbone(x))


def resnet18():
    from torchvision.models import get_model

    net = get_model("resnet18", weights=None)
    net.fc = nn.Sequential(nn.Dropout(0.1), nn.Linear(net.fc.in_features, 10))
    return net


model = Classifier() if workload == "digits" else resnet18()
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
criterion = nn.CrossEntropyLoss()
losses = []
# Each epoch's order is drawn from (seed, epoch) as the pass starts, as the recipe draws it (and as
# anyone who may train on several processes writes it).
sampler = DistributedSampler(train_set, num_replicas=1, rank=0, shuffle=True, seed=seed)
for epoch in range(1, epochs + 1):
    sampler.set_epoch(epoch)
    for x, y in DataLoader(train_set, batch_size=batch_size, sampler=sampler, generator=loader_generator):
        loss = criterion(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        for x, y in val_loader:
            criterion(model(x), y).item()
    model.train()
with open(out, "w") as file:
    json.dump({"losses": losses}, file)
