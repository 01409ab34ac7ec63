"""MichiGAN reproduction pipeline."""
