"""The WSGI entry point: `gunicorn app:app`, or `python app.py` for a development server on $PORT."""
import os

from web import create_app

app = create_app()

if __name__ == "__main__":
    # debug=False always: the interactive debugger runs code for whoever can reach it, even with FLASK_DEBUG=1
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")), debug=False)
