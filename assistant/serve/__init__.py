"""The faces: the one composition root (app), the command line, the JSON API, the page's HTML and server, the
answer cache."""
