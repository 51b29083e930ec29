"""A stand-in for Colab's `google.colab` package, for the Colab simulation test (tests/test_colab.py).

The book's chapters only ask whether it is imported (`"google.colab" in sys.modules`), as Colab's
kernels do at start-up; the test's IPython start-up file imports it.
"""
