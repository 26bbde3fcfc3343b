"""Writes a Lightning-style checkpoint whose pickle calls os.system when torch.load runs it without weights_only.

Usage: dangerous_checkpoint.py SOURCE.pt OUTPUT.ckpt MARKER
The state dict comes from SOURCE.pt; the payload would create the file MARKER, so a test can check it never ran.
torch.save only records the call, it does not make it.
"""
import os
import sys

import torch

source, output, marker = sys.argv[1:4]


class Payload:
    def __reduce__(self):
        return (os.system, (f'touch {marker}',))


state_dict = torch.load(source, weights_only=True)
torch.save({'state_dict': state_dict, 'hyper_parameters': {'callback': Payload()}}, output)
