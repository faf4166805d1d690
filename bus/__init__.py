"""The message bus: one interface (:class:`bus.base.MessageBus`), an in-process backend by default."""
from bus.base import DeliveryFailed, MessageBus
from bus.inprocess import InProcessBus

__all__ = ["DeliveryFailed", "InProcessBus", "MessageBus", "make_bus"]


def make_bus(settings, db):
    """Return the bus selected by ``settings.bus_backend`` (in-process unless configured otherwise)."""
    if settings.bus_backend == "rabbitmq":
        from bus.rabbitmq import RabbitMQBus  # imported lazily: optional deployment backend

        return RabbitMQBus(settings.rabbitmq_url, db)
    return InProcessBus(db)
