"""qnncourse: companion library of the course *Convergence of Quantum Neural Networks*."""
