"""The instructor's tooling: the course's source format, the build's settings, and grading a class.

One module per step of grading (``python -m grading --help`` lists them): ``release``, ``collect``,
``check``, ``autograde`` (with ``sandbox``), ``feedback``, ``report``. ``settings`` holds every setting;
``markers`` the cell markers of the text twins; ``nbgrader_ext`` the preprocessors nbgrader_config.py
registers; ``course`` a temporary course for the tests and the benchmark. Students never need it.
"""
