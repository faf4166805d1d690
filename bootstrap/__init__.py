"""The composition root: the only package that knows every feature.

``build(settings, role)`` returns the typed :class:`bootstrap.services.Services` of a process role
(web, worker, cli, test); ``start``/``stop`` run the components' lifecycle; ``bootstrap.web``
builds the Dash app, ``bootstrap.worker`` the store worker, ``bootstrap.cli`` the Flask commands.
"""
