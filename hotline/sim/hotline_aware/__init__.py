"""The only part of the simulator that knows hotline itself.

Everything else talks to the app under test as Twilio would. This package builds a fresh hotline app
per call (``target``), reads hotline's flow files and its event trail through the API, and follows
the trail through the flow for coverage (``trails``, ``flow_trace``, ``coverage``).
"""
