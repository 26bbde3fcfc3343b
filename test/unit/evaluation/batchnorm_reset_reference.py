"""PyTorch reference for BatchNorm statistics reset: print the test loss and accuracy of a checkpoint after
recomputing its running statistics on the training data.

Usage: /usr/bin/python3 batchnorm_reset_reference.py MODEL.pt CLASS TRAIN.npz TEST.npz

Loads the state dict with torch.load(weights_only=True) into the fixture class CLASS, sets every BatchNorm to
momentum=None (cumulative average) with fresh statistics, runs the whole training set as one batch in train
mode, then evaluates in eval mode. Prints {"loss", "accuracy", "running": {name: [values]}} as JSON.
"""

import json
import os
import sys

FIXTURE_GEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "gen")
sys.path.insert(0, FIXTURE_GEN)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import architectures  # noqa: E402


def main():
    model_path, class_name, train_path, test_path = sys.argv[1:5]
    model = getattr(architectures, class_name)()
    model.load_state_dict(torch.load(model_path, map_location="cpu", weights_only=True))
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None
    train = np.load(train_path)
    test = np.load(test_path)
    model.train()
    with torch.no_grad():
        model(torch.from_numpy(train["x"]))
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(test["x"])).double()
    labels = torch.from_numpy(test["y"])
    loss = nn.functional.cross_entropy(logits, labels).item()
    accuracy = (logits.argmax(dim=1) == labels).double().mean().item()
    running = {name: value.tolist() for name, value in model.state_dict().items() if name.endswith(("running_mean", "running_var"))}
    json.dump({"loss": loss, "accuracy": accuracy, "running": running}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
