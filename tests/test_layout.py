"""The module layout: old public names still resolve, to the one object at the new home."""

import importlib

import pytest

import qnncourse as qc

# (old module, name, new module): documented re-exports kept for the book and the exercises.
MOVED = [
    ("qnncourse.noise", "noisy_gradient_decay", "qnncourse.plateaus.noise_induced"),
    ("qnncourse.noise", "wang_gradient_bound", "qnncourse.plateaus.noise_induced"),
    ("qnncourse.noise", "NoisyGradientDecay", "qnncourse.plateaus.noise_induced"),
    ("qnncourse.noise", "Depolarizing", "qnncourse.noise.channels"),
    ("qnncourse.noise", "NoiseModel", "qnncourse.noise.model"),
    ("qnncourse.plateaus", "haar_states", "qnncourse.plateaus.designs"),
    ("qnncourse.plateaus", "gradient_variance", "qnncourse.plateaus.statistics"),
    ("qnncourse.plateaus", "variance_scan", "qnncourse.plateaus.statistics"),
    ("qnncourse.plateaus", "lie_variance", "qnncourse.plateaus.lie_variance"),
    ("qnncourse.plateaus", "random_parameters", "qnncourse.ensemble"),
    ("qnncourse.optim", "train", "qnncourse.optim.training"),
    ("qnncourse.optim", "Adam", "qnncourse.optim.optimizers"),
    ("qnncourse.optim", "train_layerwise", "qnncourse.optim.layerwise"),
    ("qnncourse.optim", "metric_circuits", "qnncourse.metric"),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED)
def test_old_names_resolve_to_the_new_home(old, name, new):
    assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new),
                                                                  name)


def test_top_level_names():
    assert qc.noisy_gradient_decay is qc.plateaus.noise_induced.noisy_gradient_decay
    assert qc.train is qc.optim.training.train


def test_unknown_attribute_of_noise_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        qc.noise.nothing  # noqa: B018
