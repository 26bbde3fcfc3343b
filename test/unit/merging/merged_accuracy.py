"""Reference check for merged checkpoints: load a torch.save file into a fixture architecture and print its test
accuracy and loss as JSON.

Usage: /usr/bin/python3 merged_accuracy.py MODEL.pt CLASS TEST.npz

Loads with torch.load(weights_only=True) and load_state_dict(strict=True), so a missing, extra or misshapen
tensor fails here. Prints {"accuracy", "correct", "loss"}.
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
    model_path, class_name, test_path = sys.argv[1:4]
    model = getattr(architectures, class_name)()
    model.load_state_dict(torch.load(model_path, map_location="cpu", weights_only=True), strict=True)
    model.eval()
    test = np.load(test_path)
    with torch.no_grad():
        logits = model(torch.from_numpy(test["x"])).double()
    labels = torch.from_numpy(test["y"])
    correct = int((logits.argmax(dim=1) == labels).sum().item())
    loss = nn.functional.cross_entropy(logits, labels).item()
    json.dump({"accuracy": correct / len(labels), "correct": correct, "loss": loss}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
