# Everything a user or CI runs goes through these targets; the README names them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The stamp is rebuilt whenever the package's dependencies change.
STAMP  := $(VENV)/.installed-stamp

.PHONY: classroom chp lab test test-fast bench scan mutate mutate-core html release grade report clean-notebooks clean help

help:
	@echo "make lab     create .venv, install the course and its kernel, open JupyterLab on the lessons"
	@echo "make test    run the whole test suite (package, notebooks, grader, browser)"
	@echo "make bench   print the benchmark figures"
	@echo "make scan    grade the solutions and planted mistakes under many seeds (SEEDS=50)"
	@echo "make mutate  mutation score of the graded assignments (every mutant of every solution)"
	@echo "make mutate-core   mutation score of the teaching core's tests (MUTATE_ARGS=\"--sample 30\")"
	@echo "make html    execute the lessons and render them to _build/html"
	@echo "make release A=ps1_schedules   release an assignment of the course in autograder/"
	@echo "make grade   A=ps1_schedules   grade everything submitted for it (sandboxed)"
	@echo "make report  A=ps1_schedules   grade distribution and pass rate per test"
	@echo "make classroom   a demo JupyterHub class on 127.0.0.1 (hub, students, exchange, formgrader, PostgreSQL)"

# The lessons' kernel runs OpenBLAS on one thread: their matrices are small (at most a few
# thousand rows), and on a busy machine (CI, a shared hub, two cores) a second BLAS thread waits
# for a core and makes each product slower (lessons 01 and 07: 19 s with one thread, 37-45 s
# without, at a load average of 2); benchmarks/bench_notebooks.py prints the kernel's setting.
# Its malloc keeps freed arrays of up to 32 MB for reuse (mallopt(3): M_MMAP_THRESHOLD and
# M_TRIM_THRESHOLD) instead of handing each back to the system and faulting fresh zeroed pages
# in for the next: a Hessian-vector product of the digits network makes about fifteen 280 KB
# temporaries, and lesson 01 took 198,000 page faults and 8.5 s of CPU with glibc's defaults,
# 24,000 and 6.5 s with these two settings (the other lessons are unchanged).
$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("lr-course needs Python 3.10 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 10) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (lr-course)" \
		--env OPENBLAS_NUM_THREADS 1 --env MALLOC_MMAP_THRESHOLD_ 33554432 \
		--env MALLOC_TRIM_THRESHOLD_ 134217728 > /dev/null
	touch $(STAMP)

# Jupyter refuses to start as root unless told; containers and CI machines often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

# One BLAS thread per process: the suite runs notebooks, kernels and grading workers side by side
# on two cores, and oversubscribed BLAS threads make small matrix products 5-10x slower.
test test-fast: export OPENBLAS_NUM_THREADS = 1
test test-fast: export OMP_NUM_THREADS = 1

# The classroom test needs JupyterHub's proxy: installed here when npm is at hand (else that
# test is skipped outside CI, and .ci/run installs npm first).
test: $(STAMP)
	@if [ ! -x $(CHP) ] && command -v npm > /dev/null; then $(MAKE) --no-print-directory chp; fi
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser"

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

SEEDS ?= 50
scan: $(STAMP)
	$(BIN)/python tools/scan_mistakes.py --seeds $(SEEDS)

# Every mutant of every solution of autograder/source, graded against the untouched solution
# (about four minutes on 2 cores); exits 1 below a 99% score.
mutate: export OPENBLAS_NUM_THREADS = 1
mutate: export OMP_NUM_THREADS = 1
mutate: $(STAMP)
	$(BIN)/python tools/mutate_solutions.py

# Every mutant of the teaching core against its module's tests; an hour or more on 2 cores, so
# MUTATE_ARGS="--sample 30" draws 30 per module (seeded) for a quicker estimate.
MUTATE_ARGS ?=
mutate-core: export OPENBLAS_NUM_THREADS = 1
mutate-core: export OMP_NUM_THREADS = 1
mutate-core: $(STAMP)
	$(BIN)/python tools/mutants.py --workers 2 $(MUTATE_ARGS)

# MathJax is copied into _build/html/mathjax and loaded from there, so the pages show their
# equations with no network; without widget state the explorers' static PNGs are embedded.
html: $(STAMP)
	$(BIN)/python tools/build_html.py --output-dir _build/html

# The instructor's one-liners, on the course in autograder/ (any nbgrader course: COURSE=dir).
COURSE ?= autograder
release grade report: $(STAMP)
	@test -n "$(A)" || { echo "say which assignment: make $@ A=ps1_schedules"; exit 2; }
	$(BIN)/lr-course $@ $(A) --course $(COURSE)

clean-notebooks: $(STAMP)
	$(BIN)/python tools/strip_notebooks.py

clean:
	rm -rf $(VENV) _build .pytest_cache .hypothesis

# JupyterHub's proxy is a Node.js program (npm's configurable-http-proxy); it goes into the
# venv so that nothing is installed system-wide and `make clean` removes it.
CHP := $(VENV)/chp/node_modules/.bin/configurable-http-proxy
chp: $(CHP)
$(CHP):
	@command -v npm > /dev/null || { echo "make chp needs npm (Debian: apt-get install nodejs npm)"; exit 2; }
	mkdir -p $(VENV)/chp
	npm install --silent --no-audit --no-fund --prefix $(VENV)/chp configurable-http-proxy@5

# A demo class on JupyterHub (classroom/README.md): Ctrl-C stops everything it started.
CLASSROOM_ARGS ?=
classroom: $(STAMP) $(CHP)
	$(BIN)/python classroom/hub.py $(CLASSROOM_ARGS)
