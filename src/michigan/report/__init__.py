"""Results next to the paper's: published values, comparison tables and figures."""
