"""Ansatz builders: structure, reproducibility, the layer-prefix property, and QuTiP checks."""

import numpy as np
import pytest
import qutip

from qnncourse import ansatz
from qnncourse.paulis import PauliString, PauliSum


def names(circuit):
    return [(op.name, op.qubits) for op in circuit.operations]


def test_tensor_product_rx():
    c = ansatz.tensor_product_rx(3)
    assert names(c) == [("RX", (0,)), ("RX", (1,)), ("RX", (2,))]
    assert c.generators() == [PauliString("XII"), PauliString("IXI"), PauliString("IIX")]


class TestRandomPauli:
    def test_structure(self):
        c = ansatz.random_pauli(4, 3, rng=0)
        ops = c.operations
        assert [op.name for op in ops[:4]] == ["RY(π/4)"] * 4
        assert c.n_params == 12 and c.n_layers == 3
        for layer in range(3):
            block = [op for op in ops if op.layer == layer]
            assert [op.kind for op in block[:4]] == ["rotation"] * 4
            assert [op.qubits for op in block[:4]] == [(0,), (1,), (2,), (3,)]
            assert [(op.name, op.qubits) for op in block[4:]] == [
                ("CZ", (0, 1)), ("CZ", (1, 2)), ("CZ", (2, 3))]

    def test_fixed_ry_is_exp_of_pi_over_8_y(self):
        c = ansatz.random_pauli(1, 0)
        oracle = (-1j * np.pi / 8 * qutip.sigmay()).expm()
        np.testing.assert_allclose(c.unitary([]).full(), oracle.full(), atol=1e-12)

    def test_axes_are_uniform(self):
        c = ansatz.random_pauli(10, 300, rng=1)
        counts = np.unique([op.name for op in c.operations if op.kind == "rotation"],
                           return_counts=True)[1]
        assert np.all(np.abs(counts / 3000 - 1 / 3) < 0.03)

    def test_same_seed_same_circuit_and_prefix(self):
        deep, shallow = ansatz.random_pauli(3, 5, rng=7), ansatz.random_pauli(3, 2, rng=7)
        assert names(shallow) == names(deep)[: len(shallow)]
        assert names(ansatz.random_pauli(3, 5, rng=7)) == names(deep)
        assert names(ansatz.random_pauli(3, 5, rng=8)) != names(deep)

    def test_generator_argument_is_advanced(self):
        rng = np.random.default_rng(3)
        assert names(ansatz.random_pauli(3, 4, rng)) != names(ansatz.random_pauli(3, 4, rng))


class TestHardwareEfficient:
    def test_structure(self):
        c = ansatz.hardware_efficient(3, 2)
        layer0 = [(op.name, op.qubits) for op in c.operations if op.layer == 0]
        assert layer0 == [("RY", (0,)), ("RY", (1,)), ("RY", (2,)), ("RZ", (0,)), ("RZ", (1,)),
                          ("RZ", (2,)), ("CZ", (0, 1)), ("CZ", (1, 2))]
        assert c.n_params == 12 and c.n_layers == 2
        assert c.param_layers.tolist() == [0] * 6 + [1] * 6

    def test_options(self):
        c = ansatz.hardware_efficient(2, 1, rotations=("rx",), entangler="cnot")
        assert names(c) == [("RX", (0,)), ("RX", (1,)), ("CNOT", (0, 1))]

    def test_prefix(self):
        deep, shallow = ansatz.hardware_efficient(3, 4), ansatz.hardware_efficient(3, 2)
        assert names(shallow) == names(deep)[: len(shallow)]

    @pytest.mark.parametrize("kwargs,message", [
        ({"rotations": ("ry", "rw")}, "rotations must be a non-empty sequence"),
        ({"entangler": "iswap"}, "entangler must be one of"),
    ])
    def test_bad_options(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            ansatz.hardware_efficient(2, 1, **kwargs)


class TestAlternatingLayered:
    def test_brick_wall(self):
        c = ansatz.alternating_layered(5, 2, block_size=2)
        layer0 = [(op.name, op.qubits) for op in c.operations if op.layer == 0]
        layer1 = [(op.name, op.qubits) for op in c.operations if op.layer == 1]
        assert layer0 == [("RY", (0,)), ("RY", (1,)), ("CZ", (0, 1)),
                          ("RY", (2,)), ("RY", (3,)), ("CZ", (2, 3))]
        assert layer1 == [("RY", (1,)), ("RY", (2,)), ("CZ", (1, 2)),
                          ("RY", (3,)), ("RY", (4,)), ("CZ", (3, 4))]

    def test_block_of_four(self):
        c = ansatz.alternating_layered(6, 2, block_size=4)
        layer1 = [(op.name, op.qubits) for op in c.operations if op.layer == 1]
        assert layer1 == [("RY", (2,)), ("RY", (3,)), ("RY", (4,)), ("RY", (5,)),
                          ("CZ", (2, 3)), ("CZ", (3, 4)), ("CZ", (4, 5))]

    def test_unitary_of_one_block_matches_qutip(self):
        c = ansatz.alternating_layered(2, 1)
        theta = np.array([0.3, -1.2])
        ry = [(-0.5j * t * qutip.sigmay()).expm() for t in theta]
        cz = qutip.Qobj(np.diag([1, 1, 1, -1]), dims=[[2, 2], [2, 2]])
        np.testing.assert_allclose(c.unitary(theta).full(),
                                   (cz * qutip.tensor(ry[0], ry[1])).full(), atol=1e-12)

    def test_block_larger_than_register(self):
        with pytest.raises(ValueError, match="block_size=4 is larger than the number of qubits"):
            ansatz.alternating_layered(3, 1, block_size=4)


class TestQAOA:
    EDGES = [(0, 1), (1, 2), (0, 2)]

    def test_shared_parameters_and_generators(self):
        c = ansatz.qaoa(self.EDGES, 3, 2)
        assert c.n_params == 4 and c.n_layers == 2
        gens = c.generators()
        assert gens[0] == PauliSum({"ZZI": 1, "IZZ": 1, "ZIZ": 1})
        assert gens[1] == PauliSum({"XII": 1, "IXI": 1, "IIX": 1})

    def test_state_matches_qutip(self):
        c = ansatz.qaoa(self.EDGES, 3, 1)
        gamma, beta = 0.4, 1.1
        cost = PauliSum({"ZZI": 1, "IZZ": 1, "ZIZ": 1}).to_qobj()
        mixer = PauliSum({"XII": 1, "IXI": 1, "IIX": 1}).to_qobj()
        plus = qutip.tensor([(qutip.basis(2, 0) + qutip.basis(2, 1)).unit()] * 3)
        oracle = (-0.5j * beta * mixer).expm() * (-0.5j * gamma * cost).expm() * plus
        np.testing.assert_allclose(c.state([gamma, beta]).full(), oracle.full(), atol=1e-12)

    def test_bad_edges(self):
        with pytest.raises(ValueError, match="qaoa needs at least one edge"):
            ansatz.qaoa([], 3, 1)
        with pytest.raises(ValueError, match="acts on qubit 1 twice"):
            ansatz.qaoa([(1, 1)], 3, 1)


class TestDataReuploading:
    def test_features_and_layers(self):
        c = ansatz.data_reuploading(2, 2, n_features=3)
        assert c.n_features == 3 and c.n_params == 8 and c.n_layers == 2
        enc = [(op.pauli, op.qubits, op.feature_index) for op in c.operations
               if op.kind == "encoding" and op.layer == 0]
        assert enc == [("X", (0,), 0), ("X", (1,), 1), ("Z", (0,), 2)]

    def test_fewer_features_than_qubits_are_reused(self):
        c = ansatz.data_reuploading(3, 1, n_features=1)
        enc = [op.feature_index for op in c.operations if op.kind == "encoding"]
        assert enc == [0, 0, 0]


@pytest.mark.parametrize("call,message", [
    (lambda: ansatz.tensor_product_rx(0), "n must be an int >= 1, got 0"),
    (lambda: ansatz.random_pauli(2, -1), "layers must be an int >= 0, got -1"),
    (lambda: ansatz.hardware_efficient(2, 1.5), "layers must be an int >= 0, got 1.5"),
    (lambda: ansatz.data_reuploading(2, 1, 0), "n_features must be an int >= 1, got 0"),
])
def test_bad_sizes(call, message):
    with pytest.raises(ValueError, match=message):
        call()
