"""PyTorch CPU as a training-benchmark peer of webgpu-rnn (src/bench/peers/pytorch.ts starts it).

Protocol, one line each way, so that the benchmark can interleave its steps with the other systems':
  argv[1]  a safetensors file (written by the benchmark) holding the model JSON in its metadata
           ("model"), the initial parameters by state_dict name (F32) and the batch: "input" (F32) or
           "tokens" (I32), and "target" (F32, or I32 class ids)
  stdout   "ready <torch version> <threads>" once the model is built
  stdin    "step"  -> one training step (zero_grad, forward, loss, backward, Adam step, loss.item());
                      answers "<loss>" (the loss before the update)
           "quit"  -> exits
The model is the one of src/train/config.ts: optional nn.Embedding, nn.LSTM / nn.GRU / nn.RNN, optional
nn.Linear on every step or on cat(h_n[-D:]); F.cross_entropy or F.mse_loss; torch.optim.Adam with
its defaults; float32, one thread per core (os.cpu_count(), or WEBGPU_RNN_TORCH_THREADS).
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


def main():
    torch.set_num_threads(int(os.environ.get("WEBGPU_RNN_TORCH_THREADS", os.cpu_count() or 1)))
    tensors, metadata = read_safetensors(sys.argv[1])
    spec = json.loads(metadata["model"])
    spec["rnn"] = {k: v for k, v in spec["rnn"].items() if k != "proj_size" or v}  # nn.GRU / nn.RNN take no proj_size
    model = Model(spec).float()
    model.load_state_dict({k: v for k, v in tensors.items() if k not in ("input", "tokens", "target")}, strict=True)
    x = tensors["tokens"].long() if "tokens" in tensors else tensors["input"]
    target = tensors["target"]
    if spec["loss"] == "cross_entropy":
        target = target.long()
    optimizer = torch.optim.Adam(model.parameters())

    def step():
        optimizer.zero_grad()
        y = model(x)
        if spec["loss"] == "mse":
            loss = F.mse_loss(y, target)
        else:
            loss = F.cross_entropy(y.reshape(-1, y.shape[-1]), target.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss.item()

    print(f"ready {torch.__version__} {torch.get_num_threads()}", flush=True)
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
