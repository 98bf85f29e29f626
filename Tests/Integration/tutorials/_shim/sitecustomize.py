"""Point the unchanged RabbitMQ tutorial scripts at the broker under test.

The tutorials connect to pika.ConnectionParameters(host='localhost') on the default port.
When AOP_TUTORIAL_PORT is set, parameters built for localhost:5672 are redirected to
127.0.0.1:$AOP_TUTORIAL_PORT. Nothing else is changed.
"""
import os

_port = os.environ.get("AOP_TUTORIAL_PORT")
if _port:
    import pika

    _orig_init = pika.ConnectionParameters.__init__

    def _init(self, *args, **kwargs):
        _orig_init(self, *args, **kwargs)
        if self.host == "localhost":
            self.host = "127.0.0.1"
        if self.port == 5672:
            self.port = int(_port)

    pika.ConnectionParameters.__init__ = _init
