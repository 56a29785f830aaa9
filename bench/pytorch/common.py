"""Set-up shared by the PyTorch twins of the benchmarks (train.py, fid.py)."""
import os

import torch


def setup(name):
    """The torch device `name` ("cpu", "cuda[:N]"), set up as the GPU check states: on CUDA
    cudnn.benchmark on and TF32 off (Burn's kernels compute fp32); on the CPU the thread count
    of SNGAN_THREADS (default: every core). Seeds torch with 0."""
    device = torch.device(name)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    else:
        torch.set_num_threads(int(os.environ.get("SNGAN_THREADS", os.cpu_count())))
    torch.manual_seed(0)
    return device
