"""The PyTorch module whose state dict `transformer export` writes and
`transformer import` reads (see docs/pytorch.md)."""
import math

import torch
from torch import nn


def sinusoidal(n, d):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...)."""
    pe = torch.zeros(n, d, dtype=torch.float64)
    pos = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    div = torch.pow(10000.0, torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe[:, 0::2] = torch.sin(pos / div)
    pe[:, 1::2] = torch.cos(pos / div)
    return pe


class Seq2Seq(nn.Module):
    """nn.Transformer with token embeddings scaled by sqrt(d_model),
    sinusoidal or learned positions, and an output projection."""

    def __init__(self, src_vocab, tgt_vocab, d_model, nhead, num_encoder_layers,
                 num_decoder_layers, dim_feedforward, dropout=0.1, activation="relu",
                 norm_first=False, layer_norm_eps=1e-5, positions="sinusoidal",
                 max_positions=256, tie_output=False, share_embeddings=False):
        super().__init__()
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = self.src_embed if share_embeddings else nn.Embedding(tgt_vocab, d_model)
        self.positions = positions
        if positions == "learned":
            self.src_pos = nn.Embedding(max_positions, d_model)
            self.tgt_pos = nn.Embedding(max_positions, d_model)
        else:
            self.register_buffer("pe", sinusoidal(max_positions, d_model), persistent=False)
        self.transformer = nn.Transformer(
            d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward,
            dropout, activation, batch_first=True, norm_first=norm_first,
            layer_norm_eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)
        self.output_projection = nn.Linear(d_model, tgt_vocab)
        if tie_output:
            self.output_projection.weight = self.tgt_embed.weight

    def embed(self, ids, table, pos):
        x = table(ids) * math.sqrt(self.d_model)
        n = ids.shape[1]
        if self.positions == "learned":
            x = x + pos(torch.arange(n, device=ids.device)).unsqueeze(0)
        else:
            x = x + self.pe[:n].to(x.dtype).unsqueeze(0)
        return self.dropout(x)

    def forward(self, src, tgt, pad=0):
        """src [B, S] and tgt [B, T] token ids (tgt starts with <s>); returns
        logits [B, T, tgt_vocab]."""
        src_pad, tgt_pad = src == pad, tgt == pad
        causal = torch.triu(torch.ones(tgt.shape[1], tgt.shape[1], dtype=torch.bool, device=src.device), 1)
        h = self.transformer(
            self.embed(src, self.src_embed, getattr(self, "src_pos", None)),
            self.embed(tgt, self.tgt_embed, getattr(self, "tgt_pos", None)),
            tgt_mask=causal, src_key_padding_mask=src_pad,
            tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return self.output_projection(h)
