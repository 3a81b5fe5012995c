"""Layers two recipes share."""

import torch
from torch import nn


class PaddedBiLSTM(nn.Module):
    """A bidirectional LSTM over padded, batch-first sequences of different lengths.

    Each sequence is read backwards from its own last step, as a packed sequence would be, and padded steps
    come out as zeros, as ``pad_packed_sequence`` gives them: the answers of ``nn.LSTM`` over a packed batch.
    It is plain tensor operations (a gather reverses each sequence within its length), which torch.export,
    ONNX and TorchScript capture; packing is data-dependent (its sizes are the lengths' values), and they cannot.
    Between layers, ``dropout`` as ``nn.LSTM`` applies it.
    """

    def __init__(self, input_size: int, hidden: int, layers: int = 1, dropout: float = 0.0):
        super().__init__()
        sizes = [input_size] + [2 * hidden] * (layers - 1)
        self.forwards = nn.ModuleList(nn.LSTM(size, hidden, batch_first=True) for size in sizes)
        self.backwards = nn.ModuleList(nn.LSTM(size, hidden, batch_first=True) for size in sizes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        steps = torch.arange(x.size(1), device=x.device)[None, :]
        lengths = lengths.to(x.device)[:, None]
        valid = steps < lengths
        # Where each step of a sequence read backwards comes from; padding stays in place, after it.
        reverse = torch.where(valid, lengths - 1 - steps, steps).unsqueeze(2)
        valid = valid.unsqueeze(2)
        for layer, (ahead, behind) in enumerate(zip(self.forwards, self.backwards)):
            if layer > 0:
                x = self.dropout(x)
            read_forwards = ahead(x)[0]
            read_backwards = behind(x.gather(1, reverse.expand(-1, -1, x.size(2))))[0]
            read_backwards = read_backwards.gather(1, reverse.expand(-1, -1, read_backwards.size(2)))
            x = torch.cat([read_forwards, read_backwards], dim=2) * valid
        return x
