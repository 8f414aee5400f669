"""The WSGI entry point: `gunicorn app:app`, or `python app.py` for a development server on $PORT."""

import os

# One BLAS thread per worker, set before numpy loads: the models' small matrix products gain nothing from more,
# and several workers each spinning several threads on few cores made every /train three to four times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from web import create_app  # noqa: E402

app = create_app()

if __name__ == "__main__":
    # debug=False always: the interactive debugger runs code for whoever can reach it, even with FLASK_DEBUG=1
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")), debug=False)
