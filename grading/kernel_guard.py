"""Kernel side of ``GuardedExecute`` (grading/nbgrader_ext.py): the code the grader runs in a
student's kernel, before the first cell and before each test cell. It is sent as text, never imported
by the grader.

``make_guard`` runs before any cell of the submission. It remembers what an answer cell could later
hook into the kernel and returns ``reset``, which puts all of it back: IPython's input and AST
transformers, event callbacks and custom exception handler, methods replaced on the shell, the kernel
or the output streams, ``sys.settrace``/``sys.setprofile``, ``sys.stdout``/``sys.excepthook``,
``sys.modules``/``sys.meta_path``/``sys.path``, the functions of ``builtins``, ``sys``, ``os``,
``importlib``, NumPy and ``dgm``, builtins hidden by a function of the same name, and ``dgm.checks``
(loaded again from its file). ``reset`` returns a token that proves it ran to its end; ``reset.done``
is the grader's last line of each test cell, and ``reset.result`` returns the other token only when
that line ran. The grader calls ``reset`` and ``reset.result`` as the ``user_expressions`` of an
execute request, which IPython evaluates without input transformers and answers on the shell channel
(not through the output streams, which a huge output can hold up).

Everything ``reset`` uses is held in its closure, taken before any student code ran: an answer cell
that replaces ``print``, ``sys.stdout``, ``hasattr`` or ``importlib`` cannot change what it does.
The tokens are fresh for each run and are never in a cell's source. What stays possible in a kernel
that runs student code (README, "Instructors"): code that digs the closure out with introspection, or replaces the
interpreter itself (``ctypes``), can still forge a verdict; ``grading/check.py`` names answers that
reach for those tools.
"""


def make_guard(reset_token, end_token):  # noqa: C901 (one closure: its parts share what it captured)
    import builtins
    import importlib
    import importlib.machinery
    import importlib.util
    import linecache
    import os
    import sys
    import threading

    import numpy
    import numpy.testing

    import dgm
    import dgm.checks

    shell = get_ipython()  # noqa: F821 (the kernel's own)
    pristine_builtins = dict(vars(builtins))
    watched = [builtins, sys, os, importlib, importlib.util, importlib.machinery, numpy, numpy.testing, dgm]
    module_callables = [(m, {k: v for k, v in vars(m).items() if callable(v)}) for m in watched]
    modules = dict(sys.modules)
    sys_values = {k: getattr(sys, k) for k in ("stdout", "stderr", "excepthook", "displayhook", "breakpointhook")}
    meta_path, path_hooks, sys_path = list(sys.meta_path), list(sys.path_hooks), list(sys.path)
    checks_file = dgm.checks.__file__
    stream = sys.stdout
    settrace, setprofile = sys.settrace, sys.setprofile
    thread_settrace, thread_setprofile = threading.settrace, threading.setprofile
    objects = [shell, shell.kernel, stream, sys.stderr, shell.input_transformer_manager, shell.events]
    instance_values = [(o, dict(vars(o))) for o in objects]
    loaders = [importlib.machinery.SourceFileLoader, importlib.machinery.FileFinder, importlib.machinery.PathFinder]
    classes = {c for o in [*objects, *meta_path] for c in type(o).__mro__ if c is not object} | set(loaders)
    kinds = (staticmethod, classmethod, property)
    class_callables = [(c, {k: v for k, v in vars(c).items() if callable(v) or isinstance(v, kinds)}) for c in classes]
    manager = shell.input_transformer_manager
    # (shell.input_transformers_cleanup is the manager's cleanup_transforms)
    lists = [
        (shell, "input_transformers_post"),
        (shell, "ast_transformers"),
        (manager, "cleanup_transforms"),
        (manager, "line_transforms"),
        (manager, "token_transformers"),
    ]
    list_values = [(o, attr, list(getattr(o, attr))) for o, attr in lists]
    callbacks = {event: list(functions) for event, functions in shell.events.callbacks.items()}
    custom_tb, events = shell.CustomTB, shell.events
    # Names the closure calls: its globals are the student's namespace, so nothing is looked up there.
    type_, vars_, list_, callable_, getattr_, setattr_, delattr_, hasattr_ = (
        type,
        vars,
        list,
        callable,
        getattr,
        setattr,
        delattr,
        hasattr,
    )
    from_file, from_spec = importlib.util.spec_from_file_location, importlib.util.module_from_spec

    finished = {}

    def reset():
        settrace(None)
        setprofile(None)
        thread_settrace(None)
        thread_setprofile(None)
        vars_(builtins).update(pristine_builtins)
        for module, values in module_callables:
            for key, value in values.items():
                if vars_(module).get(key) is not value:
                    setattr_(module, key, value)
        for key, value in sys_values.items():
            setattr_(sys, key, value)
        for key, module in modules.items():
            if sys.modules.get(key) is not module:
                sys.modules[key] = module
        # Import finders added since: kept only when they come from a library (a file on disk that was
        # already imported), not from a notebook cell.
        added = [f for f in sys.meta_path if f not in meta_path]
        library = [f for f in added if type_(f).__module__ != "__main__" and type_(f).__module__ in modules]
        sys.meta_path[:] = meta_path + library
        sys.path_hooks[:] = path_hooks
        sys.path[:] = sys_path
        sys.path_importer_cache.clear()
        for cls, values in class_callables:
            for key, value in values.items():
                if vars_(cls).get(key) is not value:
                    setattr_(cls, key, value)
        for obj, values in instance_values:
            for key in list_(vars_(obj)):
                if key not in values and hasattr_(type_(obj), key) and callable_(getattr_(type_(obj), key)):
                    delattr_(obj, key)  # an instance attribute that hides a method of its class
            for key, value in values.items():
                if callable_(value) and vars_(obj).get(key) is not value:
                    vars_(obj)[key] = value
        shell.events = events
        for obj, attr, value in list_values:
            setattr_(obj, attr, list_(value))
        shell.input_transformer_manager = manager
        events.callbacks = {event: list_(functions) for event, functions in callbacks.items()}
        shell.custom_exceptions, shell.CustomTB = (), custom_tb
        namespace = shell.user_ns
        namespace["__builtins__"] = builtins
        hiding = [k for k, v in namespace.items() if k in pristine_builtins and callable_(v)]
        for key in hiding:
            if namespace[key] is not pristine_builtins[key]:
                del namespace[key]  # a function that hides a builtin a test cell may call
        spec = from_file("dgm.checks", checks_file)
        checks = from_spec(spec)
        spec.loader.exec_module(checks)
        sys.modules["dgm.checks"] = checks
        setattr_(dgm, "checks", checks)
        finished.clear()
        return reset_token

    def done():
        finished["test"] = True  # the grader's last line of a test cell: it ran

    def result():
        return end_token if finished.pop("test", False) else ""

    reset.done, reset.result = done, result
    for key in [k for k, v in linecache.cache.items() if reset_token in "".join(v[2] if len(v) > 2 else [])]:
        del linecache.cache[key]  # the call that passed the tokens is not left where a cell could read it
    return reset
