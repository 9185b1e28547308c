"""WoundNet training and held-out evaluation (FUSeg); never imported by the action server."""
