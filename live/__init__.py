"""Live data: the Socket.IO hub, the live state, prices pushed to the markets room, physics."""
