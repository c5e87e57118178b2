"""The web application: pages for people (the practitioner pages come with issue 4)."""
