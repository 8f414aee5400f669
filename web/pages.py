"""The HTML pages: the drawing page and the about page (the stats page is /stats, negotiated in api)."""

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/about")
def about():
    return render_template("about.html")
