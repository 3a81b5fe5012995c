"""A word-level language model trainer of the usual kind (after pytorch/examples' word_language_model):
an LSTM over a text corpus, truncated backpropagation through time, SGD with gradient clipping, the
learning rate divided by 4 whenever the validation loss stops improving. It knows nothing of mlx: it
prints its progress as text, and `task: script` reads the metrics from those lines. One optional line,
where mlx_runtime is importable, registers its model for `mlx export` (which then checks the exported
forms against it on validation text, and times them).

    python word_language_model.py --data DIR      # DIR holds train.txt and valid.txt
    python word_language_model.py                 # a corpus from a small grammar, made here (offline)
"""

import argparse
import math
import os
import random
import time

import torch
from torch import nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", help="folder with train.txt and valid.txt (default: a generated corpus)")
parser.add_argument("--emsize", type=int, default=64)
parser.add_argument("--nhid", type=int, default=64)
parser.add_argument("--lr", type=float, default=20.0)
parser.add_argument("--clip", type=float, default=0.25)
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--batch_size", type=int, default=20)
parser.add_argument("--bptt", type=int, default=20)
parser.add_argument("--log-interval", type=int, default=10)
parser.add_argument("--seed", type=int, default=1111)
parser.add_argument("--save", default="model.pt", help="where the best model is saved")
args = parser.parse_args()
torch.manual_seed(args.seed)


def grammar_corpus(sentences: int, seed: int) -> str:
    """Sentences from a small grammar: enough structure for a language model to learn."""
    rng = random.Random(seed)
    subjects = ["the cat", "a dog", "my sister", "the old man", "our teacher", "the children", "a bird"]
    verbs = ["sees", "likes", "follows", "finds", "draws", "carries", "watches"]
    objects = ["the ball", "a red box", "the river", "an apple", "the small house", "a green kite"]
    endings = ["today", "every morning", "in the garden", "after school", "near the road", ""]
    lines = []
    for _ in range(sentences):
        words = [rng.choice(subjects), rng.choice(verbs), rng.choice(objects), rng.choice(endings)]
        lines.append(" ".join(word for word in words if word) + " .")
    return "\n".join(lines)


if args.data:
    with open(os.path.join(args.data, "train.txt"), encoding="utf-8") as f:
        train_text = f.read()
    with open(os.path.join(args.data, "valid.txt"), encoding="utf-8") as f:
        valid_text = f.read()
else:
    train_text, valid_text = grammar_corpus(3000, 1), grammar_corpus(400, 2)

vocabulary = {"<eos>": 0}
for word in train_text.split():
    vocabulary.setdefault(word, len(vocabulary))


def tokenize(text: str) -> torch.Tensor:
    ids = []
    for line in text.splitlines():
        ids += [vocabulary.get(word, 0) for word in line.split()] + [vocabulary["<eos>"]]
    return torch.tensor(ids, dtype=torch.long)


def batchify(data: torch.Tensor, batch_size: int) -> torch.Tensor:
    columns = data.size(0) // batch_size
    return data[: columns * batch_size].view(batch_size, -1).t().contiguous()


train_data, val_data = batchify(tokenize(train_text), args.batch_size), batchify(tokenize(valid_text), 10)


class RNNModel(nn.Module):
    def __init__(self, ntoken: int, ninp: int, nhid: int):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid)
        self.decoder = nn.Linear(nhid, ntoken)

    def forward(self, inputs, hidden):
        output, hidden = self.rnn(self.encoder(inputs), hidden)
        return self.decoder(output), hidden

    def init_hidden(self, batch_size: int):
        return (torch.zeros(1, batch_size, self.rnn.hidden_size), torch.zeros(1, batch_size, self.rnn.hidden_size))


model = RNNModel(len(vocabulary), args.emsize, args.nhid)


def validation_windows(count: int, first: int):
    """The model's inputs for `count` windows of validation text from the `first`: tokens and a fresh state."""
    tokens = tokenize(valid_text)
    starts = [(first + i) * args.bptt % (len(tokens) - args.bptt) for i in range(count)]
    return torch.stack([tokens[s:s + args.bptt] for s in starts], dim=1), model.init_hidden(count)


try:
    from mlx_runtime import register_model  # under mlx export: exports the model saved below, then ends here
except ImportError:  # run without mlx
    register_model = None
if register_model is not None:
    register_model(model, validation_windows, checkpoint=args.save)
criterion = nn.CrossEntropyLoss()


def get_batch(source: torch.Tensor, i: int):
    length = min(args.bptt, len(source) - 1 - i)
    return source[i:i + length], source[i + 1:i + 1 + length].reshape(-1)


def evaluate(data: torch.Tensor) -> float:
    model.eval()
    total, hidden = 0.0, model.init_hidden(data.size(1))
    with torch.no_grad():
        for i in range(0, data.size(0) - 1, args.bptt):
            inputs, targets = get_batch(data, i)
            output, hidden = model(inputs, hidden)
            total += len(inputs) * criterion(output.view(-1, len(vocabulary)), targets).item()
    return total / (len(data) - 1)


def train(epoch: int, lr: float) -> None:
    model.train()
    total_loss, start = 0.0, time.time()
    hidden = model.init_hidden(args.batch_size)
    batches = len(train_data) // args.bptt
    for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
        inputs, targets = get_batch(train_data, i)
        hidden = tuple(h.detach() for h in hidden)
        model.zero_grad()
        output, hidden = model(inputs, hidden)
        loss = criterion(output.view(-1, len(vocabulary)), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
        if batch % args.log_interval == 0 and batch > 0:
            current = total_loss / args.log_interval
            elapsed = time.time() - start
            print(f"| epoch {epoch:3d} | {batch:5d}/{batches:5d} batches | lr {lr:02.2f} | ms/batch "
                  f"{elapsed * 1000 / args.log_interval:5.2f} | loss {current:5.2f} | ppl {math.exp(current):8.2f}",
                  flush=True)
            total_loss, start = 0.0, time.time()


lr, best_val_loss = args.lr, None
for epoch in range(1, args.epochs + 1):
    epoch_start = time.time()
    train(epoch, lr)
    val_loss = evaluate(val_data)
    print("-" * 89)
    print(f"| end of epoch {epoch:3d} | time: {time.time() - epoch_start:5.2f}s | valid loss {val_loss:5.2f} | "
          f"valid ppl {math.exp(val_loss):8.2f}")
    print("-" * 89, flush=True)
    if best_val_loss is None or val_loss < best_val_loss:
        torch.save(model.state_dict(), args.save)
        best_val_loss = val_loss
    else:
        lr /= 4.0
