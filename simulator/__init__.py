"""The built-in simulator: replays the demo fleet's real-data models onto the current clock.

:class:`simulator.runner.Simulator` feeds telemetry through ``IngestService.submit_points``, the
same bus -> store path that real devices use.
"""
