"""Runs the tests like `python3 -m unittest discover`, then prints "N passed, M failed" and exits 1 on failure."""

import sys
import unittest

suite = unittest.defaultTestLoader.discover("tests", top_level_dir=".")
result = unittest.TextTestRunner(verbosity=2).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
passed = result.testsRun - failed - len(result.skipped)
print("%d passed, %d failed" % (passed, failed))
sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)
