"""The retina's fixed facts (Kashtan & Alon 2005; Clune, Mouret & Lipson 2013): its layers, weight
and bias values, and where each layer's genes and nodes start. See ``evosim.tasks.retina``."""
from __future__ import annotations

import numpy as np

LAYERS = np.array([8, 8, 4, 2, 1], dtype=np.int64)
WEIGHT_VALUES = np.array([-2, -1, 1, 2], dtype=np.int64)
BIAS_MIN, BIAS_MAX = -2, 2


def layer_offsets(layers: np.ndarray = LAYERS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first weight gene of each layer's matrix, first bias gene of each layer, first node id of
    each layer); arrays of length len(layers) (+1 for the end).

    Returns
    -------
    weight_start : numpy.ndarray
        int64[len(layers)]: first weight gene of each layer-to-layer matrix, then the end.
    bias_start : numpy.ndarray
        int64[len(layers)]: first bias gene of each non-input layer, then the end.
    node_start : numpy.ndarray
        int64[len(layers) + 1]: first node id of each layer, then the number of nodes.
    """
    sizes = layers[:-1] * layers[1:]
    weight_start = np.concatenate([[0], np.cumsum(sizes)])
    bias_start = weight_start[-1] + np.concatenate([[0], np.cumsum(layers[1:])])
    node_start = np.concatenate([[0], np.cumsum(layers)])
    return weight_start.astype(np.int64), bias_start.astype(np.int64), node_start.astype(np.int64)
