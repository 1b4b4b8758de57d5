"""Gymnasium environments on flowlearn's solvers. Importing this package registers them:

- ``flowlearn/CylinderJets-v0``: jets on a cylinder in the Schäfer–Turek channel at Re 100
  (:class:`flowlearn.envs.cylinder_jets.CylinderJetsEnv`), after Rabault et al. (JFM 2019).
"""

import gymnasium as gym

from flowlearn.envs.cylinder_jets import CylinderJetsEnv, probe_points

ENV_ID = "flowlearn/CylinderJets-v0"

if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="flowlearn.envs.cylinder_jets:CylinderJetsEnv")

__all__ = ["ENV_ID", "CylinderJetsEnv", "probe_points"]
