"""gunicorn's settings, read from the environment as Heroku sets it: `gunicorn app:app` needs no flags."""

import os

# Heroku routes to $PORT on every interface; without it (a machine of one's own) only this machine may connect.
bind = [f"0.0.0.0:{os.environ['PORT']}"] if "PORT" in os.environ else ["127.0.0.1:5000"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads, so that a worker reads drawings while its corrections wait for the learning thread (see
# recognizer/learning/group.py) and so that the corrections queued meanwhile are learned as one group.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 60
# A kept-alive connection stays open this long between requests: longer than a busy client leaves one idle in
# its pool, so the server never closes one just as the client sends on it (a reset the client would not retry).
keepalive = 75
