"""SCADA adapters: field protocols (MQTT, Modbus TCP) read into the same ingest path as the API.

Each adapter is a component (``core.component.Component``) configured by the YAML file named in
``FLEETLIGHT_SCADA_CONFIG`` (:mod:`scada.config`); ``docs/scada.md`` describes the file.
"""
