"""The fleet domain: the one definition of each fleet fact every layer takes from here.

Status (:mod:`domain.status`), which asset kinds generate or only meter (:mod:`domain.kinds`),
energy integration (:mod:`domain.energy`), expected output (:mod:`domain.expected`), KPIs and
their formatting (:mod:`domain.kpis`), event kinds (:mod:`domain.events`). Nothing here imports
the web, live or store layers; thresholds come from :mod:`core.settings`.
"""
