"""Prediction of unseen combinations and latent traversals."""
