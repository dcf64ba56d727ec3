"""PyTorch as a training-benchmark peer of webgpu-rnn (src/bench/peers/pytorch.ts starts it): on the CPU,
or on a CUDA GPU when WEBGPU_RNN_TORCH_DEVICE=cuda (the `pytorch-cuda` system, for a machine with one).

Protocol, one line each way, so that the benchmark can interleave its steps with the other systems':
  argv[1]  a safetensors file (written by the benchmark) holding the model JSON in its metadata
           ("model"), the initial parameters by state_dict name (F32) and the batch: "input" (F32) or
           "tokens" (I32), and "target" (F32, or I32 class ids)
  stdout   "ready <torch version> <threads> <device name>" once the model is built (the name without spaces)
  stdin    "step"  -> one training step (zero_grad, forward, loss, backward, Adam step, loss.item());
                      answers "<loss>" (the loss before the update)
           "quit"  -> exits
The model is the one of src/train/config.ts: optional nn.Embedding, nn.LSTM / nn.GRU / nn.RNN, optional
nn.Linear on every step or on cat(h_n[-D:]); F.cross_entropy or F.mse_loss; torch.optim.Adam with
its defaults; float32, one thread per core (os.cpu_count(), or WEBGPU_RNN_TORCH_THREADS); on CUDA, the
model and batch on the GPU (cuDNN's recurrent kernels where PyTorch takes them, TF32 off so that
matrix products stay float32), and the loss's .item() is the step's synchronisation. An
encoder–decoder (src/train/seq2seq-config.ts; batch "source", "target_in", "target") is the fixture
generator's module (test/fixtures/generate_seq2seq.py's Seq2Seq), every source row full length.
"""

import json
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

# The safetensors reader the fixture generators share.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
from safetensors_io import read_safetensors  # noqa: E402

class Model(nn.Module):
    def __init__(self, spec):
        super().__init__()
        rnn = dict(spec["rnn"])
        self.mode = rnn.pop("mode")
        self.spec = spec
        if "embedding" in spec:
            e = spec["embedding"]
            self.embedding = nn.Embedding(e["num_embeddings"], e["embedding_dim"])
        if self.mode in ("RNN_TANH", "RNN_RELU"):
            self.rnn = nn.RNN(nonlinearity="tanh" if self.mode == "RNN_TANH" else "relu", **rnn)
        else:
            self.rnn = getattr(nn, self.mode)(**rnn)
        self.D = 2 if rnn.get("bidirectional") else 1
        h_out = rnn.get("proj_size", 0) or rnn["hidden_size"]
        if spec.get("head"):
            h = spec["head"]
            self.head = nn.Linear(self.D * h_out, h["out_features"], bias=h.get("bias", True))

    def forward(self, x):
        if "embedding" in self.spec:
            x = self.embedding(x)
        out, state = self.rnn(x)
        h_n = state[0] if self.mode == "LSTM" else state
        if not self.spec.get("head"):
            return out
        if self.spec["head"].get("on", "output") == "h_n":
            return self.head(torch.cat([h_n[-self.D + d] for d in range(self.D)], dim=1))
        return self.head(out)


def torch_options(rnn, where):
    """A resolved recurrent config as nn.LSTM / nn.GRU / nn.RNN's keyword arguments: without proj_size
    when it is 0 (nn.GRU / nn.RNN take none) and without recurrent_dropout, ours alone (0 here, or the
    model is not PyTorch's)."""
    if rnn.get("recurrent_dropout", 0):
        raise ValueError(f"model.{where}.recurrent_dropout: PyTorch has no recurrent dropout")
    return {k: v for k, v in rnn.items() if k != "recurrent_dropout" and (k != "proj_size" or v)}


DEVICE = torch.device(os.environ.get("WEBGPU_RNN_TORCH_DEVICE", "cpu"))


def main():
    if DEVICE.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.set_num_threads(int(os.environ.get("WEBGPU_RNN_TORCH_THREADS", os.cpu_count() or 1)))
    tensors, metadata = read_safetensors(sys.argv[1])
    spec = json.loads(metadata["model"])
    if "encoder" in spec:
        return run(*seq2seq(spec, tensors))
    spec["rnn"] = torch_options(spec["rnn"], "rnn")
    model = Model(spec).float()
    model.load_state_dict({k: v for k, v in tensors.items() if k not in ("input", "tokens", "target")}, strict=True)
    model.to(DEVICE)
    x = (tensors["tokens"].long() if "tokens" in tensors else tensors["input"]).to(DEVICE)
    target = tensors["target"].to(DEVICE)
    if spec["loss"] == "cross_entropy":
        target = target.long()
    def loss_of():
        y = model(x)
        if spec["loss"] == "mse":
            return F.mse_loss(y, target)
        return F.cross_entropy(y.reshape(-1, y.shape[-1]), target.reshape(-1))

    run(model, loss_of)


def seq2seq(spec, tensors):
    from generate_seq2seq import Seq2Seq  # noqa: E402 (test/fixtures is on the path)

    for part in ("encoder", "decoder"):
        spec[part] = torch_options(spec[part], part)
    model = Seq2Seq(spec).float()
    batch = ("source", "target_in", "target")
    model.load_state_dict({k: v for k, v in tensors.items() if k not in batch}, strict=True)
    model.to(DEVICE)
    source, target_in, target = (tensors[k].long().to(DEVICE) for k in batch)
    lengths = torch.full((source.shape[1],), source.shape[0], dtype=torch.long)  # on the CPU, as packing wants

    def loss_of():
        logits, _ = model(source, lengths, target_in)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100)

    return model, loss_of


def run(model, loss_of):
    optimizer = torch.optim.Adam(model.parameters())

    def step():
        optimizer.zero_grad()
        loss = loss_of()
        loss.backward()
        optimizer.step()
        return loss.item()

    name = torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else "cpu"
    print(f"ready {torch.__version__} {torch.get_num_threads()} {name.replace(' ', '_')}", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "step":
            print(repr(step()), flush=True)
        elif command == "quit":
            return
        else:
            print(f"error unknown command {command!r}", flush=True)


if __name__ == "__main__":
    main()
