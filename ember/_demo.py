"""`ember demo`: the seeds' LeNet learns scikit-learn's handwritten digits, on ember or on torch.

    ember demo                      # train on ember (about 15 s on two cores)
    ember demo --framework torch    # the same program on PyTorch, where it is installed
    ember demo --epochs 3 --out DIR # fewer epochs; where the checkpoint and the plot go
    ember demo --seeds              # the walk-through of the seed documents' networks

The training program below is ordinary PyTorch code: it does `import torch`. On ember, the
import hook (`ember.install_as_torch()`) answers that import, and the import of torch made by
torchinfo, with ember; with `--framework torch` nothing is hooked and PyTorch itself runs it.

The data: scikit-learn ships 1,797 8x8 greyscale digits (values 0-16) inside the package, so
nothing is downloaded. The seeds' LeNet takes 1x32x32 images (two 5x5 convolutions, each
followed by 2x2 max pooling, leave the 16x5x5 map its first linear layer expects). Each digit is
scaled up 4x to 32x32 with bilinear interpolation, so that the strokes are several pixels wide
as the 5x5 kernels expect; padding the 8x8 image to 32x32 instead would leave a digit that the
two poolings shrink to a single pixel. Pixels are then standardised with the training set's
mean and standard deviation. A seeded permutation holds out 360 images (20%) for testing.

Training: Adam under a one-cycle learning-rate schedule (warm up to 3e-3, then anneal), and
each batch shifted by up to 2 pixels (half a pixel of the original 8x8) in a random direction.
1,437 training images are few for 61,706 weights: without the shifts the held-out accuracy
wanders between 95% and 99% with the split; with them it stays at 98-99%.
"""
import argparse
import importlib
import importlib.util
import os
import sys
import time

import ember

from . import _demo_seeds

DEMO_EXTRAS = (('sklearn', 'scikit-learn'), ('tqdm', 'tqdm'), ('matplotlib', 'matplotlib'),
               ('torchinfo', 'torchinfo'))
DEFAULT_EPOCHS = 10
MAX_LR = 3e-3
SHIFT = 2
HELD_OUT = 360
BATCH_SIZE = 32
SEED = 0


def _parser():
    p = argparse.ArgumentParser(
        prog='ember demo',
        description="Train the seed documents' LeNet on scikit-learn's 8x8 handwritten digits "
                    "and save a checkpoint and a plot of the training curves.")
    p.add_argument('--framework', choices=('ember', 'torch'), default='ember',
                   help='run the program on ember (default) or on PyTorch, for comparison')
    p.add_argument('--epochs', type=int, default=DEFAULT_EPOCHS,
                   help=f'training epochs (default {DEFAULT_EPOCHS})')
    p.add_argument('--out', default='ember-demo',
                   help='directory for the checkpoint and the PNG (default ./ember-demo)')
    p.add_argument('--seeds', action='store_true',
                   help="instead, walk through the seed documents' networks (printed output "
                        "identical to torch's)")
    return p


def _missing_extras():
    # find_spec, not import: torchinfo imports torch, which must wait for the hook
    return [package for module, package in DEMO_EXTRAS if importlib.util.find_spec(module) is None]


def _select_framework(name):
    """Make `import torch` mean the chosen framework; return an error message or None."""
    if name == 'ember':
        ember.install_as_torch()
        return None
    try:
        torch = importlib.import_module('torch')
    except ImportError:
        return ("ember demo --framework torch: PyTorch is not installed, so there is nothing to "
                "compare with.\nInstall a CPU build of it, for example:  pip install "
                "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu")
    if getattr(torch, '__name__', 'torch') != 'torch':
        return ("ember demo --framework torch: `import torch` is answered by ember's hook in "
                "this process; run `ember demo --framework torch` in a fresh interpreter.")
    return None


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.epochs < 1:
        print('ember demo: --epochs must be at least 1', file=sys.stderr)
        return 2
    if not args.seeds:
        missing = _missing_extras()
        if missing:
            print(f"ember demo needs {', '.join(missing)}, not installed here.\n"
                  f"Install the demo extra:  pip install \"ember[demo]\"", file=sys.stderr)
            return 1
    error = _select_framework(args.framework)
    if error:
        print(error, file=sys.stderr)
        return 1
    if args.seeds:
        _demo_seeds.main()
        return 0
    return _train(args.framework, args.epochs, args.out)


def _load_digits(torch):
    """scikit-learn's digits as (N, 1, 32, 32) float32 images and int64 labels."""
    from sklearn.datasets import load_digits  # optional: the demo extra (scikit-learn)
    F = torch.nn.functional
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(32, 32), mode='bilinear', align_corners=False)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    return images, labels


def _train(framework, epochs, out):
    # optional: after the hook, `torch` is ember (PyTorch with --framework torch)
    import torch
    from torchinfo import summary  # optional: the demo extra; imports torch, so after the hook
    from tqdm import tqdm  # optional: the demo extra
    nn, F = torch.nn, torch.nn.functional
    DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset

    LeNet = _demo_seeds.lenet_class(torch)

    name = 'ember' if framework == 'ember' else f'PyTorch {torch.__version__}'
    print(f"ember demo: the seeds' LeNet learns scikit-learn's handwritten digits, on {name}")
    torch.manual_seed(SEED)
    images, labels = _load_digits(torch)
    order = torch.randperm(len(labels))
    test_idx, train_idx = order[:HELD_OUT], order[HELD_OUT:]
    mean, std = images[train_idx].mean().item(), images[train_idx].std().item()
    images = (images - mean) / std
    x_test, y_test = images[test_idx], labels[test_idx]
    train_loader = DataLoader(TensorDataset(images[train_idx], labels[train_idx]),
                              batch_size=BATCH_SIZE, shuffle=True)
    print(f"data: {len(labels)} 8x8 digits scaled up to 1x32x32; {len(train_idx)} to train on, "
          f"{len(test_idx)} held out")

    model = LeNet()
    print(summary(model, input_size=(BATCH_SIZE, 1, 32, 32), verbose=0,
                  col_names=('output_size', 'num_params')))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=MAX_LR)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=MAX_LR, epochs=epochs,
                                                    steps_per_epoch=len(train_loader))
    background = (0.0 - mean) / std  # a blank pixel, after standardisation

    history = {'train_loss': [], 'train_acc': [], 'test_loss': [], 'test_acc': []}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        bar = tqdm(train_loader, desc=f'epoch {epoch}/{epochs}', unit='batch', leave=True,
                   file=sys.stderr, dynamic_ncols=True)
        for x, y in bar:
            # the whole batch moves by (dy, dx), each in [-SHIFT, SHIFT]
            dy, dx = torch.randint(0, 2 * SHIFT + 1, (2,)).tolist()
            x = F.pad(x, (SHIFT,) * 4, value=background)[:, :, dy:dy + 32, dx:dx + 32]
            optimizer.zero_grad()
            logits = model(x)
            loss = criterion(logits, y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
            bar.set_postfix(loss=f'{total_loss / seen:.4f}')
        bar.close()
        model.eval()
        with torch.no_grad():
            logits = model(x_test)
            test_loss = criterion(logits, y_test).item()
            test_correct = (logits.argmax(1) == y_test).sum().item()
        history['train_loss'].append(total_loss / seen)
        history['train_acc'].append(correct / seen)
        history['test_loss'].append(test_loss)
        history['test_acc'].append(test_correct / len(y_test))
        print(f"epoch {epoch:2d}/{epochs}  train loss {total_loss / seen:.4f}  "
              f"train accuracy {100 * correct / seen:6.2f}%  held-out loss {test_loss:.4f}  "
              f"held-out accuracy {100 * test_correct / len(y_test):6.2f}%", flush=True)
    seconds = time.perf_counter() - start
    accuracy = history['test_acc'][-1]
    print(f"held-out accuracy: {100 * accuracy:.2f}% ({round(accuracy * len(y_test))}/"
          f"{len(y_test)}) after {epochs} epochs in {seconds:.1f} s")

    os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.abspath(os.path.join(out, f'lenet_digits_{framework}.pt'))
    torch.save({'model': model.state_dict(), 'epochs': epochs,
                'held_out_accuracy': accuracy, 'input_mean': mean, 'input_std': std,
                'input': '8x8 digit / 16, bilinear to 1x32x32, then (x - input_mean) / input_std'},
               ckpt_path)
    png_path = os.path.abspath(os.path.join(out, f'curves_{framework}.png'))
    _plot(history, png_path, name)
    print(f"checkpoint: {ckpt_path}\n"
          f"    torch.load(path)['model'] is the LeNet's state_dict (ember.load reads it too)")
    print(f"curves:     {png_path}")
    return 0


def _plot(history, path, name):
    import matplotlib  # optional: the demo extra
    matplotlib.use('Agg')  # files only: no display needed
    import matplotlib.pyplot as plt  # optional: the demo extra, once the backend is chosen
    epochs = range(1, len(history['train_loss']) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history['train_loss'], 'o-', label='train')
    ax_loss.plot(epochs, history['test_loss'], 's-', label='held out')
    ax_loss.set(title='cross-entropy loss', xlabel='epoch')
    ax_acc.plot(epochs, [100 * a for a in history['train_acc']], 'o-', label='train')
    ax_acc.plot(epochs, [100 * a for a in history['test_acc']], 's-', label='held out')
    ax_acc.set(title='accuracy (%)', xlabel='epoch')
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"LeNet on scikit-learn's digits ({name})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == '__main__':
    sys.exit(main())
