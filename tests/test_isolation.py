"""Isolation between students on one server: what is shared (st.cache_resource) must be read-only.

The your-own-image page caches one bundled model for all sessions (st.cache_resource), and
`explorer.activations` registers forward hooks on a model to read feature maps and Grad-CAM. Sessions
run in parallel threads: the hooks must never catch another session's activations.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from explorer.activations import inside


def test_parallel_sessions_on_the_shared_model_see_only_their_own_maps():
    model = inside.load_bundled_model()  # what pages/activations.py shares through st.cache_resource
    inputs = [torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    expected = [(inside.feature_maps(model, x), inside.grad_cam(model, x)) for x in inputs]
    problems: list[str] = []

    def student(i: int) -> None:
        for _ in range(40):
            try:
                maps, cam = inside.feature_maps(model, inputs[i]), inside.grad_cam(model, inputs[i])
            except RuntimeError as err:
                problems.append(f"session {i}: {err}")
                continue
            if set(maps) != set(expected[i][0]) or not all(torch.equal(maps[k], expected[i][0][k]) for k in maps):
                problems.append(f"session {i}: another session's feature maps")
            if not np.allclose(cam, expected[i][1], atol=1e-5):
                problems.append(f"session {i}: another session's Grad-CAM")

    threads = [threading.Thread(target=student, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not problems, f"{len(problems)} mixed results, e.g. {problems[:3]}"
