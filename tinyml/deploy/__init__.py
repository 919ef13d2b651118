"""``tinyml deploy``: data -> train -> quantize -> generate -> build -> flash -> bench -> validate."""
