"""The explorers, driven from code: their numbers are the library's, their controls are checked,
their work runs off the calling thread, and their static form works in a browser.

Closed forms used: the transverse-field Ising generators X_i, Z_i Z_(i+1) on an open chain of n
qubits generate so(2n), of dimension n(2n - 1) (they are quadratic in Majorana operators);
adding Z_i makes the chain fully controllable, su(2^n), of dimension 4^n - 1.
"""

import base64
import io
import json
import math
import re
import threading

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from qnncourse import ansatz, lie, noise, observables, optim, plateaus, widgets
from qnncourse.cost import Cost
from qnncourse.ensemble import random_parameters

TFIM = "transverse-field Ising: X_i, Z_iZ_i+1"
BOTH = "Ising with both fields: X_i, Z_i, Z_iZ_i+1"


# --- landscape ------------------------------------------------------------------------------
def _landscape_reference(cost_name, param, theta):
    """The cut point and the library's derivatives there, built here from scratch."""
    circuit = ansatz.hardware_efficient(3, 2)
    obs = observables.local_cost(3) if cost_name == "local" else observables.global_cost(3)
    cost = Cost(circuit, obs)
    point = random_parameters(circuit.n_params, 1, rng=2024)[0]
    point[param] = theta
    return cost, point


def test_landscape_shows_the_library_derivatives_and_moves_with_its_controls():
    explorer = widgets.landscape_explorer()
    first = explorer.wait()
    first_png, first_text = explorer.png(), explorer.readout.value
    cost, point = _landscape_reference("local", 0, first.x)
    assert first.value == pytest.approx(cost(point), abs=1e-12)
    assert first.exact == pytest.approx(cost.gradient(point)[0], abs=1e-12)
    assert first.library_shift == pytest.approx(
        cost.gradient(point, method="parameter-shift")[0], abs=1e-12)
    # The two points of the shift rule give the exact derivative of the sinusoid.
    assert first.shift_derivative == pytest.approx(first.exact, abs=1e-12)

    theta = widgets.EXPLORERS["landscape"].control("theta").values[13]  # 5 pi / 8
    second = explorer.set(theta=theta, cost="global", param=4).wait()
    assert explorer.values["theta"] == theta and second.param == 4 and second.cost == "global"
    cost, point = _landscape_reference("global", 4, theta)
    assert second.exact == pytest.approx(cost.gradient(point)[4], abs=1e-12)
    assert second.curve[60] == pytest.approx(cost(np.r_[point[:4], 0.0, point[5:]]), abs=1e-12)
    assert explorer.png() != first_png and explorer.readout.value != first_text
    assert f"{second.exact:+.6f}" in explorer.readout.value


def test_landscape_plane_holds_the_cost_at_its_grid_points():
    data = widgets.landscape_explorer(param=1, param2=5).wait()
    ys, values = data.grid
    cost, point = _landscape_reference("local", 1, data.x)
    point[1], point[5] = np.linspace(-math.pi, math.pi, 41)[7], ys[30]
    assert values[30, 7] == pytest.approx(cost(point), abs=1e-12)
    assert widgets.landscape_explorer(param=1, param2=1).wait().grid is None


# --- plateaus -------------------------------------------------------------------------------
def test_plateau_points_and_fit_are_the_library_scan():
    explorer = widgets.plateau_explorer(ansatz="random Pauli", depth=3, qubits=(2, 4),
                                        samples=100)
    data = explorer.wait()
    assert list(data.n_qubits) == [2, 3, 4]
    for n, result in zip(data.n_qubits, data.results, strict=True):
        rng = np.random.default_rng([0, n])
        circuit = ansatz.random_pauli(int(n), 3, rng=rng)
        expected = plateaus.gradient_variance(Cost(circuit, observables.global_cost(int(n))),
                                              100, 0, rng)
        assert result.variance == expected.variance and result.ci == expected.ci
    fit = plateaus.exponential_fit([2, 3, 4], [r.variance for r in data.results],
                                   [r.ci for r in data.results])
    assert data.fit.slope == fit.slope and data.fit.slope_ci == fit.slope_ci
    assert f"{fit.slope:.3f}" in explorer.readout.value
    assert (explorer.progress.value, explorer.progress.max) == (3, 3)


def test_plateau_explorer_separates_local_from_global_cost_on_the_product_circuit():
    """tensor_product_rx: Var_global = (1/8)(3/8)^(n-1), slope ln(3/8) = -0.98; Var_local =
    1/(8 n^2), slope -2 ln(1 + 1/n), about -0.4 here."""
    explorer = widgets.plateau_explorer(ansatz="tensor-product RX", qubits=(2, 6), samples=500)
    global_fit = explorer.wait().fit
    local_fit = explorer.set(cost="local").wait().fit
    assert global_fit.slope_ci[0] < math.log(3 / 8) < global_fit.slope_ci[1]
    assert local_fit.slope_ci[1] < 0 and local_fit.slope > global_fit.slope_ci[1]


# --- noise ----------------------------------------------------------------------------------
def test_noise_explorer_is_noisy_gradient_decay():
    explorer = widgets.noise_explorer(channel="dephasing", rate=0.1, depth=3, qubits=2)
    view = explorer.wait()
    expected = noise.noisy_gradient_decay(lambda L: ansatz.hardware_efficient(2, L),
                                          observables.local_cost(2), [1, 2, 3], [0.1],
                                          channel=noise.Dephasing, n_samples=16, rng=0)
    np.testing.assert_array_equal(view.decay.mean_abs, expected.mean_abs)
    np.testing.assert_array_equal(view.decay.bound, expected.bound)
    assert f"r = {expected.decay[0]:.4f}" in explorer.readout.value
    assert f"q = {expected.wang_q[0]:.4f}" in explorer.readout.value
    before = explorer.png()
    damped = explorer.set(channel="amplitude damping").wait()
    assert np.isnan(damped.decay.wang_q[0]) and "no bound is drawn" in explorer.readout.value
    assert explorer.png() != before


# --- optimizer race -------------------------------------------------------------------------
def test_race_runs_are_train_runs_scored_by_the_exact_cost():
    explorer = widgets.optimizer_race(budget=200)
    data = explorer.wait()
    assert [run.name for run in data.runs] == ["GD", "Adam", "SPSA", "QNG"]
    circuit = ansatz.hardware_efficient(3, 2)
    cost = Cost(circuit, observables.local_cost(3))
    theta0 = np.random.default_rng(0).uniform(0, 2 * math.pi, circuit.n_params)
    expected = optim.train(cost, theta0, optim.Adam(lr=0.1), 200, progress=False,
                           callback=lambda k, theta, info: info["evaluations"] >= 200)
    adam = data.runs[1]
    np.testing.assert_array_equal(adam.evaluations, expected.evaluations)
    np.testing.assert_allclose(adam.costs, expected.costs, atol=1e-12)
    for run in data.runs:  # each stops at the first step that reaches the budget
        assert run.evaluations[-2] < 200 <= run.evaluations[-1]
        assert np.all(np.isfinite(run.costs))
    assert (explorer.progress.value, explorer.progress.max) == (4, 4)


def test_race_with_shots_scores_with_the_exact_cost():
    data = widgets.optimizer_race(problem="3 qubits, local cost, 100 shots", budget=200).wait()
    circuit = ansatz.hardware_efficient(3, 2)
    exact = Cost(circuit, observables.local_cost(3))
    gd = data.runs[0]
    np.testing.assert_allclose(gd.costs, exact(gd.result.thetas), atol=1e-12)
    # with shots the recorded (estimated) costs differ from the exact ones
    assert not np.allclose(gd.result.costs, gd.costs, atol=1e-6)


# --- DLA ------------------------------------------------------------------------------------
def test_dla_dimensions_follow_the_closed_forms():
    explorer = widgets.dla_explorer(qubits=(2, 5))
    data = explorer.wait()
    n = data.n_qubits
    np.testing.assert_array_equal(data.dims, n * (2 * n - 1))
    data = explorer.set(family=BOTH, qubits=(2, 4)).wait()
    np.testing.assert_array_equal(data.dims, 4 ** data.n_qubits - 1)
    heis = explorer.set(family="Heisenberg: X_iX_i+1 + Y_iY_i+1 + Z_iZ_i+1").wait()
    gens = [{"XXI": 1, "YYI": 1, "ZZI": 1}, {"IXX": 1, "IYY": 1, "IZZ": 1}]
    assert heis.dims[1] == lie.dimension(gens)
    assert "dim g: n=2:" in explorer.readout.value



def _chain(words, n):
    """The widget's generator order (it fixes which rotation each random angle goes to)."""
    return ["I" * i + w + "I" * (n - i - len(w)) for w in words for i in range(n - len(w) + 1)]


def test_dla_variance_view_is_lie_variance_beside_lie_variance_check():
    explorer = widgets.dla_explorer(family=BOTH, qubits=(2, 4), view="variance")
    data = explorer.wait()
    assert list(data.n_qubits) == [2, 3, 4] and data.capped_at is None
    for k, n in enumerate(data.n_qubits):
        gens, obs = _chain(["X", "Z", "ZZ"], n), "X" + "I" * (n - 1)
        predicted = plateaus.lie_variance(gens, None, obs)
        check = plateaus.lie_variance_check(gens, None, obs, depth=60, n_samples=500, rng=2024)
        # su(2^n): the Haar value 1 / (2^n + 1) of a traceless Pauli observable.
        assert data.predicted[k] == predicted.value == pytest.approx(1 / (2**n + 1), abs=1e-12)
        assert data.dims[k] == predicted.dla_dimension == 4**n - 1
        assert data.measured[k] == check.measured
        assert tuple(data.ci[k]) == check.ci
    # The figure plots exactly these numbers: the prediction as a line, the measurement as
    # points with their interval as error bars.
    fig = Figure()
    widgets.dla._draw_dla(fig, data)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    line, points = ax.lines[0], ax.lines[1]
    np.testing.assert_array_equal(line.get_ydata(), data.predicted)
    np.testing.assert_array_equal(points.get_ydata(), data.measured)
    bars = np.array([[seg[0][1], seg[1][1]] for seg in ax.collections[0].get_segments()])
    np.testing.assert_allclose(bars, data.ci, rtol=1e-12)
    assert f"n=3: dim g = 63, predicted {1 / 9:.4g}, measured {data.measured[1]:.4g}" in (
        explorer.readout.value)


def test_dla_variance_view_caps_the_qubits_and_names_the_families_it_takes():
    explorer = widgets.dla_explorer(qubits=(4, 7), view="variance")
    data = explorer.wait()
    assert list(data.n_qubits) == [4, 5] and data.capped_at == 5
    gens = _chain(["X", "ZZ"], 5)
    assert data.predicted[1] == plateaus.lie_variance(gens, None, "XIIII").value
    assert data.measured[1] == plateaus.lie_variance_check(
        gens, None, "XIIII", depth=60, n_samples=500, rng=2024).measured
    assert "the variance view is computed up to n = 5 only" in explorer.readout.value
    with pytest.raises(ValueError, match=r"the variance view needs a family of Pauli-string "
                                         r"generators with X_0 in its algebra, one of \['trans"
                                         r"verse-field Ising: X_i, Z_iZ_i\+1', 'Ising with both "
                                         r"fields: X_i, Z_i, Z_iZ_i\+1'\]; got 'XY chain: "):
        explorer.set(family="XY chain: X_iX_i+1, Y_iY_i+1").wait()


def test_dla_default_view_is_the_dimension_view_live_and_static():
    explorer = widgets.dla_explorer(qubits=(2, 4))
    data = explorer.wait()
    assert explorer.values["view"] == "dimension" and isinstance(data, widgets.DlaData)
    png, text = explorer.png(), explorer.readout.value
    assert text.startswith("<pre>dim g: n=2: 6, n=3: 15, n=4: 28")
    explorer.set(view="variance").wait()
    assert explorer.png() != png
    explorer.set(view="dimension").wait()
    assert explorer.png() == png and explorer.readout.value == text
    # The chapter's static form (no view in its grid) offers no view control and shows
    # dimensions only.
    page = widgets.static_explorer("dla", family=[TFIM, BOTH], qubits=(2, 4)).data
    assert 'data-qnn-control="view"' not in page
    assert [f["text"].split(":")[0] for f in _payload(page)["frames"].values()] == ["dim g"] * 2


# --- control checks, threading, errors ------------------------------------------------------
def test_controls_are_checked_before_anything_runs():
    with pytest.raises(ValueError, match=r"the plateau explorer has no control 'qbits'; its "
                                         r"controls are \['ansatz', 'cost', 'depth', 'qubits', "
                                         r"'samples'\]"):
        widgets.plateau_explorer(qbits=(2, 4))
    with pytest.raises(ValueError, match=r"cost must be one of \['global', 'local'\], got 'loc'"):
        widgets.plateau_explorer(cost="loc")
    with pytest.raises(ValueError, match=r"qubits must be a pair \(lo, hi\) with lo < hi from "
                                         r"\[2, 3, 4, 5, 6, 7, 8, 9, 10\], got \(4, 4\)"):
        widgets.plateau_explorer(qubits=(4, 4))
    explorer = widgets.dla_explorer(qubits=(2, 3))
    with pytest.raises(ValueError, match=r"qubits must be a pair .* got \(2, 11\)"):
        explorer.set(qubits=(2, 11))
    assert explorer.values["qubits"] == (2, 3)


def test_work_runs_off_the_calling_thread_and_the_last_setting_wins():
    explorer = widgets.dla_explorer(qubits=(2, 3))
    explorer.wait()
    seen = []
    original = widgets.EXPLORERS["dla"].compute

    def spy(progress, **values):
        seen.append(threading.current_thread() is threading.main_thread())
        return original(progress, **values)

    explorer.spec = widgets.framework.ExplorerSpec(**{**explorer.spec.__dict__, "compute": spy})
    for family in (BOTH, TFIM, BOTH):
        explorer.controls["family"].value = family  # as a reader would, through the widget
    data = explorer.wait()
    assert data.family == BOTH and seen and not any(seen)


def test_an_error_is_shown_and_reraised_by_wait():
    def broken(progress, **values):
        raise ValueError("theta has 3 values, the circuit has 4 parameters")

    spec = widgets.framework.ExplorerSpec(**{**widgets.EXPLORERS["dla"].__dict__,
                                             "compute": broken})
    explorer = widgets.Explorer(spec, {})
    with pytest.raises(ValueError, match="theta has 3 values"):
        explorer.wait()
    assert "ValueError: theta has 3 values" in explorer.readout.value and explorer.data is None


# --- static form ----------------------------------------------------------------------------
def _payload(page: str) -> dict:
    found = re.search(r'<script type="application/json" class="qnn-static-data">(.*?)</script>',
                      page, re.S)
    return json.loads(found.group(1))


def test_static_explorer_embeds_one_frame_per_grid_point_with_the_live_readout():
    thetas = [-math.pi / 4, math.pi / 4]
    page = widgets.static_explorer("landscape", notebook="book/02_gradients.md", theta=thetas,
                                   cost=["local", "global"], param=3).data
    assert page.startswith('<div class="qnn-static-explorer"')
    frames = _payload(page)["frames"]
    assert sorted(frames) == ["0,0", "0,1", "1,0", "1,1"]
    live = widgets.landscape._landscape_data(cost="global", param=3, theta=thetas[1])
    assert frames["1,1"]["text"] == widgets.landscape._landscape_readout(live)
    assert len({f["png"] for f in frames.values()}) == 4
    assert "jupyter lab book/02_gradients.md" in page and "Precomputed" in page
    assert "http://" not in page and "https://" not in page
    assert page.count("</script>") == 2  # the payload cannot close its script element early
    assert _payload(page)["labels"] == {"theta": ["−π/4", "π/4"], "cost": ["local", "global"]}
    # It opens on the default setting (theta = pi/4, local cost), also without JavaScript.
    assert 'step="1" value="1"' in page and '<option value="0" selected>' in page
    assert f'src="data:image/png;base64,{frames["1,0"]["png"]}"' in page


def test_static_explorer_checks_its_grid():
    with pytest.raises(ValueError, match=r"unknown explorer 'plateaus'; the explorers are "
                                         r"\['landscape', 'plateau', 'noise', 'race', 'dla'\]"):
        widgets.static_explorer("plateaus")
    with pytest.raises(ValueError, match=r"the grid has 51 frames, the limit is 48"):
        widgets.static_explorer("landscape", theta=list(widgets.EXPLORERS["landscape"].control(
            "theta").values), cost=["local", "global", "local"])
    with pytest.raises(ValueError, match=r"depth must be one of .* got 5"):
        widgets.static_explorer("plateau", depth=[4, 5])
    with pytest.raises(ValueError, match=r"dpi must be an int from 30 to 200, got 300"):
        widgets.static_explorer("dla", dpi=300)
    with pytest.raises(ValueError, match=r"theta must be one of .* got 0\.1"):
        widgets.static_explorer("landscape", theta=[0.0, 0.1])
    with pytest.raises(ValueError, match=r"dpi must be an int from 30 to 200, got 12\.5"):
        widgets.landscape_explorer(dpi=12.5)


def test_static_explorer_refuses_a_page_that_would_be_too_heavy(monkeypatch):
    monkeypatch.setattr(widgets.static, "_MAX_STATIC_BYTES", 10_000)
    with pytest.raises(ValueError, match=r"the 2 frames take 0\.0\d MB, the limit is 0\.0 MB"):
        widgets.static_explorer("dla", qubits=[(2, 3), (2, 4)])


@pytest.mark.browser
def test_static_explorer_switches_frames_in_a_browser(tmp_path):
    """The inline script alone (no kernel, no widget manager) switches frames and readouts."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from sitecheck import CHROMIUM, CHROMIUM_ARGS, serve

    page_html = widgets.static_explorer("dla", family=[TFIM, BOTH], qubits=[(2, 3), (2, 4)]).data
    # (an empty icon, so the browser does not ask the test server for favicon.ico)
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html><head><link rel="icon" href="data:,"></head><body>{page_html}'
        "</body></html>")
    errors = []
    with serve(tmp_path) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "index.html", wait_until="load")
        src = page.get_attribute("img.qnn-static-frame", "src")
        page.select_option("select[data-qnn-control=family]", index=1)
        assert page.get_attribute("img.qnn-static-frame", "src") != src
        assert "n=3: 63" in page.inner_text("pre.qnn-static-readout")
        page.fill("input[data-qnn-control=qubits]", "1")
        page.dispatch_event("input[data-qnn-control=qubits]", "input")
        assert "n=4: 255" in page.inner_text("pre.qnn-static-readout")
        assert page.inner_text("output") == "2–4"
        browser.close()
    assert errors == []


def test_dla_explorer_caps_a_slow_family_and_says_so(monkeypatch):
    monkeypatch.setitem(widgets.dla._DLA_MAX_QUBITS, TFIM, 3)
    data = widgets.dla_explorer(qubits=(2, 5)).wait()
    assert list(data.n_qubits) == [2, 3] and data.capped_at == 3
    assert "computed up to n = 3 only" in widgets.dla._dla_readout(data)


def test_labels_and_readouts_use_subscripts_not_underscores():
    landscape = widgets.EXPLORERS["landscape"]
    assert landscape.control("theta").label == "θᵢ"
    data = widgets.landscape_explorer(param=11).wait()
    text = landscape.readout(data)
    assert "θ₁₁ = " in text and "_" not in text
    dla = widgets.EXPLORERS["dla"]
    family = dla.control("family")
    assert family.label_of(TFIM) == "transverse-field Ising: Xᵢ, ZᵢZᵢ₊₁"
    assert all("_" not in label for label, _ in family.options)
    variance = widgets.dla._dla_variance_data(TFIM, qubits=(2, 2))
    assert dla.readout(variance).startswith("O = X₀, ρ = |0…0⟩")
    for explorer in widgets.EXPLORERS.values():
        assert all("_" not in c.label for c in explorer.controls)


def test_static_frames_are_rendered_at_twice_their_displayed_size():
    page = widgets.static_explorer("race", dpi=80, budget=200, scale=[0.5, 1.0]).data
    spec = widgets.EXPLORERS["race"]
    width, height = (round(inches * 80) for inches in spec.figsize)
    assert f'width="{width}" height="{height}"' in page
    pngs = re.findall(r'"png": "([^"]+)"', page)
    assert len(pngs) == 2
    for png in pngs:
        assert Image.open(io.BytesIO(base64.b64decode(png))).size == (2 * width, 2 * height)
