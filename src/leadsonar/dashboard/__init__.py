"""The browser dashboard: static pages served at ``/app`` that call the same JSON API."""
