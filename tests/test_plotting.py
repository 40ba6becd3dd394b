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


# --- figures drawn at the size the site shows them -------------------------------------------

def test_the_chapters_matplotlibrc_is_the_style():
    """book/matplotlibrc (read by every chapter) and plotting.STYLE agree on size and text."""
    from pathlib import Path

    rc = matplotlib.rc_params_from_file(
        Path(__file__).resolve().parents[1] / "book" / "matplotlibrc", use_default_template=False)
    assert len(rc) >= 4
    for key, value in rc.items():
        assert key in plotting.STYLE, key
        expected = matplotlib.rcsetup.validate_any(plotting.STYLE[key])
        assert (list(value) if isinstance(value, (list, tuple)) else value) == (
            list(expected) if isinstance(expected, (list, tuple)) else expected), key
    width, _ = plotting.STYLE["figure.figsize"]
    assert width * plotting.STYLE["figure.dpi"] <= 672  # the column at 1280 px


def test_column_figsize():
    assert plotting.column_figsize(3.0) == (plotting.COLUMN_WIDTH, 3.0)
    assert plotting.column_figsize(2.0, 0.5) == (round(plotting.COLUMN_WIDTH / 2, 3), 2.0)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\] .* got 1.5"):
        plotting.column_figsize(3.0, 1.5)
    with pytest.raises(ValueError, match="height must be positive"):
        plotting.column_figsize(0)


def _overlapping_labels(ax, which):
    """Pairs of drawn tick labels (major and minor) of one axis whose boxes overlap."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = sorted(axis.get_view_interval())
    boxes = [t.get_window_extent(renderer)
             for tick in axis.get_major_ticks() + axis.get_minor_ticks()
             for t in [tick.label1]
             if t.get_visible() and t.get_text() and lo <= tick.get_loc() <= hi]
    pairs = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    return len(boxes), pairs


@pytest.mark.parametrize("limits", [(0.3, 0.9), (0.02, 0.3), (1e-5, 0.1), (0.31, 0.44)])
def test_log_axis_labels_do_not_overlap(limits):
    """A narrow figure with a log x axis over less than a decade: matplotlib's own labels
    collide ("3×10⁻¹4×10⁻¹"); with log_axis at least two labels are drawn and none collide."""
    fig, (plain, ours) = plt.subplots(1, 2, figsize=(4, 2))
    for ax in (plain, ours):
        ax.plot(limits, [1, 2])
    plain.set_xscale("log")
    plotting.log_axis(ours, "x")
    n, pairs = _overlapping_labels(ours, "x")
    assert n >= 2 and pairs == []
    if limits == (0.3, 0.9):  # the case of the book's Fig. 5.2: the check sees the collision
        assert _overlapping_labels(plain, "x")[1] != []
    plt.close(fig)


def test_log_axis_bad_input():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="which must be 'x' or 'y', got 'z'"):
        plotting.log_axis(ax, "z")
    plt.close(fig)


# --- colours that read with a colour-vision deficiency ----------------------------------------
# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color
# vision deficiency", IEEE TVCG 15(6) 1291, https://doi.org/10.1109/TVCG.2009.113: the
# matrices for severity 1.0, applied to linear RGB.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}


def _lab(rgb, deficiency=None):
    """CIELAB (D65) of sRGB colours, as seen with ``deficiency`` (None: typical vision)."""
    rgb = np.asarray(rgb, dtype=float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    if deficiency is not None:
        linear = np.clip(linear @ np.array(CVD[deficiency]).T, 0, 1)
    srgb_to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                            [0.0193, 0.1192, 0.9505]])
    xyz = linear @ srgb_to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


VISIONS = [None, *CVD]


def _reads_as_sequential(name):
    rgb = matplotlib.colormaps[name](np.linspace(0, 1, 64))[:, :3]
    return all((np.diff(_lab(rgb, v)[:, 0]) > 0).all() for v in VISIONS)


def _reads_as_diverging(name):
    """Lightness rises to the middle and falls after it, and the two sides stay apart (their
    colours at 10 % and 90 % differ by more than 40 CIELAB units), for every vision."""
    rgb = matplotlib.colormaps[name](np.linspace(0, 1, 64))[:, :3]
    for vision in VISIONS:
        lab = _lab(rgb, vision)
        steps = np.diff(lab[:, 0])
        if not ((steps[:31] > 0).all() and (steps[32:] < 0).all()):
            return False
        if np.linalg.norm(lab[6] - lab[-7]) < 40:
            return False
    return True


def _palette_min_difference(colours):
    rgb = np.array([matplotlib.colors.to_rgb(c) for c in colours])
    worst = np.inf
    for vision in VISIONS:
        lab = _lab(rgb, vision)
        d = np.linalg.norm(lab[:, None] - lab[None], axis=-1)
        worst = min(worst, d[np.triu_indices(len(rgb), 1)].min())
    return worst


def test_colour_maps_read_with_colour_vision_deficiencies():
    assert _reads_as_sequential(plotting.SEQUENTIAL)
    assert _reads_as_diverging(plotting.DIVERGING)
    # the checks can fail: jet is neither
    assert not _reads_as_sequential("jet") and not _reads_as_diverging("jet")


def test_palette_colours_stay_apart_with_colour_vision_deficiencies():
    """Every two colours of the palette differ by at least 15 CIELAB units as seen with
    protanopia, deuteranopia and tritanopia; matplotlib's tab10 does not (its red and green)."""
    assert _palette_min_difference(plotting.COLORS) >= 15
    assert _palette_min_difference(matplotlib.colormaps["tab10"].colors) < 15


def test_figures_use_the_checked_colour_maps():
    """Every colour map named in the book, the exercises and the library is one of the
    checked maps (or a name of the viridis family, perceptually uniform by design)."""
    import re
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = subprocess.run(["git", "ls-files", "book", "exercises", "qnncourse"], cwd=root,
                           capture_output=True, text=True, check=True).stdout.split()
    allowed = {plotting.SEQUENTIAL, plotting.DIVERGING, "viridis", "cividis", "magma",
               "inferno", "plasma"}
    used = []
    for name in files:
        if name.endswith((".md", ".py", ".ipynb")):
            text = (root / name).read_text(encoding="utf-8")
            used += [(name, m) for m in re.findall(r"cmap\s*=\s*\\?[\"']([\w_]+)", text)]
            used += [(name, m) for m in re.findall(r"plt\.cm\.(\w+)\(", text)]
    assert used, "no colour map found: the pattern is broken"
    assert [u for u in used if u[1] not in allowed] == []
