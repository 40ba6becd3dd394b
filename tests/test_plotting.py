"""The standard figures show exactly the numbers of the results they are given."""

from concurrent.futures import ThreadPoolExecutor

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from qnncourse import ansatz, observables, plotting  # noqa: E402
from qnncourse.cost import Cost  # noqa: E402
from qnncourse.plateaus import two_design_depth, variance_scan  # noqa: E402


def global_rx_cost(n, rng):
    return Cost(ansatz.tensor_product_rx(n), observables.global_cost(n))


@pytest.fixture(scope="module")
def scan():
    with ThreadPoolExecutor(1) as pool:
        return variance_scan(global_rx_cost, [1, 2, 3, 4], 200, rng=3, executor=pool)


@pytest.fixture(scope="module")
def design():
    return two_design_depth(lambda d: ansatz.hardware_efficient(2, d), [0, 1, 3], 60, rng=5)


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_variance_points_and_error_bars_are_the_scans_numbers(scan, ax):
    plotting.plot_variance_scan(scan, ax, label="global")
    container = ax.containers[0]
    x, y = container.lines[0].get_data()
    assert np.array_equal(x, scan.n_qubits)
    assert np.array_equal(y, scan.variances)
    segments = np.array(container.lines[2][0].get_segments())  # (points, 2 ends, xy)
    assert np.allclose(segments[:, 0, 1], scan.ci[:, 0], rtol=1e-12)
    assert np.allclose(segments[:, 1, 1], scan.ci[:, 1], rtol=1e-12)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "number of qubits $n$"
    assert "theta_{0}" in ax.get_ylabel()


def test_fit_line_is_the_scans_fit_and_names_its_slope(scan, ax):
    plotting.plot_variance_scan(scan, ax)
    (line,) = ax.get_lines()[-1:]
    x, y = line.get_data()
    assert x[0] == scan.n_qubits.min() and x[-1] == scan.n_qubits.max()
    assert np.allclose(y, np.exp(scan.fit.intercept + scan.fit.slope * x), rtol=1e-12)
    lo, hi = scan.slope_ci
    assert line.get_label() == f"fit: slope {scan.slope:.3f} [{lo:.3f}, {hi:.3f}]"
    # tensor_product_rx with the global cost: Var = (1/8)(3/8)^(n-1), slope ln(3/8)
    assert lo < np.log(3 / 8) < hi


def test_without_fit_only_the_points_are_drawn(scan, ax):
    plotting.plot_variance_scan(scan, ax, fit=False)
    assert len(ax.containers) == 1
    assert all(not line.get_label().startswith("fit") for line in ax.get_lines())


def test_design_points_are_the_frame_potential_ratios(design, ax):
    plotting.plot_design_scan(design, ax, label="HEA")
    plotting.plot_design_scan(design, ax, label="again")
    x, y = ax.containers[0].lines[0].get_data()
    assert np.array_equal(x, design.depths)
    assert np.allclose(y, [fp.ratio for fp in design.potentials], rtol=1e-12)
    segments = np.array(ax.containers[0].lines[2][0].get_segments())
    half = [fp.stderr / fp.haar for fp in design.potentials]
    assert np.allclose(segments[:, 1, 1] - y, half, rtol=1e-9)
    haar_lines = [line for line in ax.get_lines() if line.get_gid() == "haar"]
    assert len(haar_lines) == 1  # drawn once, however many scans share the axes
    assert np.allclose(haar_lines[0].get_ydata(), 1.0)
    # depth 0 is |00>, every sample identical: F2 = 1, ten times the Haar value 2/(4*5)
    assert y[0] == pytest.approx(10.0)


def test_closed_form_is_drawn_dashed_with_the_given_values(ax):
    n = np.arange(1, 6)
    plotting.plot_closed_form(ax, n, 1 / (8 * n**2), "1/(8n^2)", marker="x")
    line = ax.get_lines()[0]
    assert np.array_equal(line.get_ydata(), 1 / (8 * n**2))
    assert line.get_linestyle() == "--" and line.get_marker() == "x"
    assert line.get_label() == "1/(8n^2)"


def test_use_style_sets_the_palette():
    with matplotlib.rc_context():
        plotting.use_style()
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == list(plotting.COLORS)
        assert matplotlib.rcParams["axes.spines.top"] is False


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda ax: plotting.plot_variance_scan([1e-2, 1e-3], ax), TypeError,
         "scan must be a VarianceScan .* got list"),
        (lambda ax: plotting.plot_design_scan({"depths": [1]}, ax), TypeError,
         "scan must be a DesignScan .* got dict"),
        (lambda ax: plotting.plot_closed_form(ax, [1, 2, 3], [1, 2], "f"), ValueError,
         r"x and y must be 1-D of the same length, got shapes \(3,\) and \(2,\)"),
        (lambda ax: plotting.plot_closed_form("axes", [1], [1], "f"), TypeError,
         "ax must be a matplotlib Axes or None, got str"),
    ],
    ids=["variance-list", "design-dict", "closed-form-lengths", "ax-string"],
)
def test_bad_input_is_named(call, error, message, ax):
    with pytest.raises(error, match=message):
        call(ax)
