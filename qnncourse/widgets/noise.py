"""The noise explorer: gradients shrinking with depth under noise, beside Wang et al.'s bound."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from qnncourse import ansatz, noise
from qnncourse.widgets.framework import (
    LEGEND_PT,
    TITLE_PT,
    Control,
    Explorer,
    ExplorerSpec,
    cost_observable,
    int_options,
    log_scale,
)

__all__ = ["SPEC", "noise_explorer"]

_CHANNELS = {
    "depolarizing": noise.Depolarizing,
    "dephasing": noise.Dephasing,
    "amplitude damping": noise.AmplitudeDamping,
}
_NOISE_SAMPLES = 16


@functools.lru_cache(maxsize=128)
def _noise_data(channel: str = "depolarizing", rate: float = 0.05, depth: int = 6,
                qubits: int = 3, seed: int = 0) -> noise.NoisyGradientDecay:
    """:func:`~qnncourse.noise.noisy_gradient_decay` of the hardware-efficient ansatz with the
    local cost, noise after every layer, depths ``1..depth``."""
    return noise.noisy_gradient_decay(
        functools.partial(ansatz.hardware_efficient, qubits), cost_observable("local", qubits),
        list(range(1, depth + 1)), [rate], channel=_CHANNELS[channel], placement="layer",
        n_samples=_NOISE_SAMPLES, rng=seed,
    )


@dataclass(frozen=True)
class NoiseView:
    """The decay measured for one channel and rate, with the settings that produced it."""

    channel: str
    rate: float
    qubits: int
    decay: noise.NoisyGradientDecay


def _draw_noise(fig: Figure, v: NoiseView) -> None:
    d = v.decay
    ax, ax2 = fig.subplots(1, 2)
    clean = d.mean_abs[0] / d.suppression[0]
    log_scale(ax)
    ax.plot(d.depths, clean, "o-", color="C0", label="mean |∂C|, noiseless")
    ax.plot(d.depths, d.mean_abs[0], "s-", color="C1", label="mean |∂C|, noisy")
    ax.plot(d.depths, d.max_abs[0], "^:", color="C2", label="max |∂C|, noisy")
    if np.all(np.isfinite(d.bound[0])):
        ax.plot(d.depths, d.bound[0], "--", color="C3", label="Wang et al. bound")
    ax.set_xlabel("layers L")
    ax.set_ylabel("gradient size")
    ax.legend(fontsize=LEGEND_PT)
    ax.set_title(f"{v.channel}, rate {v.rate:g}, {v.qubits} qubits", fontsize=TITLE_PT)
    ax2.plot(d.depths, d.suppression[0], "s", color="C1", label="noisy / noiseless")
    ax2.plot(d.depths, d.suppression[0][0] * d.decay[0] ** (d.depths - d.depths[0]), "-",
             color="C1", label=f"fit $r^L$, r = {d.decay[0]:.3f}")
    if np.isfinite(d.wang_q[0]):
        ax2.plot(d.depths, d.wang_q[0] ** d.depths, "--", color="C3",
                 label=f"$q^L$, q = {d.wang_q[0]:.3f}")
    ax2.set_yscale("log")
    for axis in (ax2.yaxis.set_major_formatter, ax2.yaxis.set_minor_formatter):
        axis(FormatStrFormatter("%.2g"))
    ax2.set_xlabel("layers L")
    ax2.set_ylabel("suppression by noise")
    ax2.legend(fontsize=LEGEND_PT)


def _noise_readout(v: NoiseView) -> str:
    d = v.decay
    q = d.wang_q[0]
    line = (f"gradients shrink by r = {d.decay[0]:.4f} per layer from noise alone "
            f"({_NOISE_SAMPLES} draws per depth)")
    if np.isfinite(q):
        held = bool(np.all(d.max_abs[0] <= d.bound[0]))
        line += (f"; Wang et al.'s q = {q:.4f}. Largest gradient within the bound at every "
                 f"depth: {'yes' if held else 'NO'}")
    else:
        line += "; Wang et al.'s theorem needs a unital Pauli channel, so no bound is drawn"
    return line


SPEC = ExplorerSpec(
    name="noise",
    title="Noise-induced barren plateaus",
    controls=(
        Control("channel", "channel", tuple((k, k) for k in _CHANNELS), "depolarizing"),
        Control("rate", "rate", tuple((f"{r:g}", r) for r in (0.01, 0.02, 0.05, 0.1, 0.2)),
                0.05, kind="slider"),
        Control("depth", "max layers", int_options(range(3, 11)), 6, kind="slider"),
        Control("qubits", "qubits", int_options((2, 3, 4)), 3),
    ),
    compute=lambda progress, **v: NoiseView(v["channel"], v["rate"], v["qubits"],
                                            _noise_data(**v)),
    draw=_draw_noise,
    readout=_noise_readout,
    figsize=(7.5, 3.6),
)


def noise_explorer(*, dpi: int = 90, **values: Any) -> Explorer:
    r"""How noise after every layer shrinks gradients with depth, beside Wang et al.'s bound.

    :func:`qnncourse.noise.noisy_gradient_decay` on the hardware-efficient ansatz with the
    local cost: mean and largest :math:`|\partial_j C|` per depth, the noiseless mean on the
    same draws, the bound :math:`g\sqrt{2\ln 2\,n}\,q^{L}` of
    :func:`qnncourse.noise.wang_gradient_bound` (Wang et al. 2021, for Pauli channels), and the
    fitted per-layer suppression :math:`r` against :math:`q`.

    Controls: ``channel`` (``"depolarizing"``, ``"dephasing"``, ``"amplitude damping"``),
    ``rate`` (0.01, 0.02, 0.05, 0.1, 0.2), ``depth`` (the largest depth, 3–10), ``qubits``
    (2, 3, 4).
    """
    return Explorer(SPEC, values, dpi=dpi)
