"""The book's own build steps: its table of contents as data, and the learner's notebooks."""
