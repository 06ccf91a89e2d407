"""Helpers shared by the tests (not tests themselves): fixtures' building blocks, the registry
checker, the browser and fidelity harnesses. Test files import from here, never from each other;
framework imports stay inside functions so that collecting a test file imports no framework."""
