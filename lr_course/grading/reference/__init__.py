"""Reference implementations of the graded API; imported only by the judging side."""
