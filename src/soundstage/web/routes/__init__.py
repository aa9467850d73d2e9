"""The review room's routes: the JSON API, the HTML pages, media, and client links."""
